package registry

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/policy"
)

// The seed corpora below run as ordinary tests; `go test -fuzz FuzzX`
// explores beyond them. Each target checks properties, not just "no panic".

func FuzzRepositoryName(f *testing.F) {
	for _, s := range []string{"library/alpine", "a", "a/b/c", "a__b", "a--b", "a.b", "", "A", "a/", "/a", "a//b",
		"a_.b", "a___b", "-a", "a-", "..", "a/../b", strings.Repeat("a", 256), "ä", "a b", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := policy.CheckRepository(name)
		if err != nil {
			return
		}
		// A valid name is safe to embed in storage keys and URLs.
		if len(name) > 255 || strings.Contains(name, "..") || strings.HasPrefix(name, "/") ||
			strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
			t.Fatalf("CheckRepository(%q) accepted an unsafe name", name)
		}
		for _, c := range []byte(name) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
				t.Fatalf("CheckRepository(%q) accepted byte %q", name, c)
			}
		}
	})
}

func FuzzReference(f *testing.F) {
	for _, s := range []string{"latest", "v1.0.0", "_x", ".x", "-x", strings.Repeat("t", 128), strings.Repeat("t", 129),
		"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), "sha512:" + strings.Repeat("0", 128),
		"md5:abc", "sha256:", ":", "a:b", "../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := parseReference(s)
		if err != nil {
			return
		}
		if (ref.tag == "") == (ref.digest == "") {
			t.Fatalf("parseReference(%q) = %+v, want exactly one of tag or digest", s, ref)
		}
		if ref.String() != s {
			t.Fatalf("parseReference(%q).String() = %q", s, ref.String())
		}
		if strings.ContainsAny(s, "/\\") {
			t.Fatalf("parseReference(%q) accepted a path separator", s)
		}
	})
}

func FuzzDigest(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("a", 64), "sha512:" + strings.Repeat("f", 128),
		"sha256:" + strings.Repeat("a", 63), "sha384:" + strings.Repeat("a", 96), "sha256:../../etc/passwd", "sha256", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDigest(s)
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("parseDigest(%q) accepted a digest go-digest rejects: %v", s, err)
		}
		if strings.ContainsAny(s, "/\\.") {
			t.Fatalf("parseDigest(%q) accepted a path character", s)
		}
	})
}

func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"0-0", "0-99", "100-199", "bytes 0-9/10", "bytes=0-9", "9-0", "-1-2", "a-b", "", "0-",
		"99999999999999999999-1", " 1-2 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, err := parseContentRange(s)
		if err != nil {
			return
		}
		if start < 0 || end < start {
			t.Fatalf("parseContentRange(%q) = %d, %d: want 0 <= start <= end", s, start, end)
		}
	})
}

func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=0-", "bytes=-5", "bytes=5-1", "bytes=0-1,2-3", "items=0-1", "bytes=100-"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		off, n, ok, err := parseRange(h, size)
		if err != nil || !ok {
			return
		}
		if off < 0 || n <= 0 || off+n > size {
			t.Fatalf("parseRange(%q, %d) = %d, %d: outside the blob", h, size, off, n)
		}
	})
}

func FuzzManifest(f *testing.F) {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	f.Add(mediaTypeOCIManifest, `{"schemaVersion":2,"mediaType":"`+mediaTypeOCIManifest+`","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"`+d("a")+`","size":2},"layers":[{"mediaType":"x","digest":"`+d("b")+`","size":3}]}`)
	f.Add(mediaTypeOCIIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"`+mediaTypeOCIManifest+`","digest":"`+d("c")+`","size":3}]}`)
	f.Add("", `{"schemaVersion":2,"config":{"digest":"`+d("a")+`","size":1},"layers":[],"subject":{"digest":"`+d("e")+`","size":1}}`)
	f.Add(mediaTypeDockerManifest, `{"schemaVersion":1}`)
	f.Add("text/plain", `{}`)
	f.Add("", `not json`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		p, err := parseManifest(ct, []byte(body))
		if err != nil {
			return
		}
		if !knownManifestType(p.MediaType) {
			t.Fatalf("parseManifest accepted media type %q", p.MediaType)
		}
		for _, dg := range append(append([]string{}, digestsToStrings(p.Blobs)...), digestsToStrings(p.Children)...) {
			if _, err := parseDigest(dg); err != nil {
				t.Fatalf("parseManifest returned an invalid reference %q", dg)
			}
		}
		if isIndexType(p.MediaType) && len(p.Blobs) > 0 {
			t.Fatalf("an index returned blob references")
		}
	})
}

func digestsToStrings(ds []digest.Digest) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d)
	}
	return out
}
