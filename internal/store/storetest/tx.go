package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// The transaction seam (store.TxFunc) is exercised with the uploads table,
// which every backend's migrations create and GetUpload reads back: the
// suite needs no table of its own. The statement is written as a caller
// of the seam writes its own rows (an outbox event).
const insertUpload = `INSERT INTO uploads (id, repository, owner, started, updated) VALUES ($1, $2, $3, $4, $5)`

// writeUpload returns a TxFunc that records an upload id through the
// seam's Exec and an event of the same id through its AppendEvent, counts
// its runs in *runs and keeps the Written it was given in *w (when w is
// not nil), then fails with fail if not nil.
func writeUpload(id string, runs *int, fail error, w ...*store.Written) store.TxFunc {
	return func(ctx context.Context, tx store.Tx, written store.Written) error {
		*runs++
		if len(w) > 0 {
			*w[0] = written
		}
		now := time.Now().UnixNano()
		n, err := tx.Exec(ctx, insertUpload, id, "seam", "", now, now)
		if err != nil {
			return err
		}
		if n != 1 {
			return errors.New("insert through the seam changed no row")
		}
		if err := tx.AppendEvent(ctx, seamEvent(id)); err != nil {
			return err
		}
		return fail
	}
}

// seamEvent is the event writeUpload appends.
func seamEvent(id string) store.Event {
	return store.Event{ID: id, Type: "test.push", Source: "https://registry.test", Subject: "app:" + id,
		Time: time.Now(), Repository: "app", Actor: "seam", Data: []byte(`{"id":"` + id + `"}`)}
}

// wantSeamEvents fails unless the event log holds exactly the events of
// ids, in order.
func wantSeamEvents(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	got, err := s.EventsAfter(t.Context(), 0, 100)
	if err != nil {
		t.Fatalf("EventsAfter = %v", err)
	}
	var gotIDs []string
	for _, e := range got {
		gotIDs = append(gotIDs, e.ID)
	}
	if strings.Join(gotIDs, ",") != strings.Join(ids, ",") {
		t.Errorf("event log = %v, want %v", gotIDs, ids)
	}
}

var errSeam = errors.New("injected failure in the seam")

func testTxSeamPutManifest(t *testing.T, s store.Store) {
	ctx := t.Context()
	layer := digest.FromString("seam layer")
	link(t, s, "app", layer, 5)
	old := newManifest("app", "old", manifestOpts{blobs: []digest.Digest{layer}})
	put(t, s, old, "latest")

	// Rows written through the seam commit with the manifest and its tag.
	committed := newManifest("app", "committed", manifestOpts{blobs: []digest.Digest{layer}})
	runs := 0
	var w store.Written
	if _, err := s.PutManifest(ctx, committed, "v1", writeUpload("event-1", &runs, nil, &w)); err != nil {
		t.Fatalf("PutManifest with a seam = %v", err)
	}
	if w.Previous != "" {
		t.Errorf("Written.Previous of a new tag = %q, want none", w.Previous)
	}
	if runs == 0 {
		t.Errorf("PutManifest did not run the TxFunc")
	}
	if _, err := s.GetUpload(ctx, "event-1"); err != nil {
		t.Errorf("GetUpload(event-1) after PutManifest = %v, want the row written through the seam", err)
	}
	if d, err := s.ResolveTag(ctx, "app", "v1"); err != nil || d != committed.Digest {
		t.Errorf("ResolveTag(v1) = %q, %v, want %q", d, err, committed.Digest)
	}

	// A failing TxFunc leaves neither the manifest, nor the tag move, nor
	// its own rows.
	failed := newManifest("app", "failed", manifestOpts{blobs: []digest.Digest{layer}})
	runs = 0
	_, err := s.PutManifest(ctx, failed, "latest", writeUpload("event-2", &runs, errSeam))
	if !errors.Is(err, errSeam) {
		t.Fatalf("PutManifest with a failing seam = %v, want it to wrap the TxFunc's error", err)
	}
	_, err = s.GetManifest(ctx, "app", failed.Digest)
	wantNotFound(t, "GetManifest after a failed seam", err)
	if d, err := s.ResolveTag(ctx, "app", "latest"); err != nil || d != old.Digest {
		t.Errorf("ResolveTag(latest) after a failed seam = %q, %v, want %q", d, err, old.Digest)
	}
	_, err = s.GetUpload(ctx, "event-2")
	wantNotFound(t, "GetUpload(event-2) after a failed seam", err)
	wantSeamEvents(t, s, "event-1")

	// Moving a tag hands its TxFuncs the digest it pointed at.
	moved := newManifest("app", "moved", manifestOpts{blobs: []digest.Digest{layer}})
	if _, err := s.PutManifest(ctx, moved, "latest", writeUpload("event-4", &runs, nil, &w)); err != nil {
		t.Fatalf("PutManifest moving latest = %v", err)
	}
	if w.Previous != old.Digest {
		t.Errorf("Written.Previous moving latest = %q, want %q", w.Previous, old.Digest)
	}
	wantSeamEvents(t, s, "event-1", "event-4")

	// A manifest refused for a missing blob runs no TxFunc and leaves no row.
	refused := newManifest("app", "refused", manifestOpts{blobs: []digest.Digest{digest.FromString("not linked")}})
	runs = 0
	if _, err := s.PutManifest(ctx, refused, "v2", writeUpload("event-3", &runs, nil)); !errors.Is(err, store.ErrBlobUnknown) {
		t.Fatalf("PutManifest of a manifest with an unknown blob = %v, want ErrBlobUnknown", err)
	}
	if runs != 0 {
		t.Errorf("a refused PutManifest ran its TxFunc %d times, want 0", runs)
	}
	_, err = s.GetUpload(ctx, "event-3")
	wantNotFound(t, "GetUpload(event-3) after a refused manifest", err)
	_, err = s.ResolveTag(ctx, "app", "v2")
	wantNotFound(t, "ResolveTag(v2) after a refused manifest", err)
	wantSeamEvents(t, s, "event-1", "event-4")
}

func testTxSeamLinkBlob(t *testing.T, s store.Store) {
	ctx := t.Context()
	blob := digest.FromString("seam blob")
	runs := 0
	if err := s.LinkBlob(ctx, "app", blob, 4, writeUpload("event-1", &runs, nil)); err != nil {
		t.Fatalf("LinkBlob with a seam = %v", err)
	}
	if _, err := s.GetUpload(ctx, "event-1"); err != nil {
		t.Errorf("GetUpload(event-1) after LinkBlob = %v, want the row written through the seam", err)
	}

	other := digest.FromString("seam blob, failed")
	if err := s.LinkBlob(ctx, "app", other, 4, writeUpload("event-2", &runs, errSeam)); !errors.Is(err, errSeam) {
		t.Fatalf("LinkBlob with a failing seam = %v, want it to wrap the TxFunc's error", err)
	}
	_, err := s.BlobSize(ctx, "app", other)
	wantNotFound(t, "BlobSize after a failed seam", err)
	_, err = s.GetUpload(ctx, "event-2")
	wantNotFound(t, "GetUpload(event-2) after a failed seam", err)

	// A link refused for a tombstone runs no TxFunc.
	gone := digest.FromString("seam blob, tombstoned")
	if ok, err := s.TombstoneBlob(ctx, gone); err != nil || !ok {
		t.Fatalf("TombstoneBlob = %v, %v, want true, nil", ok, err)
	}
	runs = 0
	if err := s.LinkBlob(ctx, "app", gone, 4, writeUpload("event-3", &runs, nil)); !errors.Is(err, store.ErrBlobDeleted) {
		t.Fatalf("LinkBlob of a tombstoned blob = %v, want ErrBlobDeleted", err)
	}
	if runs != 0 {
		t.Errorf("a refused LinkBlob ran its TxFunc %d times, want 0", runs)
	}
	_, err = s.GetUpload(ctx, "event-3")
	wantNotFound(t, "GetUpload(event-3) after a refused link", err)
	wantSeamEvents(t, s, "event-1")

	// The upload a link finishes is deleted in its transaction: with the
	// link, or not at all; an unknown one is no error.
	if err := s.CreateUpload(ctx, store.Upload{ID: "finished", Repository: "app"}, store.UploadCaps{}); err != nil {
		t.Fatal(err)
	}
	forget := func(id string) store.TxFunc {
		return func(ctx context.Context, tx store.Tx, _ store.Written) error { return tx.DeleteUpload(ctx, id) }
	}
	failing := func(context.Context, store.Tx, store.Written) error { return errSeam }
	if err := s.LinkBlob(ctx, "app", digest.FromString("finished, failed"), 4, forget("finished"), failing); !errors.Is(err, errSeam) {
		t.Fatalf("LinkBlob with a failing seam = %v", err)
	}
	if _, err := s.GetUpload(ctx, "finished"); err != nil {
		t.Errorf("GetUpload after a failed link = %v, want the upload kept", err)
	}
	if err := s.LinkBlob(ctx, "app", digest.FromString("finished"), 4, forget("finished"), forget("never-started")); err != nil {
		t.Fatalf("LinkBlob deleting its upload = %v", err)
	}
	_, err = s.GetUpload(ctx, "finished")
	wantNotFound(t, "GetUpload after the link that finished it", err)
}
