package storetest

import (
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

func testBlobLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	layer := digest.FromString("layer")
	big := digest.SHA512.FromString("sha512 layer")
	other := digest.FromString("never linked")

	link(t, s, "team/app", layer, 42)
	link(t, s, "team/app", layer, 42) // linking twice is fine
	link(t, s, "team/app", big, 1<<40)

	sizes := []struct {
		name string
		repo string
		dgst digest.Digest
		want int64 // -1: ErrNotFound
	}{
		{name: "linked", repo: "team/app", dgst: layer, want: 42},
		{name: "sha512 and large size", repo: "team/app", dgst: big, want: 1 << 40},
		{name: "other repository", repo: "team/other", dgst: layer, want: -1},
		{name: "repository name prefix", repo: "team", dgst: layer, want: -1},
		{name: "unlinked digest", repo: "team/app", dgst: other, want: -1},
	}
	for _, tt := range sizes {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.BlobSize(ctx, tt.repo, tt.dgst)
			if tt.want < 0 {
				wantNotFound(t, "BlobSize("+tt.repo+", "+tt.dgst.String()+")", err)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("BlobSize(%s, %s) = %d, %v, want %d, nil", tt.repo, tt.dgst, got, err, tt.want)
			}
		})
	}

	if ok, err := s.BlobReferenced(ctx, layer); err != nil || !ok {
		t.Errorf("BlobReferenced(%s) = %v, %v, want true, nil", layer, ok, err)
	}
	if ok, err := s.BlobReferenced(ctx, other); err != nil || ok {
		t.Errorf("BlobReferenced(%s) = %v, %v, want false, nil", other, ok, err)
	}

	// Unlinking is per repository.
	link(t, s, "team/other", layer, 42)
	if err := s.UnlinkBlob(ctx, "team/app", layer); err != nil {
		t.Fatalf("UnlinkBlob(team/app, %s) = %v", layer, err)
	}
	_, err := s.BlobSize(ctx, "team/app", layer)
	wantNotFound(t, "BlobSize after UnlinkBlob", err)
	if got, err := s.BlobSize(ctx, "team/other", layer); err != nil || got != 42 {
		t.Errorf("BlobSize(team/other, %s) = %d, %v, want 42, nil", layer, got, err)
	}
	if ok, err := s.BlobReferenced(ctx, layer); err != nil || !ok {
		t.Errorf("BlobReferenced(%s) with one link left = %v, %v, want true, nil", layer, ok, err)
	}
	wantNotFound(t, "UnlinkBlob twice", s.UnlinkBlob(ctx, "team/app", layer))
	wantNotFound(t, "UnlinkBlob in unknown repository", s.UnlinkBlob(ctx, "nobody", layer))
	wantNotFound(t, "UnlinkBlob of unlinked digest", s.UnlinkBlob(ctx, "team/app", other))

	if err := s.UnlinkBlob(ctx, "team/other", layer); err != nil {
		t.Fatalf("UnlinkBlob(team/other, %s) = %v", layer, err)
	}
	if ok, err := s.BlobReferenced(ctx, layer); err != nil || ok {
		t.Errorf("BlobReferenced(%s) after last unlink = %v, %v, want false, nil", layer, ok, err)
	}

	// Relinking after an unlink works.
	link(t, s, "team/app", layer, 42)
	if got, err := s.BlobSize(ctx, "team/app", layer); err != nil || got != 42 {
		t.Errorf("BlobSize after relink = %d, %v, want 42, nil", got, err)
	}
}

func testBlobRepositories(t *testing.T, s store.Store) {
	ctx := t.Context()
	shared := digest.FromString("shared")
	lonely := digest.FromString("lonely")
	// Byte order: '-' < '/' < 'a'.
	for _, repo := range []string{"b", "a/x", "a-x", "ab"} {
		link(t, s, repo, shared, 7)
	}
	link(t, s, "z", lonely, 1)

	tests := []struct {
		name string
		dgst digest.Digest
		n    int
		want []string
	}{
		{name: "all", dgst: shared, n: 10, want: []string{"a-x", "a/x", "ab", "b"}},
		{name: "limited", dgst: shared, n: 2, want: []string{"a-x", "a/x"}},
		{name: "exactly n", dgst: shared, n: 4, want: []string{"a-x", "a/x", "ab", "b"}},
		{name: "n zero", dgst: shared, n: 0, want: []string{}},
		{name: "one repository", dgst: lonely, n: 10, want: []string{"z"}},
		{name: "unknown digest", dgst: digest.FromString("nowhere"), n: 10, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.BlobRepositories(ctx, tt.dgst, tt.n)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("BlobRepositories(%s, %d) = %q, %v, want %q, nil", tt.dgst, tt.n, got, err, tt.want)
			}
		})
	}

	if err := s.UnlinkBlob(ctx, "a/x", shared); err != nil {
		t.Fatalf("UnlinkBlob(a/x) = %v", err)
	}
	want := []string{"a-x", "ab", "b"}
	if got, err := s.BlobRepositories(ctx, shared, 10); err != nil || !slices.Equal(got, want) {
		t.Errorf("BlobRepositories after unlink = %q, %v, want %q, nil", got, err, want)
	}
}
