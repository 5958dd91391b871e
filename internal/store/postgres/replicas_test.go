package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Tests with two handles on one schema: two replicas of the registry
// sharing a database, each with its own pool.

func replicas(t *testing.T) (*DB, *DB) {
	t.Helper()
	dsn := newSchema(t)
	return open(t, dsn), open(t, dsn)
}

func testManifest(repo, body string) *store.Manifest {
	content := []byte(body)
	return &store.Manifest{
		Repository: repo,
		Digest:     digest.FromBytes(content),
		MediaType:  "application/vnd.oci.image.manifest.v1+json",
		Size:       int64(len(content)),
		Content:    content,
	}
}

// collect runs fn in n goroutines per replica and returns their errors.
func collect(dbs []*DB, n int, fn func(db *DB, r, g int) error) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for r, db := range dbs {
		for g := range n {
			wg.Go(func() {
				if err := fn(db, r, g); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("replica %d, goroutine %d: %w", r, g, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// TestReplicasMoveOneTag pushes one tag from both replicas at once. Each
// push must report as previous the digest it replaced: the previous
// digests and the final one are "" and every pushed digest exactly once.
func TestReplicasMoveOneTag(t *testing.T) {
	a, b := replicas(t)
	const puts = 12
	var mu sync.Mutex
	previous := map[digest.Digest]int{}
	var pushed []digest.Digest
	err := collect([]*DB{a, b}, 4, func(db *DB, r, g int) error {
		for i := range puts {
			m := testManifest("shared", fmt.Sprintf("%d/%d/%d", r, g, i))
			prev, err := db.PutManifest(t.Context(), m, "latest")
			if err != nil {
				return err
			}
			mu.Lock()
			previous[prev]++
			pushed = append(pushed, m.Digest)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent PutManifest failed:\n%v", err)
	}
	final, err := b.ResolveTag(t.Context(), "shared", "latest")
	if err != nil {
		t.Fatalf("ResolveTag(latest) = %v", err)
	}
	previous[final]++
	if previous[""] != 1 {
		t.Errorf("%d PutManifest calls saw no previous digest, want 1", previous[""])
	}
	for _, d := range pushed {
		if previous[d] != 1 {
			t.Errorf("digest %s was the previous or final digest %d times, want 1", d, previous[d])
		}
	}
}

// TestReplicasPutAndDeleteManifest tags a manifest on one replica while
// the other deletes it. Either may win each round, but no call fails
// except with ErrNotFound, and a tag never outlives its manifest.
func TestReplicasPutAndDeleteManifest(t *testing.T) {
	a, b := replicas(t)
	ctx := t.Context()
	ms := []*store.Manifest{testManifest("race", "one"), testManifest("race", "two")}
	err := collect([]*DB{a, b}, 3, func(db *DB, r, g int) error {
		for i := range 30 {
			m := ms[(g+i)%len(ms)]
			if r == 0 {
				if _, err := db.PutManifest(ctx, m, fmt.Sprintf("t%d", i%3)); err != nil {
					return err
				}
				continue
			}
			if err := db.DeleteManifest(ctx, m.Repository, m.Digest); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent PutManifest and DeleteManifest failed:\n%v", err)
	}
	tags, err := a.Tags(ctx, "race", "", 10)
	if err != nil {
		t.Fatalf("Tags(race) = %v", err)
	}
	for _, tag := range tags {
		d, err := a.ResolveTag(ctx, "race", tag)
		if err != nil {
			t.Errorf("ResolveTag(%s) = %v", tag, err)
			continue
		}
		if _, err := b.GetManifest(ctx, "race", d); err != nil {
			t.Errorf("tag %s names %s, but GetManifest = %v", tag, d, err)
		}
	}
}

// TestReplicasCreateRepositories links blobs into the same new
// repositories from both replicas at once: each repository is created
// once and no link fails.
func TestReplicasCreateRepositories(t *testing.T) {
	a, b := replicas(t)
	ctx := t.Context()
	const repos = 20
	blob := digest.FromString("blob")
	err := collect([]*DB{a, b}, 4, func(db *DB, r, g int) error {
		for i := range repos {
			if err := db.LinkBlob(ctx, fmt.Sprintf("new/%02d", i), blob, 4); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent LinkBlob failed:\n%v", err)
	}
	names, err := a.Repositories(ctx, "", 100)
	if err != nil || len(names) != repos {
		t.Fatalf("Repositories() = %q, %v, want %d names", names, err, repos)
	}
	var rows int
	if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM repositories`).Scan(&rows); err != nil || rows != repos {
		t.Errorf("repositories table has %d rows, %v, want %d", rows, err, repos)
	}
}

// TestReplicasIdentitiesVersion checks that a write on one replica
// changes the version the other reads, with the identity visible.
func TestReplicasIdentitiesVersion(t *testing.T) {
	a, b := replicas(t)
	ctx := t.Context()
	v0, err := b.IdentitiesVersion(ctx)
	if err != nil {
		t.Fatalf("IdentitiesVersion() = %v", err)
	}
	if err := a.PutIdentity(ctx, store.StoredIdentity{ID: "ci", Document: []byte(`{}`), Incarnation: "1"}); err != nil {
		t.Fatalf("PutIdentity() = %v", err)
	}
	v1, err := b.IdentitiesVersion(ctx)
	if err != nil || v1 == v0 {
		t.Errorf("IdentitiesVersion() on the other replica after a put = %d, %v, want a change from %d", v1, err, v0)
	}
	if _, err := b.GetIdentity(ctx, "ci"); err != nil {
		t.Errorf("GetIdentity(ci) on the other replica = %v", err)
	}
	if err := b.DeleteIdentity(ctx, "ci"); err != nil {
		t.Fatalf("DeleteIdentity() = %v", err)
	}
	if v2, err := a.IdentitiesVersion(ctx); err != nil || v2 == v1 || v2 == v0 {
		t.Errorf("IdentitiesVersion() after a delete on the other replica = %d, %v, want a new version", v2, err)
	}

	// Identity writes from both replicas at once each bump the version.
	const puts = 10
	err = collect([]*DB{a, b}, 2, func(db *DB, r, g int) error {
		for i := range puts {
			if err := db.PutIdentity(ctx, store.StoredIdentity{ID: fmt.Sprintf("%d-%d-%d", r, g, i), Document: []byte(`{}`), Incarnation: "1"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent PutIdentity failed:\n%v", err)
	}
	v3, _ := a.IdentitiesVersion(ctx)
	if want := v0 + 2 + 4*puts; v3 != want {
		t.Errorf("IdentitiesVersion() after %d puts = %d, want %d", 4*puts, v3, want)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "serialization failure", err: &pgconn.PgError{Code: "40001"}, want: true},
		{name: "deadlock", err: fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40P01"}), want: true},
		{name: "unique violation", err: &pgconn.PgError{Code: "23505"}, want: false},
		{name: "not a PostgreSQL error", err: errors.New("boom"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryable(tt.err); got != tt.want {
				t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestReplicasReadAfterWrite checks that each replica reads what the
// other just wrote: nothing is cached in the process.
func TestReplicasReadAfterWrite(t *testing.T) {
	a, b := replicas(t)
	ctx := t.Context()
	m1, m2 := testManifest("app", "one"), testManifest("app", "two")
	resolve := func(db *DB, want digest.Digest) {
		t.Helper()
		got, err := db.ResolveTag(ctx, "app", "latest")
		if want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ResolveTag(latest) = %s, %v, want ErrNotFound", got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("ResolveTag(latest) = %s, %v, want %s", got, err, want)
		}
	}
	if _, err := a.PutManifest(ctx, m1, "latest"); err != nil {
		t.Fatal(err)
	}
	resolve(b, m1.Digest)
	if prev, err := b.PutManifest(ctx, m2, "latest"); err != nil || prev != m1.Digest {
		t.Fatalf("PutManifest(m2) on the other replica = %s, %v, want previous %s", prev, err, m1.Digest)
	}
	resolve(a, m2.Digest)
	if err := a.DeleteTag(ctx, "app", "latest"); err != nil {
		t.Fatal(err)
	}
	resolve(b, "")
	if err := b.DeleteManifest(ctx, "app", m1.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetManifest(ctx, "app", m1.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetManifest after DeleteManifest on the other replica = %v, want ErrNotFound", err)
	}
}
