package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

func testUploads(t *testing.T, s store.Store) {
	ctx := t.Context()
	started := time.Date(2025, 6, 1, 12, 0, 0, 987654000, time.UTC)
	u := store.Upload{ID: "3f1c2d4e-upload", Repository: "team/app", Owner: "owner-key", Started: started}
	if err := s.CreateUpload(ctx, u, store.UploadCaps{}); err != nil {
		t.Fatalf("CreateUpload(%+v) = %v", u, err)
	}
	if err := s.CreateUpload(ctx, store.Upload{ID: u.ID, Repository: "team/other", Started: started}, store.UploadCaps{}); err == nil {
		t.Errorf("CreateUpload with a taken id = nil, want an error")
	}

	got, err := s.GetUpload(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUpload(%s) = %v", u.ID, err)
	}
	// A zero Updated is the start.
	if got.ID != u.ID || got.Repository != u.Repository || got.Owner != u.Owner || !got.Started.Equal(u.Started) || !got.Updated.Equal(u.Started) {
		t.Errorf("GetUpload(%s) = %+v, want %+v updated at its start", u.ID, got, u)
	}
	touched := started.Add(time.Hour + time.Nanosecond)
	if err := s.TouchUpload(ctx, u.ID, touched); err != nil {
		t.Fatalf("TouchUpload(%s) = %v", u.ID, err)
	}
	if got, err := s.GetUpload(ctx, u.ID); err != nil || !got.Updated.Equal(touched) || !got.Started.Equal(started) {
		t.Errorf("GetUpload after TouchUpload = %+v, %v, want updated %v, started unchanged", got, err, touched)
	}
	wantNotFound(t, "TouchUpload(unknown)", s.TouchUpload(ctx, "unknown", touched))
	_, err = s.GetUpload(ctx, "unknown")
	wantNotFound(t, "GetUpload(unknown)", err)

	if err := s.DeleteUpload(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUpload(%s) = %v", u.ID, err)
	}
	_, err = s.GetUpload(ctx, u.ID)
	wantNotFound(t, "GetUpload after DeleteUpload", err)
	wantNotFound(t, "DeleteUpload twice", s.DeleteUpload(ctx, u.ID))

	// A deferred upload stays deferred until StartedUpload, in GetUpload
	// and in ExpiredUploads alike.
	d := store.Upload{ID: "deferred-upload", Repository: "team/app", Owner: "owner-key", Started: started, Deferred: true}
	if err := s.CreateUpload(ctx, d, store.UploadCaps{PerOwner: 10}); err != nil {
		t.Fatalf("CreateUpload(%+v) = %v", d, err)
	}
	if got, err := s.GetUpload(ctx, d.ID); err != nil || !got.Deferred {
		t.Errorf("GetUpload(deferred) = %+v, %v, want Deferred", got, err)
	}
	if exp, err := s.ExpiredUploads(ctx, started.Add(time.Second)); err != nil || !find(exp, d.ID).Deferred {
		t.Errorf("ExpiredUploads = %+v, %v, want %s deferred", exp, err, d.ID)
	}
	if err := s.StartedUpload(ctx, d.ID); err != nil {
		t.Fatalf("StartedUpload(%s) = %v", d.ID, err)
	}
	if got, err := s.GetUpload(ctx, d.ID); err != nil || got.Deferred || !got.Updated.Equal(started) {
		t.Errorf("GetUpload after StartedUpload = %+v, %v, want not deferred, activity unchanged", got, err)
	}
	wantNotFound(t, "StartedUpload(unknown)", s.StartedUpload(ctx, "unknown"))
	if err := s.DeleteUpload(ctx, d.ID); err != nil {
		t.Fatalf("DeleteUpload(%s) = %v", d.ID, err)
	}

	// A zero start time means "now".
	before := time.Now().Add(-time.Minute)
	if err := s.CreateUpload(ctx, store.Upload{ID: "now", Repository: "team/app"}, store.UploadCaps{}); err != nil {
		t.Fatalf("CreateUpload(now) = %v", err)
	}
	if got, err := s.GetUpload(ctx, "now"); err != nil || got.Started.Before(before) {
		t.Errorf("GetUpload(now) = %+v, %v, want Started about now", got, err)
	}
}

// testExpiredUploads: uploads expire by their last activity, not their
// start: "old" started first but was written to last.
func testExpiredUploads(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	uploads := []store.Upload{
		{ID: "c", Repository: "r1", Started: t0.Add(2 * time.Hour)},
		{ID: "a", Repository: "r1", Started: t0},
		{ID: "b", Repository: "r2", Started: t0.Add(time.Hour)},
		{ID: "old", Repository: "r2", Started: t0.Add(-time.Hour), Updated: t0.Add(3 * time.Hour)},
	}
	for _, u := range uploads {
		if err := s.CreateUpload(ctx, u, store.UploadCaps{}); err != nil {
			t.Fatalf("CreateUpload(%s) = %v", u.ID, err)
		}
	}
	uploads[3].Updated = t0.Add(4 * time.Hour)
	if err := s.TouchUpload(ctx, "old", uploads[3].Updated); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		before time.Time
		want   []string // oldest first
	}{
		{name: "none", before: t0, want: nil}, // strictly before
		{name: "one", before: t0.Add(time.Nanosecond), want: []string{"a"}},
		{name: "two", before: t0.Add(90 * time.Minute), want: []string{"a", "b"}},
		{name: "three", before: t0.Add(3 * time.Hour), want: []string{"a", "b", "c"}},
		{name: "all", before: t0.Add(24 * time.Hour), want: []string{"a", "b", "c", "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ExpiredUploads(ctx, tt.before)
			if err != nil {
				t.Fatalf("ExpiredUploads(%v) = %v", tt.before, err)
			}
			var ids []string
			for _, u := range got {
				ids = append(ids, u.ID)
			}
			if len(ids) != len(tt.want) {
				t.Fatalf("ExpiredUploads(%v) = %q, want %q", tt.before, ids, tt.want)
			}
			for i, u := range got {
				want := find(uploads, tt.want[i])
				if u.ID != want.ID || u.Repository != want.Repository || !u.Started.Equal(want.Started) || u.Updated.Before(u.Started) {
					t.Errorf("ExpiredUploads(%v)[%d] = %+v, want %+v", tt.before, i, u, want)
				}
			}
		})
	}

	if err := s.DeleteUpload(ctx, "a"); err != nil {
		t.Fatalf("DeleteUpload(a) = %v", err)
	}
	if got, err := s.ExpiredUploads(ctx, t0.Add(90*time.Minute)); err != nil || len(got) != 1 || got[0].ID != "b" {
		t.Errorf("ExpiredUploads after DeleteUpload(a) = %+v, %v, want [b]", got, err)
	}
}

func find(us []store.Upload, id string) store.Upload {
	for _, u := range us {
		if u.ID == id {
			return u
		}
	}
	return store.Upload{}
}

// testUploadCaps: CreateUpload refuses, recording nothing, past the cap of
// an owner or of a repository; anonymous uploads are capped only by their
// repository; concurrent creations do not overshoot a cap.
func testUploadCaps(t *testing.T, s store.Store) {
	ctx := t.Context()
	caps := store.UploadCaps{PerOwner: 2, PerRepository: 3}
	create := func(id, repo, owner string) error {
		return s.CreateUpload(ctx, store.Upload{ID: id, Repository: repo, Owner: owner}, caps)
	}
	for _, c := range []struct {
		id, repo, owner string
		ok              bool
	}{
		{"1", "r", "alice", true},
		{"2", "r", "alice", true},
		{"3", "r", "alice", false}, // alice's cap
		{"4", "other", "alice", false},
		{"5", "r", "bob", true},
		{"6", "r", "bob", false}, // r's cap
		{"7", "r", "", false},    // r's cap, anonymous too
		{"8", "s", "", true},
		{"9", "s", "", true}, // anonymous: no owner cap
		{"10", "s", "", true},
		{"11", "s", "", false},
	} {
		err := create(c.id, c.repo, c.owner)
		if c.ok != (err == nil) || !c.ok && !errors.Is(err, store.ErrTooManyUploads) {
			t.Errorf("CreateUpload(%s in %s by %q) = %v, want success %v (else ErrTooManyUploads)", c.id, c.repo, c.owner, err, c.ok)
		}
		if !c.ok {
			_, err := s.GetUpload(ctx, c.id)
			wantNotFound(t, "GetUpload of a refused upload", err)
		}
	}
	// Finishing an upload frees its place.
	if err := s.DeleteUpload(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if err := create("12", "t", "alice"); err != nil {
		t.Errorf("CreateUpload after alice finished one = %v", err)
	}

	// 20 at once for a cap of 5: exactly 5 get in.
	caps = store.UploadCaps{PerOwner: 5}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			err := s.CreateUpload(ctx, store.Upload{ID: fmt.Sprintf("race-%d", i), Repository: fmt.Sprintf("race/%d", i), Owner: "carol"}, caps)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, store.ErrTooManyUploads):
				t.Errorf("concurrent CreateUpload = %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Errorf("%d of 20 concurrent uploads created under a cap of 5", ok.Load())
	}
}
