package storetest

import (
	"cmp"
	"maps"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

func testTags(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "team/app"
	m := newManifest(repo, "m", manifestOpts{})
	// Pushed out of order. Lexical means byte order:
	// '-' (0x2d) < '.' < '1' < 'L' < '_' (0x5f) < 'l' < 'v'.
	for _, tag := range []string{"v2", "v1.0", "latest", "_x", "1", "v1-0", "Latest", "v10"} {
		put(t, s, m, tag)
	}
	put(t, s, newManifest("team/other", "o", manifestOpts{}), "other")
	all := []string{"1", "Latest", "_x", "latest", "v1-0", "v1.0", "v10", "v2"}

	tests := []struct {
		name string
		last string
		n    int
		want []string
	}{
		{name: "all", n: 100, want: all},
		{name: "exactly n", n: len(all), want: all},
		{name: "first page", n: 3, want: all[:3]},
		{name: "next page", last: "_x", n: 3, want: all[3:6]},
		{name: "last page", last: "v1.0", n: 3, want: all[6:]},
		{name: "last is the last tag", last: "v2", n: 3, want: []string{}},
		{name: "last is not a tag", last: "m", n: 2, want: []string{"v1-0", "v1.0"}},
		{name: "last before every tag", last: "0", n: 1, want: []string{"1"}},
		{name: "n zero", n: 0, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Tags(ctx, repo, tt.last, tt.n)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Tags(%s, %q, %d) = %q, %v, want %q, nil", repo, tt.last, tt.n, got, err, tt.want)
			}
		})
	}

	// Paging with n=1 visits every tag once, in order.
	var paged []string
	for last := ""; ; {
		page, err := s.Tags(ctx, repo, last, 1)
		if err != nil {
			t.Fatalf("Tags(%q, 1) = %v", last, err)
		}
		if len(page) == 0 {
			break
		}
		if len(paged) > len(all) {
			t.Fatalf("paging does not end: %q", paged)
		}
		paged = append(paged, page...)
		last = page[len(page)-1]
	}
	if !slices.Equal(paged, all) {
		t.Errorf("Tags paged one by one = %q, want %q", paged, all)
	}

	for _, repo := range []string{"nobody", "team", "team/app/sub"} {
		_, err := s.Tags(ctx, repo, "", 10)
		wantNotFound(t, "Tags("+repo+")", err)
	}
}

// testTagsEmpty covers repositories that exist but have no tags: they list
// an empty page, not ErrNotFound. A repository exists once it has a blob
// link, manifest or tag.
func testTagsEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	link(t, s, "blobs-only", digest.FromString("layer"), 1)
	put(t, s, newManifest("untagged", "m", manifestOpts{}), "")
	put(t, s, newManifest("detagged", "m", manifestOpts{}), "gone")
	if err := s.DeleteTag(ctx, "detagged", "gone"); err != nil {
		t.Fatalf("DeleteTag(detagged, gone) = %v", err)
	}
	for _, repo := range []string{"blobs-only", "untagged", "detagged"} {
		got, err := s.Tags(ctx, repo, "", 10)
		if err != nil || len(got) != 0 {
			t.Errorf("Tags(%s) = %q, %v, want [], nil", repo, got, err)
		}
	}
}

func testRepositories(t *testing.T, s store.Store) {
	ctx := t.Context()
	put(t, s, newManifest("a/x", "m", manifestOpts{}), "latest")
	put(t, s, newManifest("a-x", "m", manifestOpts{}), "")
	link(t, s, "b", digest.FromString("layer"), 1)
	put(t, s, newManifest("c/d/e", "m", manifestOpts{}), "")
	link(t, s, "c/d/e", digest.FromString("layer"), 1)

	// Repositories that held something once but hold nothing now, and one
	// that only ever had an upload, are not listed.
	link(t, s, "unlinked", digest.FromString("gone"), 1)
	if err := s.UnlinkBlob(ctx, "unlinked", digest.FromString("gone")); err != nil {
		t.Fatalf("UnlinkBlob(unlinked) = %v", err)
	}
	deleted := newManifest("deleted", "m", manifestOpts{})
	put(t, s, deleted, "latest")
	if err := s.DeleteManifest(ctx, "deleted", deleted.Digest); err != nil {
		t.Fatalf("DeleteManifest(deleted) = %v", err)
	}
	if err := s.CreateUpload(ctx, store.Upload{ID: "u1", Repository: "upload-only"}, store.UploadCaps{}); err != nil {
		t.Fatalf("CreateUpload(upload-only) = %v", err)
	}

	all := []string{"a-x", "a/x", "b", "c/d/e"} // '-' < '/'
	tests := []struct {
		name string
		last string
		n    int
		want []string
	}{
		{name: "all", n: 100, want: all},
		{name: "first page", n: 2, want: all[:2]},
		{name: "next page", last: "a/x", n: 2, want: all[2:]},
		{name: "last is not a repository", last: "a", n: 1, want: []string{"a-x"}},
		{name: "past the end", last: "c/d/e", n: 10, want: []string{}},
		{name: "n zero", n: 0, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Repositories(ctx, tt.last, tt.n)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Repositories(%q, %d) = %q, %v, want %q, nil", tt.last, tt.n, got, err, tt.want)
			}
		})
	}
}

func testReferrers(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "team/app"
	// The subject need not exist: the spec lets a referrer be pushed
	// before its subject.
	subject := digest.FromString("subject manifest")
	otherSubject := digest.FromString("other subject")

	sbom1 := newManifest(repo, "sbom 1", manifestOpts{
		artifactType: artifactSBOM,
		subject:      subject,
		annotations:  map[string]string{"org.opencontainers.image.created": "2025-06-01T00:00:00Z", "unicode": "héllo ✓"},
	})
	sbom2 := newManifest(repo, "sbom 2", manifestOpts{artifactType: artifactSBOM, subject: subject})
	sig := newManifest(repo, "sig", manifestOpts{
		mediaType:    mediaTypeIndex,
		artifactType: artifactSignature,
		subject:      subject,
		annotations:  map[string]string{"signer": "ci"},
	})
	unrelated := newManifest(repo, "unrelated", manifestOpts{artifactType: artifactSBOM, subject: otherSubject})
	plain := newManifest(repo, "no subject", manifestOpts{artifactType: artifactSBOM})
	elsewhere := newManifest("team/other", "elsewhere", manifestOpts{artifactType: artifactSBOM, subject: subject})
	for _, m := range []*store.Manifest{sbom1, sbom2, sig, unrelated, plain, elsewhere} {
		put(t, s, m, "")
	}

	byDigest := func(ms ...*store.Manifest) []store.Descriptor {
		ds := make([]store.Descriptor, 0, len(ms))
		for _, m := range ms {
			ds = append(ds, store.Descriptor{
				MediaType:    m.MediaType,
				ArtifactType: m.ArtifactType,
				Digest:       m.Digest,
				Size:         m.Size,
				Annotations:  m.Annotations,
			})
		}
		slices.SortFunc(ds, func(a, b store.Descriptor) int { return cmp.Compare(a.Digest, b.Digest) })
		return ds
	}

	tests := []struct {
		name         string
		repo         string
		subject      digest.Digest
		artifactType string
		want         []store.Descriptor
	}{
		{name: "all", repo: repo, subject: subject, want: byDigest(sbom1, sbom2, sig)},
		{name: "filtered", repo: repo, subject: subject, artifactType: artifactSBOM, want: byDigest(sbom1, sbom2)},
		{name: "filter matches one", repo: repo, subject: subject, artifactType: artifactSignature, want: byDigest(sig)},
		{name: "filter matches none", repo: repo, subject: subject, artifactType: "application/none", want: nil},
		{name: "other subject", repo: repo, subject: otherSubject, want: byDigest(unrelated)},
		{name: "other repository", repo: "team/other", subject: subject, want: byDigest(elsewhere)},
		{name: "unknown subject", repo: repo, subject: digest.FromString("nothing"), want: nil},
		{name: "unknown repository", repo: "nobody", subject: subject, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Referrers(ctx, tt.repo, tt.subject, tt.artifactType)
			if err != nil || !equalDescriptors(got, tt.want) {
				t.Errorf("Referrers(%s, %s, %q) = %+v, %v, want %+v, nil", tt.repo, tt.subject, tt.artifactType, got, err, tt.want)
			}
		})
	}

	if err := s.DeleteManifest(ctx, repo, sbom1.Digest); err != nil {
		t.Fatalf("DeleteManifest(sbom1) = %v", err)
	}
	want := byDigest(sbom2, sig)
	if got, err := s.Referrers(ctx, repo, subject, ""); err != nil || !equalDescriptors(got, want) {
		t.Errorf("Referrers after deleting one = %+v, %v, want %+v, nil", got, err, want)
	}
}

// equalDescriptors compares in order; nil and empty annotations are equal.
func equalDescriptors(got, want []store.Descriptor) bool {
	return slices.EqualFunc(got, want, func(g, w store.Descriptor) bool {
		return g.MediaType == w.MediaType && g.ArtifactType == w.ArtifactType &&
			g.Digest == w.Digest && g.Size == w.Size && maps.Equal(g.Annotations, w.Annotations)
	})
}
