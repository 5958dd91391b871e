package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// testIdentities covers PutIdentity, GetIdentity, ListIdentities,
// DeleteIdentity and IdentitiesVersion.
func testIdentities(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.ListIdentities(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListIdentities() of an empty store = %v, %v, want [], nil", got, err)
	}
	v0, err := s.IdentitiesVersion(ctx)
	if err != nil {
		t.Fatalf("IdentitiesVersion() = %v", err)
	}

	// Sub-second times, to catch backends that truncate; inserted out of
	// order, to check the listing order.
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	ids := []store.StoredIdentity{
		{ID: "b-ci", Document: []byte(`{"id":"b-ci","issuer":"https://ci.example"}`), Created: t0, CreatedBy: "owner", Incarnation: "inc-b1"},
		{ID: "a-ci", Document: []byte(`{"id":"a-ci"}`), Created: t0.Add(time.Hour), CreatedBy: "other", Incarnation: "inc-a1"},
	}
	for _, id := range ids {
		if err := s.PutIdentity(ctx, id); err != nil {
			t.Fatalf("PutIdentity(%s) = %v", id.ID, err)
		}
	}
	v1, err := s.IdentitiesVersion(ctx)
	if err != nil || v1 == v0 {
		t.Errorf("IdentitiesVersion() after two puts = %d, %v, want a change from %d", v1, err, v0)
	}
	wantIdentities(t, s, ids[1], ids[0])

	got, err := s.GetIdentity(ctx, "b-ci")
	if err != nil {
		t.Fatalf("GetIdentity(b-ci) = %v", err)
	}
	if d := diffIdentity(*got, ids[0]); d != "" {
		t.Errorf("GetIdentity(b-ci): %s", d)
	}
	_, err = s.GetIdentity(ctx, "unknown")
	wantNotFound(t, "GetIdentity(unknown)", err)

	// Create-only: a taken id is ErrExists and changes nothing.
	err = s.PutIdentity(ctx, store.StoredIdentity{ID: "a-ci", Document: []byte(`{"other":true}`), Created: t0, Incarnation: "inc-a2"})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("PutIdentity(a-ci) again = %v, want ErrExists", err)
	}
	for _, bad := range []store.StoredIdentity{{Document: []byte(`{}`), Incarnation: "i"}, {ID: "no-doc", Incarnation: "i"}, {ID: "no-incarnation", Document: []byte(`{}`)}} {
		if err := s.PutIdentity(ctx, bad); err == nil || errors.Is(err, store.ErrExists) {
			t.Errorf("PutIdentity(%q, %q) = %v, want an error other than ErrExists", bad.ID, bad.Document, err)
		}
	}
	if v, err := s.IdentitiesVersion(ctx); err != nil || v != v1 {
		t.Errorf("IdentitiesVersion() after failed puts = %d, %v, want %d", v, err, v1)
	}
	wantIdentities(t, s, ids[1], ids[0])

	if err := s.DeleteIdentity(ctx, "a-ci"); err != nil {
		t.Fatalf("DeleteIdentity(a-ci) = %v", err)
	}
	wantNotFound(t, "DeleteIdentity(a-ci) twice", s.DeleteIdentity(ctx, "a-ci"))
	_, err = s.GetIdentity(ctx, "a-ci")
	wantNotFound(t, "GetIdentity(a-ci) after delete", err)
	v2, err := s.IdentitiesVersion(ctx)
	if err != nil || v2 == v1 || v2 == v0 {
		t.Errorf("IdentitiesVersion() after delete = %d, %v, want a new version (had %d, %d)", v2, err, v0, v1)
	}
	wantIdentities(t, s, ids[0])

	// A deleted id can be created again, as another incarnation; a zero
	// creation time means now.
	before := time.Now().Add(-time.Minute)
	if err := s.PutIdentity(ctx, store.StoredIdentity{ID: "a-ci", Document: []byte(`{}`), Incarnation: "inc-a3"}); err != nil {
		t.Fatalf("PutIdentity(a-ci) after delete = %v", err)
	}
	got, err = s.GetIdentity(ctx, "a-ci")
	if err != nil || got.Created.Before(before) || got.Incarnation != "inc-a3" {
		t.Errorf("GetIdentity(a-ci) = %+v, %v, want incarnation inc-a3, created about now", got, err)
	}
}

// wantIdentities fails unless s lists exactly want, in order.
func wantIdentities(t *testing.T, s store.Store, want ...store.StoredIdentity) {
	t.Helper()
	got, err := s.ListIdentities(t.Context())
	if err != nil {
		t.Fatalf("ListIdentities() = %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListIdentities() = %d identities, want %d", len(got), len(want))
	}
	for i := range want {
		if d := diffIdentity(got[i], want[i]); d != "" {
			t.Errorf("ListIdentities()[%d]: %s", i, d)
		}
	}
}

func diffIdentity(got, want store.StoredIdentity) string {
	if got.ID != want.ID || string(got.Document) != string(want.Document) ||
		!got.Created.Equal(want.Created) || got.CreatedBy != want.CreatedBy || got.Incarnation != want.Incarnation {
		return "got " + got.ID + " " + string(got.Document) + " " + got.Created.String() + " " + got.CreatedBy + " " + got.Incarnation +
			", want " + want.ID + " " + string(want.Document) + " " + want.Created.String() + " " + want.CreatedBy + " " + want.Incarnation
	}
	return ""
}
