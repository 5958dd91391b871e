package registry

import (
	"mime"
	"strings"
	"testing"
)

// parsedAccepts is accepts as it was written first, parsing every part:
// the reference the fast path is held to.
func parsedAccepts(values []string, mt string) bool {
	namesManifest := false
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			t, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch {
			case t == mt || t == "*/*" || t == "application/*":
				return true
			case knownManifestType(t):
				namesManifest = true
			}
		}
	}
	return !namesManifest
}

const ociManifest = "application/vnd.oci.image.manifest.v1+json"

func TestAccepts(t *testing.T) {
	for _, accept := range []string{
		"", ociManifest, "application/vnd.oci.image.index.v1+json",
		"application/vnd.docker.distribution.manifest.v2+json, " + ociManifest,
		"application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json",
		"Application/VND.OCI.Image.Manifest.v1+JSON", ociManifest + "; q=0.9", "*/*", "application/*", "text/html",
		"application/vnd.oci.image.index.v1+json; q=0.5, */*;q=0.1", "bogus", "a/b/c", " " + ociManifest + " ",
		"application/vnd.oci.image.index.v1+json;;", ",,", ociManifest + "x",
	} {
		for _, mt := range []string{ociManifest, "application/vnd.docker.distribution.manifest.v2+json"} {
			if got, want := accepts([]string{accept}, mt), parsedAccepts([]string{accept}, mt); got != want {
				t.Errorf("accepts(%q, %s) = %v, want %v", accept, mt, got, want)
			}
		}
	}
}

func FuzzAccepts(f *testing.F) {
	f.Add(ociManifest + ", */*;q=0.1")
	f.Add("Application/Vnd.Oci.Image.Index.V1+Json")
	f.Fuzz(func(t *testing.T, accept string) {
		if got, want := accepts([]string{accept}, ociManifest), parsedAccepts([]string{accept}, ociManifest); got != want {
			t.Fatalf("accepts(%q) = %v, want %v", accept, got, want)
		}
	})
}
