package registry_test

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/chainctl/chainctl/internal/registry"
)

// host returns the registry's host:port, which ggcr treats as plain HTTP.
func host(t *testing.T, opts ...registry.Option) string {
	return strings.TrimPrefix(newServer(t, opts...).URL, "http://")
}

func TestRoundTripImage(t *testing.T) {
	h := host(t)
	img, err := random.Image(64<<10, 4)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(h + "/team/app:v1")
	if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("remote.Write: %v", err)
	}
	got, err := remote.Image(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("remote.Image: %v", err)
	}
	wantDigest, _ := img.Digest()
	gotDigest, _ := got.Digest()
	if gotDigest != wantDigest {
		t.Fatalf("pulled digest %s, want %s", gotDigest, wantDigest)
	}
	layers, _ := got.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		// Reading through verifies the digest (ggcr checks it at EOF).
		buf := make([]byte, 32<<10)
		for {
			if _, err := rc.Read(buf); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("read layer %s: %v", d, err)
				}
				break
			}
		}
		rc.Close()
	}
	// Copy to another repository: ggcr mounts the blobs.
	ref2, _ := name.ParseReference(h + "/team/copy:v1")
	if err := remote.Write(ref2, got, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("copy: %v", err)
	}
	tags, err := remote.List(ref2.Context(), remote.WithContext(t.Context()))
	if err != nil || len(tags) != 1 || tags[0] != "v1" {
		t.Fatalf("List = %v, %v", tags, err)
	}
}

func TestRoundTripIndexAndReferrer(t *testing.T) {
	h := host(t)
	var idx v1.ImageIndex = empty.Index
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}} {
		img, err := random.Image(32<<10, 2)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	ref, _ := name.ParseReference(h + "/multi:latest")
	if err := remote.WriteIndex(ref, idx, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("WriteIndex: %v", err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}), remote.WithContext(t.Context()))
		if err != nil {
			t.Fatalf("pull %s: %v", arch, err)
		}
		if _, err := img.RawConfigFile(); err != nil {
			t.Fatalf("config %s: %v", arch, err)
		}
	}
	// Attach a referrer to the index and find it through the referrers API.
	idxDesc, err := remote.Head(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	sig := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	sig = mutate.ConfigMediaType(sig, "application/vnd.example.signature")
	sig, err = mutate.Append(sig, mutate.Addendum{Layer: static.NewLayer([]byte("sig"), "application/vnd.example.sig.layer")})
	if err != nil {
		t.Fatal(err)
	}
	sig = mutate.Subject(sig, *idxDesc).(v1.Image)
	sigDigest, _ := sig.Digest()
	sigRef, _ := name.ParseReference(h + "/multi@" + sigDigest.String())
	if err := remote.Write(sigRef, sig, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("write referrer: %v", err)
	}
	refs, err := remote.Referrers(ref.Context().Digest(idxDesc.Digest.String()), remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("Referrers: %v", err)
	}
	im, _ := refs.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != sigDigest || im.Manifests[0].ArtifactType != "application/vnd.example.signature" {
		t.Fatalf("referrers = %+v, want %s", im.Manifests, sigDigest)
	}
	filtered, err := remote.Referrers(ref.Context().Digest(idxDesc.Digest.String()), remote.WithContext(t.Context()),
		remote.WithFilter("artifactType", "application/other"))
	if err != nil {
		t.Fatal(err)
	}
	if im, _ := filtered.IndexManifest(); len(im.Manifests) != 0 {
		t.Fatalf("filtered referrers = %+v, want none", im.Manifests)
	}
}
