package gc

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/fs"
	"github.com/chainctl/chainctl/internal/storage/s3"
	"github.com/chainctl/chainctl/internal/storage/s3/s3test"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres"
	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// backends are the metadata stores Run is tested on, each with a real
// filesystem blob store, and PostgreSQL also with an S3 bucket (versitygw).
var backends = []struct {
	name  string
	open  func(t *testing.T) store.Store
	blobs func(t *testing.T) gcBlobs // nil: the filesystem
}{
	{"sqlite", func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "registry.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, nil},
	{"postgres", openPostgres, nil},
	{"postgres+s3", openPostgres, newS3Blobs},
}

func openPostgres(t *testing.T) store.Store {
	db, err := postgres.Open(t.Context(), pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// gcBlobs is what Run needs of a blob store.
type gcBlobs interface {
	storage.BlobStore
	storage.Walker
}

func newS3Blobs(t *testing.T) gcBlobs {
	gw := s3test.Start(t)
	st, err := s3.New(t.Context(), s3.Config{Bucket: gw.NewBucket(t), Endpoint: gw.Endpoint, Region: s3test.Region, PathStyle: true},
		s3.WithCredentials(gw.Credentials()))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newBlobs(t *testing.T) *fs.Store {
	t.Helper()
	b, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture pushes content straight into the stores, as the registry would.
type fixture struct {
	t     *testing.T
	meta  store.Store
	blobs gcBlobs
}

func (f fixture) blob(repo, content string) digest.Digest {
	f.t.Helper()
	d := digest.FromString(content)
	if _, err := f.blobs.Put(f.t.Context(), d, bytes.NewReader([]byte(content))); err != nil {
		f.t.Fatal(err)
	}
	if repo != "" {
		if err := f.meta.LinkBlob(f.t.Context(), repo, d, int64(len(content))); err != nil {
			f.t.Fatal(err)
		}
	}
	return d
}

func (f fixture) manifest(repo, tag, body string, subject digest.Digest, blobs, children []digest.Digest) digest.Digest {
	f.t.Helper()
	content := []byte(fmt.Sprintf(`{"schemaVersion":2,"body":%q}`, body))
	m := &store.Manifest{
		Repository: repo, Digest: digest.FromBytes(content), MediaType: "application/vnd.oci.image.manifest.v1+json",
		Size: int64(len(content)), Content: content, Subject: subject, Blobs: blobs, Children: children,
		Created: time.Now().Add(-48 * time.Hour),
	}
	if _, err := f.meta.PutManifest(f.t.Context(), m, tag); err != nil {
		f.t.Fatal(err)
	}
	return m.Digest
}

func (f fixture) exists(d digest.Digest) bool {
	f.t.Helper()
	_, err := f.blobs.Stat(f.t.Context(), d)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

func (f fixture) hasManifest(repo string, d digest.Digest) bool {
	f.t.Helper()
	_, err := f.meta.GetManifest(f.t.Context(), repo, d)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

// TestRun: a tagged image and its referrer survive with their blobs,
// shared blobs survive, and an untagged manifest, an untagged index and
// its child, their unique blobs and an unlinked blob are collected.
func TestRun(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			f := fixture{t: t, meta: b.open(t), blobs: newBlobs(t)}
			if b.blobs != nil {
				f.blobs = b.blobs(t)
			}
			const repo = "app"
			cfg, layer, shared := f.blob(repo, "config"), f.blob(repo, "layer"), f.blob(repo, "shared")
			tagged := f.manifest(repo, "latest", "tagged", "", []digest.Digest{cfg, layer, shared}, nil)
			sigBlob := f.blob(repo, "signature")
			sig := f.manifest(repo, "", "sig", tagged, []digest.Digest{sigBlob}, nil)
			oldCfg, oldLayer := f.blob(repo, "old config"), f.blob(repo, "old layer")
			untagged := f.manifest(repo, "", "untagged", "", []digest.Digest{oldCfg, oldLayer, shared}, nil)
			childBlob := f.blob(repo, "child blob")
			child := f.manifest(repo, "", "child", "", []digest.Digest{childBlob}, nil)
			index := f.manifest(repo, "", "index", "", nil, []digest.Digest{child})
			orphan := f.blob("", "never linked")
			// Used elsewhere: the bytes stay for the other repository.
			f.manifest("other", "v1", "other", "", []digest.Digest{f.blob("other", "old layer")}, nil)

			// Grace covers the links just made: only manifests go, their
			// blobs wait for the next run.
			rep, err := Run(ctx, f.meta, f.blobs, WithGrace(time.Hour))
			if err != nil {
				t.Fatalf("Run(grace 1h) = %v", err)
			}
			if rep.Manifests != 3 || rep.BlobLinks != 0 || rep.Blobs != 0 {
				t.Errorf("Run(grace 1h) = %+v, want 3 manifests, no links or blobs", rep)
			}

			dry, err := Run(ctx, f.meta, f.blobs, WithGrace(0), WithDryRun(true))
			if err != nil {
				t.Fatalf("Run(dry run) = %v", err)
			}
			if dry.Manifests != 0 || dry.BlobLinks != 3 || dry.Blobs != 1 || dry.BlobBytes != int64(len("never linked")) {
				t.Errorf("Run(dry run) = %+v, want 0 manifests, 3 links, 1 blob of %d bytes", dry, len("never linked"))
			}
			if !f.exists(orphan) {
				t.Fatalf("a dry run deleted %s", orphan)
			}

			var last Progress
			rep, err = Run(ctx, f.meta, f.blobs, WithGrace(0), WithProgress(func(p Progress) { last = p }))
			if err != nil {
				t.Fatalf("Run(grace 0) = %v", err)
			}
			wantBytes := int64(len("old config") + len("child blob") + len("never linked"))
			if rep.Manifests != 0 || rep.BlobLinks != 3 || rep.Blobs != 3 || rep.BlobBytes != wantBytes {
				t.Errorf("Run(grace 0) = %+v, want 3 links, 3 blobs of %d bytes", rep, wantBytes)
			}
			if last.Phase != PhaseBlobs || last.Removed != 3 {
				t.Errorf("last progress = %+v, want phase blobs with 3 removed", last)
			}

			for _, d := range []digest.Digest{tagged, sig} {
				if !f.hasManifest(repo, d) {
					t.Errorf("manifest %s was collected, want kept", d)
				}
			}
			for _, d := range []digest.Digest{untagged, index, child} {
				if f.hasManifest(repo, d) {
					t.Errorf("manifest %s was kept, want collected", d)
				}
			}
			for _, d := range []digest.Digest{cfg, layer, shared, sigBlob, oldLayer} {
				if !f.exists(d) {
					t.Errorf("blob %s was deleted, want kept", d)
				}
			}
			for _, d := range []digest.Digest{oldCfg, childBlob, orphan} {
				if f.exists(d) {
					t.Errorf("blob %s was kept, want deleted", d)
				}
			}
			// The kept image is still complete: pushing it again works.
			f.manifest(repo, "again", "tagged", "", []digest.Digest{cfg, layer, shared}, nil)

			rep, err = Run(ctx, f.meta, f.blobs, WithGrace(0))
			if err != nil || rep.Manifests+rep.BlobLinks+rep.Blobs != 0 {
				t.Errorf("second Run = %+v, %v, want nothing removed", rep, err)
			}
		})
	}
}

func TestRunRefusesNegativeGrace(t *testing.T) {
	s := backends[0].open(t)
	if _, err := Run(t.Context(), s, newBlobs(t), WithGrace(-time.Second)); err == nil {
		t.Errorf("Run(negative grace) = nil, want an error")
	}
}

// TestRunCutoff checks the cutoff comes from the clock and the grace.
func TestRunCutoff(t *testing.T) {
	s := backends[0].open(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rep, err := Run(t.Context(), s, newBlobs(t), WithGrace(time.Hour), withNow(func() time.Time { return now }))
	if err != nil || !rep.Cutoff.Equal(now.Add(-time.Hour)) {
		t.Errorf("Run = %+v, %v, want cutoff %v", rep, err, now.Add(-time.Hour))
	}
}
