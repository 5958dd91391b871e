package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

func testPutManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "team/app"
	config := digest.FromString("config")
	layers := []digest.Digest{digest.FromString("layer 1"), digest.SHA512.FromString("layer 2")}
	v1 := newManifest(repo, "v1", manifestOpts{
		artifactType: mediaTypeConfig,
		annotations:  map[string]string{"org.opencontainers.image.version": "1", "empty": ""},
		blobs:        append([]digest.Digest{config}, layers...),
	})
	for _, d := range v1.Blobs {
		link(t, s, repo, d, 1)
	}
	v2 := newManifest(repo, "v2", manifestOpts{})
	index := newManifest(repo, "index", manifestOpts{
		mediaType: mediaTypeIndex,
		children:  []digest.Digest{v1.Digest, v2.Digest},
	})

	steps := []struct {
		name     string
		m        *store.Manifest
		tag      string
		previous digest.Digest
	}{
		{name: "new tag", m: v1, tag: "latest", previous: ""},
		{name: "retag", m: v2, tag: "latest", previous: v1.Digest},
		{name: "same tag same digest", m: v2, tag: "latest", previous: v2.Digest},
		{name: "put again without tag", m: v1, tag: "", previous: ""},
		{name: "second tag", m: v1, tag: "v1", previous: ""},
		{name: "index", m: index, tag: "multi", previous: ""},
	}
	for _, st := range steps {
		prev, err := s.PutManifest(ctx, st.m, st.tag)
		if err != nil || prev != st.previous {
			t.Fatalf("%s: PutManifest(%s, %q) = %q, %v, want %q, nil", st.name, st.m.Digest, st.tag, prev, err, st.previous)
		}
	}

	for _, want := range []*store.Manifest{v1, v2, index} {
		got, err := s.GetManifest(ctx, repo, want.Digest)
		if err != nil {
			t.Errorf("GetManifest(%s, %s) = %v", repo, want.Digest, err)
			continue
		}
		if d := diffManifest(got, want); d != "" {
			t.Errorf("GetManifest(%s, %s): %s", repo, want.Digest, d)
		}
	}

	tags := []struct {
		tag  string
		want digest.Digest // "": ErrNotFound
	}{
		{tag: "latest", want: v2.Digest},
		{tag: "v1", want: v1.Digest},
		{tag: "multi", want: index.Digest},
		{tag: "nope", want: ""},
		{tag: "Latest", want: ""}, // tags are case-sensitive
	}
	for _, tt := range tags {
		got, err := s.ResolveTag(ctx, repo, tt.tag)
		if tt.want == "" {
			wantNotFound(t, "ResolveTag("+tt.tag+")", err)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveTag(%s, %s) = %q, %v, want %q, nil", repo, tt.tag, got, err, tt.want)
		}
	}
	byDigest := map[digest.Digest]*store.Manifest{v1.Digest: v1, v2.Digest: v2, index.Digest: index}
	for _, tt := range tags {
		got, err := s.GetTaggedManifest(ctx, repo, tt.tag)
		if tt.want == "" {
			wantNotFound(t, "GetTaggedManifest("+tt.tag+")", err)
			continue
		}
		if err != nil {
			t.Errorf("GetTaggedManifest(%s, %s) = %v", repo, tt.tag, err)
			continue
		}
		if d := diffManifest(got, byDigest[tt.want]); d != "" {
			t.Errorf("GetTaggedManifest(%s, %s): %s", repo, tt.tag, d)
		}
	}
	wantNotFound(t, "GetTaggedManifest in another repository", func() error {
		_, err := s.GetTaggedManifest(ctx, "team/other", "latest")
		return err
	}())

	// A zero creation time means "now".
	before := time.Now().Add(-time.Minute)
	fresh := newManifest(repo, "fresh", manifestOpts{})
	fresh.Created = time.Time{}
	put(t, s, fresh, "")
	got, err := s.GetManifest(ctx, repo, fresh.Digest)
	if err != nil {
		t.Fatalf("GetManifest(fresh) = %v", err)
	}
	if got.Created.Before(before) || got.Created.After(time.Now().Add(time.Minute)) {
		t.Errorf("GetManifest(fresh).Created = %v, want about now", got.Created)
	}
	if got.Subject != "" || got.ArtifactType != "" || len(got.Annotations) != 0 || len(got.Blobs) != 0 {
		t.Errorf("GetManifest(fresh) = %+v, want no subject, artifact type, annotations or blobs", got)
	}
}

func testManifestIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	m := newManifest("team/app", "shared", manifestOpts{})
	put(t, s, m, "v1")

	_, err := s.GetManifest(ctx, "team/other", m.Digest)
	wantNotFound(t, "GetManifest from a repository that does not hold it", err)
	_, err = s.GetManifest(ctx, "team", m.Digest)
	wantNotFound(t, "GetManifest from a prefix of the repository", err)
	_, err = s.ResolveTag(ctx, "team/other", "v1")
	wantNotFound(t, "ResolveTag in another repository", err)
	_, err = s.GetManifest(ctx, "team/app", digest.FromString("missing"))
	wantNotFound(t, "GetManifest of an unknown digest", err)

	// The same manifest in a second repository is independent of the first.
	put(t, s, inRepo(m, "team/other"), "v2")
	if err := s.DeleteManifest(ctx, "team/app", m.Digest); err != nil {
		t.Fatalf("DeleteManifest(team/app) = %v", err)
	}
	if _, err := s.GetManifest(ctx, "team/other", m.Digest); err != nil {
		t.Errorf("GetManifest(team/other) after deleting it from team/app = %v, want nil", err)
	}
	if got, err := s.ResolveTag(ctx, "team/other", "v2"); err != nil || got != m.Digest {
		t.Errorf("ResolveTag(team/other, v2) = %q, %v, want %q, nil", got, err, m.Digest)
	}
}

func testDeleteManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "app"
	doomed := newManifest(repo, "doomed", manifestOpts{})
	kept := newManifest(repo, "kept", manifestOpts{})
	put(t, s, doomed, "a")
	put(t, s, doomed, "b")
	put(t, s, kept, "c")

	if err := s.DeleteManifest(ctx, repo, doomed.Digest); err != nil {
		t.Fatalf("DeleteManifest(%s) = %v", doomed.Digest, err)
	}
	_, err := s.GetManifest(ctx, repo, doomed.Digest)
	wantNotFound(t, "GetManifest after DeleteManifest", err)
	for _, tag := range []string{"a", "b"} {
		_, err := s.ResolveTag(ctx, repo, tag)
		wantNotFound(t, "ResolveTag("+tag+") after DeleteManifest", err)
	}
	if got, err := s.ResolveTag(ctx, repo, "c"); err != nil || got != kept.Digest {
		t.Errorf("ResolveTag(c) = %q, %v, want %q, nil", got, err, kept.Digest)
	}
	if got, err := s.Tags(ctx, repo, "", 10); err != nil || len(got) != 1 || got[0] != "c" {
		t.Errorf("Tags() after DeleteManifest = %q, %v, want [c], nil", got, err)
	}

	wantNotFound(t, "DeleteManifest twice", s.DeleteManifest(ctx, repo, doomed.Digest))
	wantNotFound(t, "DeleteManifest in unknown repository", s.DeleteManifest(ctx, "nobody", kept.Digest))

	// A deleted manifest can be pushed and tagged again.
	if prev := put(t, s, doomed, "a"); prev != "" {
		t.Errorf("PutManifest after delete returned previous %q, want \"\"", prev)
	}
	if got, err := s.ResolveTag(ctx, repo, "a"); err != nil || got != doomed.Digest {
		t.Errorf("ResolveTag(a) after re-push = %q, %v, want %q, nil", got, err, doomed.Digest)
	}
}

func testDeleteTag(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "app"
	m := newManifest(repo, "m", manifestOpts{})
	put(t, s, m, "a")
	put(t, s, m, "b")

	if err := s.DeleteTag(ctx, repo, "a"); err != nil {
		t.Fatalf("DeleteTag(a) = %v", err)
	}
	_, err := s.ResolveTag(ctx, repo, "a")
	wantNotFound(t, "ResolveTag after DeleteTag", err)
	if got, err := s.ResolveTag(ctx, repo, "b"); err != nil || got != m.Digest {
		t.Errorf("ResolveTag(b) = %q, %v, want %q, nil", got, err, m.Digest)
	}
	if _, err := s.GetManifest(ctx, repo, m.Digest); err != nil {
		t.Errorf("GetManifest after DeleteTag = %v, want nil (the manifest stays)", err)
	}
	wantNotFound(t, "DeleteTag twice", s.DeleteTag(ctx, repo, "a"))
	wantNotFound(t, "DeleteTag in another repository", s.DeleteTag(ctx, "other", "b"))
	wantNotFound(t, "DeleteTag in unknown repository", s.DeleteTag(ctx, "nobody", "b"))
}

// testCanceledPutManifest checks that a PutManifest that fails writes
// nothing. Backends that can inject a failure between the manifest and
// the tag should test that as well (see the sqlite package).
func testCanceledPutManifest(t *testing.T, s store.Store) {
	m := newManifest("app", "canceled", manifestOpts{})
	if _, err := s.PutManifest(canceled(t), m, "latest"); err == nil {
		t.Fatalf("PutManifest(canceled context) = nil, want an error")
	}
	ctx := t.Context()
	_, err := s.GetManifest(ctx, "app", m.Digest)
	wantNotFound(t, "GetManifest after a failed PutManifest", err)
	_, err = s.ResolveTag(ctx, "app", "latest")
	wantNotFound(t, "ResolveTag after a failed PutManifest", err)
}

// testPutManifestManyBlobs: BlobSizes answers for more blobs than one
// statement names (rowsPerStatement is 256), and a manifest of as many,
// one of them listed twice, is stored
// with every reference; one whose blobs include a missing one is refused
// with ErrBlobUnknown naming it, and stores nothing.
func testPutManifestManyBlobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "team/many"
	var blobs []digest.Digest
	for i := range 300 {
		d := digest.FromString(fmt.Sprintf("layer %d", i))
		link(t, s, repo, d, int64(i+1))
		blobs = append(blobs, d)
	}
	missing := digest.FromString("never linked")
	asked := append(slices.Clone(blobs), blobs[7], missing)
	sizes, err := s.BlobSizes(ctx, repo, asked)
	if err != nil || len(sizes) != len(blobs) {
		t.Fatalf("BlobSizes(%d digests) = %d sizes, %v; want %d", len(asked), len(sizes), err, len(blobs))
	}
	for i, d := range blobs {
		if sizes[d] != int64(i+1) {
			t.Errorf("BlobSizes: %s has %d bytes, want %d", d, sizes[d], i+1)
		}
	}
	if n, ok := sizes[missing]; ok {
		t.Errorf("BlobSizes: a digest never linked has %d bytes, want it absent", n)
	}
	if sizes, err := s.BlobSizes(ctx, "team/other", blobs[:3]); err != nil || len(sizes) != 0 {
		t.Errorf("BlobSizes in another repository = %v, %v, want none", sizes, err)
	}

	m := newManifest(repo, "many", manifestOpts{blobs: append(blobs, blobs[7])})
	if _, err := s.PutManifest(ctx, m, "many"); err != nil {
		t.Fatalf("PutManifest of %d blobs = %v", len(m.Blobs), err)
	}
	// Collection keeps the links the manifest references, in both
	// statements' rows, and takes one it does not.
	unreferenced := digest.FromString("linked, not referenced")
	link(t, s, repo, unreferenced, 1)
	later := time.Now().Add(time.Hour)
	for _, d := range []digest.Digest{blobs[0], blobs[255], blobs[256], blobs[299], unreferenced} {
		removed, err := s.CollectBlobLink(ctx, repo, d, later)
		if err != nil || removed != (d == unreferenced) {
			t.Errorf("CollectBlobLink(%s) = %v, %v, want %v", d, removed, err, d == unreferenced)
		}
	}

	bad := newManifest(repo, "missing", manifestOpts{blobs: append(slices.Clone(blobs), missing)})
	_, err = s.PutManifest(ctx, bad, "bad")
	if !errors.Is(err, store.ErrBlobUnknown) || !strings.Contains(err.Error(), missing.String()) {
		t.Errorf("PutManifest with a missing blob = %v, want ErrBlobUnknown naming %s", err, missing)
	}
	_, err = s.GetManifest(ctx, repo, bad.Digest)
	wantNotFound(t, "GetManifest of the refused manifest", err)
}
