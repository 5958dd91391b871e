package storetest

import (
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

func testUploads(t *testing.T, s store.Store) {
	ctx := t.Context()
	started := time.Date(2025, 6, 1, 12, 0, 0, 987654000, time.UTC)
	u := store.Upload{ID: "3f1c2d4e-upload", Repository: "team/app", Started: started}
	if err := s.CreateUpload(ctx, u); err != nil {
		t.Fatalf("CreateUpload(%+v) = %v", u, err)
	}
	if err := s.CreateUpload(ctx, store.Upload{ID: u.ID, Repository: "team/other", Started: started}); err == nil {
		t.Errorf("CreateUpload with a taken id = nil, want an error")
	}

	got, err := s.GetUpload(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUpload(%s) = %v", u.ID, err)
	}
	if got.ID != u.ID || got.Repository != u.Repository || !got.Started.Equal(u.Started) {
		t.Errorf("GetUpload(%s) = %+v, want %+v", u.ID, got, u)
	}
	_, err = s.GetUpload(ctx, "unknown")
	wantNotFound(t, "GetUpload(unknown)", err)

	if err := s.DeleteUpload(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUpload(%s) = %v", u.ID, err)
	}
	_, err = s.GetUpload(ctx, u.ID)
	wantNotFound(t, "GetUpload after DeleteUpload", err)
	wantNotFound(t, "DeleteUpload twice", s.DeleteUpload(ctx, u.ID))

	// A zero start time means "now".
	before := time.Now().Add(-time.Minute)
	if err := s.CreateUpload(ctx, store.Upload{ID: "now", Repository: "team/app"}); err != nil {
		t.Fatalf("CreateUpload(now) = %v", err)
	}
	if got, err := s.GetUpload(ctx, "now"); err != nil || got.Started.Before(before) {
		t.Errorf("GetUpload(now) = %+v, %v, want Started about now", got, err)
	}
}

func testExpiredUploads(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	uploads := []store.Upload{
		{ID: "c", Repository: "r1", Started: t0.Add(2 * time.Hour)},
		{ID: "a", Repository: "r1", Started: t0},
		{ID: "b", Repository: "r2", Started: t0.Add(time.Hour)},
	}
	for _, u := range uploads {
		if err := s.CreateUpload(ctx, u); err != nil {
			t.Fatalf("CreateUpload(%s) = %v", u.ID, err)
		}
	}

	tests := []struct {
		name   string
		before time.Time
		want   []string // oldest first
	}{
		{name: "none", before: t0, want: nil}, // strictly before
		{name: "one", before: t0.Add(time.Nanosecond), want: []string{"a"}},
		{name: "two", before: t0.Add(90 * time.Minute), want: []string{"a", "b"}},
		{name: "all", before: t0.Add(24 * time.Hour), want: []string{"a", "b", "c"}},
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
				if u.ID != want.ID || u.Repository != want.Repository || !u.Started.Equal(want.Started) {
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
