package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// future is a cutoff after everything the tests create: grace zero.
func future() time.Time { return time.Now().Add(time.Hour) }

func candidateDigests(t *testing.T, what string, list func(after store.Candidate, n int) ([]store.Candidate, error)) []digest.Digest {
	t.Helper()
	var out []digest.Digest
	var after store.Candidate
	for {
		// Pages of 2 exercise the cursor.
		page, err := list(after, 2)
		if err != nil {
			t.Fatalf("%s = %v", what, err)
		}
		for _, c := range page {
			out = append(out, c.Digest)
		}
		if len(page) < 2 {
			return out
		}
		after = page[len(page)-1]
	}
}

func sorted(ds ...digest.Digest) []digest.Digest {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}

func testCollectManifests(t *testing.T, s store.Store) {
	ctx := t.Context()
	const repo = "app"
	tagged := newManifest(repo, "tagged", manifestOpts{})
	loose := newManifest(repo, "loose", manifestOpts{})
	child := newManifest(repo, "child", manifestOpts{})
	index := newManifest(repo, "index", manifestOpts{mediaType: mediaTypeIndex, children: []digest.Digest{child.Digest}})
	sig := newManifest(repo, "sig", manifestOpts{subject: tagged.Digest, artifactType: artifactSignature})
	orphanSig := newManifest(repo, "orphan sig", manifestOpts{subject: digest.FromString("never pushed")})
	put(t, s, tagged, "latest")
	put(t, s, loose, "")
	put(t, s, child, "")
	put(t, s, index, "")
	put(t, s, sig, "")
	put(t, s, orphanSig, "")

	list := func(after store.Candidate, n int) ([]store.Candidate, error) {
		return s.ManifestCandidates(ctx, future(), after, n)
	}
	want := sorted(loose.Digest, index.Digest, orphanSig.Digest)
	if got := candidateDigests(t, "ManifestCandidates", list); !slices.Equal(got, want) {
		t.Errorf("ManifestCandidates = %v, want %v", got, want)
	}
	// Created in 2025: an earlier cutoff protects them all.
	if got, err := s.ManifestCandidates(ctx, tagged.Created, store.Candidate{}, 10); err != nil || len(got) != 0 {
		t.Errorf("ManifestCandidates(before creation) = %v, %v, want none", got, err)
	}

	collect := []struct {
		name   string
		m      *store.Manifest
		before time.Time
		want   bool
	}{
		{name: "too young", m: loose, before: loose.Created, want: false},
		{name: "tagged", m: tagged, before: future(), want: false},
		{name: "child of an index", m: child, before: future(), want: false},
		{name: "referrer of an existing manifest", m: sig, before: future(), want: false},
		{name: "untagged", m: loose, before: future(), want: true},
		{name: "already gone", m: loose, before: future(), want: false},
		{name: "referrer of a missing subject", m: orphanSig, before: future(), want: true},
		{name: "index", m: index, before: future(), want: true},
		{name: "child of a deleted index", m: child, before: future(), want: true},
	}
	for _, tt := range collect {
		got, err := s.CollectManifest(ctx, repo, tt.m.Digest, tt.before)
		if err != nil || got != tt.want {
			t.Errorf("%s: CollectManifest(%s) = %v, %v, want %v, nil", tt.name, tt.m.Digest, got, err, tt.want)
		}
	}
	if got, err := s.CollectManifest(ctx, "nobody", loose.Digest, future()); err != nil || got {
		t.Errorf("CollectManifest in an unknown repository = %v, %v, want false, nil", got, err)
	}
	for _, m := range []*store.Manifest{tagged, sig} {
		if _, err := s.GetManifest(ctx, repo, m.Digest); err != nil {
			t.Errorf("GetManifest(%s) after collection = %v, want nil", m.Digest, err)
		}
	}
	_, err := s.GetManifest(ctx, repo, index.Digest)
	wantNotFound(t, "GetManifest of a collected index", err)

	// An index cannot be stored once its child is gone.
	_, err = s.PutManifest(ctx, index, "")
	if !errors.Is(err, store.ErrBlobUnknown) {
		t.Errorf("PutManifest(index of a collected child) = %v, want ErrBlobUnknown", err)
	}
}

func testCollectBlobLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	used := digest.FromString("used")
	unused := digest.FromString("unused")
	elsewhere := digest.FromString("used elsewhere")
	link(t, s, "app", used, 1)
	link(t, s, "app", unused, 2)
	link(t, s, "app", elsewhere, 3)
	link(t, s, "other", elsewhere, 3)
	m := newManifest("app", "m", manifestOpts{blobs: []digest.Digest{used}})
	put(t, s, m, "")
	put(t, s, inRepo(newManifest("other", "o", manifestOpts{blobs: []digest.Digest{elsewhere}}), "other"), "")

	list := func(after store.Candidate, n int) ([]store.Candidate, error) {
		return s.BlobLinkCandidates(ctx, future(), after, n)
	}
	want := sorted(elsewhere, unused) // both in app
	if got := candidateDigests(t, "BlobLinkCandidates", list); !slices.Equal(got, want) {
		t.Errorf("BlobLinkCandidates = %v, want %v", got, want)
	}
	past := time.Now().Add(-time.Hour)
	if got, err := s.BlobLinkCandidates(ctx, past, store.Candidate{}, 10); err != nil || len(got) != 0 {
		t.Errorf("BlobLinkCandidates(an hour ago) = %v, %v, want none: links are touched when made", got, err)
	}

	if got, err := s.CollectBlobLink(ctx, "app", unused, past); err != nil || got {
		t.Errorf("CollectBlobLink(recently linked) = %v, %v, want false, nil", got, err)
	}
	if got, err := s.CollectBlobLink(ctx, "app", used, future()); err != nil || got {
		t.Errorf("CollectBlobLink(referenced) = %v, %v, want false, nil", got, err)
	}
	if got, err := s.CollectBlobLink(ctx, "app", unused, future()); err != nil || !got {
		t.Errorf("CollectBlobLink(unreferenced) = %v, %v, want true, nil", got, err)
	}
	if got, err := s.CollectBlobLink(ctx, "nobody", unused, future()); err != nil || got {
		t.Errorf("CollectBlobLink(unknown repository) = %v, %v, want false, nil", got, err)
	}
	_, err := s.BlobSize(ctx, "app", unused)
	wantNotFound(t, "BlobSize of a collected link", err)

	// A manifest push refreshes its links: collected before, a push in
	// flight would fail instead of referencing a missing blob.
	before := time.Now()
	put(t, s, m, "again")
	if got, err := s.CollectBlobLink(ctx, "app", used, before); err != nil || got {
		t.Errorf("CollectBlobLink after the manifest was pushed again = %v, %v, want false, nil", got, err)
	}
	if err := s.DeleteManifest(ctx, "app", m.Digest); err != nil {
		t.Fatalf("DeleteManifest = %v", err)
	}
	if got, err := s.CollectBlobLink(ctx, "app", used, future()); err != nil || !got {
		t.Errorf("CollectBlobLink after its manifest was deleted = %v, %v, want true, nil", got, err)
	}
	_, err = s.PutManifest(ctx, m, "latest")
	if !errors.Is(err, store.ErrBlobUnknown) {
		t.Errorf("PutManifest with a collected blob link = %v, want ErrBlobUnknown", err)
	}
	wantNotFound(t, "ResolveTag after a refused PutManifest", func() error { _, err := s.ResolveTag(ctx, "app", "latest"); return err }())
}

func testTombstones(t *testing.T, s store.Store) {
	ctx := t.Context()
	linked := digest.FromString("linked")
	free := digest.FromString("free")
	link(t, s, "app", linked, 1)

	if ok, err := s.TombstoneBlob(ctx, linked); err != nil || ok {
		t.Errorf("TombstoneBlob(linked) = %v, %v, want false, nil", ok, err)
	}
	if ok, err := s.TombstoneBlob(ctx, free); err != nil || !ok {
		t.Fatalf("TombstoneBlob(unlinked) = %v, %v, want true, nil", ok, err)
	}
	if ok, err := s.TombstoneBlob(ctx, free); err != nil || ok {
		t.Errorf("TombstoneBlob twice = %v, %v, want false, nil", ok, err)
	}
	if err := s.LinkBlob(ctx, "app", free, 1); !errors.Is(err, store.ErrBlobDeleted) {
		t.Errorf("LinkBlob(tombstoned) = %v, want ErrBlobDeleted", err)
	}
	_, err := s.BlobSize(ctx, "app", free)
	wantNotFound(t, "BlobSize after a refused LinkBlob", err)
	if err := s.RemoveTombstone(ctx, free); err != nil {
		t.Fatalf("RemoveTombstone = %v", err)
	}
	if err := s.RemoveTombstone(ctx, free); err != nil {
		t.Errorf("RemoveTombstone twice = %v, want nil", err)
	}
	link(t, s, "app", free, 1)
}
