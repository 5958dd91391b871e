package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// testPullTokens covers PutPullToken, GetPullToken, ListPullTokens,
// DeletePullToken, TouchPullToken and PullTokensVersion.
func testPullTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.ListPullTokens(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListPullTokens() of an empty store = %v, %v, want [], nil", got, err)
	}
	v0, err := s.PullTokensVersion(ctx)
	if err != nil {
		t.Fatalf("PullTokensVersion() = %v", err)
	}

	// Sub-second times, to catch truncation; out of id order.
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 987654321, time.UTC)
	tokens := []store.PullToken{
		{ID: "pt-b", Name: "nodes", Description: "kubelet pulls", Repositories: []string{"acme/*", "base/alpine"},
			Creator: "alice", CreatorIncarnation: "inc-1", SecretHash: []byte{1, 2, 3, 0, 255},
			Created: t0, Expires: t0.Add(720 * time.Hour)},
		{ID: "pt-a", Repositories: []string{"*"}, Creator: "bob", CreatorIncarnation: "inc-2",
			SecretHash: bytes.Repeat([]byte{7}, 32), Created: t0.Add(time.Second), Expires: t0.Add(time.Hour)},
	}
	for _, tok := range tokens {
		if err := s.PutPullToken(ctx, tok); err != nil {
			t.Fatalf("PutPullToken(%s) = %v", tok.ID, err)
		}
	}
	v1, err := s.PullTokensVersion(ctx)
	if err != nil || v1 == v0 {
		t.Errorf("PullTokensVersion() after two puts = %d, %v, want a change from %d", v1, err, v0)
	}
	wantPullTokens(t, s, tokens[1], tokens[0])

	got, err := s.GetPullToken(ctx, "pt-b")
	if err != nil {
		t.Fatalf("GetPullToken(pt-b) = %v", err)
	}
	if d := diffPullToken(*got, tokens[0]); d != "" {
		t.Errorf("GetPullToken(pt-b): %s", d)
	}
	_, err = s.GetPullToken(ctx, "pt-unknown")
	wantNotFound(t, "GetPullToken(pt-unknown)", err)

	// Create-only; incomplete tokens are refused; neither bumps the version.
	again := tokens[1]
	again.SecretHash = []byte("other")
	if err := s.PutPullToken(ctx, again); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutPullToken(pt-a) again = %v, want ErrExists", err)
	}
	for _, bad := range []store.PullToken{
		{SecretHash: []byte{1}, Creator: "c", Expires: t0},
		{ID: "pt-nohash", Creator: "c", Expires: t0},
		{ID: "pt-nocreator", SecretHash: []byte{1}, Expires: t0},
		{ID: "pt-noexpiry", SecretHash: []byte{1}, Creator: "c"},
	} {
		if err := s.PutPullToken(ctx, bad); err == nil || errors.Is(err, store.ErrExists) {
			t.Errorf("PutPullToken(%q) = %v, want an error other than ErrExists", bad.ID, err)
		}
	}
	if v, err := s.PullTokensVersion(ctx); err != nil || v != v1 {
		t.Errorf("PullTokensVersion() after failed puts = %d, %v, want %d", v, err, v1)
	}
	if got, err := s.GetPullToken(ctx, "pt-a"); err != nil || !bytes.Equal(got.SecretHash, tokens[1].SecretHash) {
		t.Errorf("GetPullToken(pt-a) after a refused put = %+v, %v, want the first secret hash", got, err)
	}

	// Touch moves last use forward only, and does not bump the version.
	used := t0.Add(2*time.Hour + 5*time.Nanosecond)
	if err := s.TouchPullToken(ctx, "pt-b", used); err != nil {
		t.Fatalf("TouchPullToken(pt-b) = %v", err)
	}
	if err := s.TouchPullToken(ctx, "pt-b", used.Add(-time.Minute)); err != nil {
		t.Fatalf("TouchPullToken(pt-b) earlier = %v", err)
	}
	if err := s.TouchPullToken(ctx, "pt-gone", used); err != nil {
		t.Errorf("TouchPullToken(pt-gone) = %v, want nil", err)
	}
	tokens[0].LastUsed = used
	if got, err := s.GetPullToken(ctx, "pt-b"); err != nil || !got.LastUsed.Equal(used) {
		t.Errorf("GetPullToken(pt-b).LastUsed = %v, %v, want %v", got, err, used)
	}
	if v, err := s.PullTokensVersion(ctx); err != nil || v != v1 {
		t.Errorf("PullTokensVersion() after touches = %d, %v, want %d", v, err, v1)
	}

	if err := s.DeletePullToken(ctx, "pt-a"); err != nil {
		t.Fatalf("DeletePullToken(pt-a) = %v", err)
	}
	wantNotFound(t, "DeletePullToken(pt-a) twice", s.DeletePullToken(ctx, "pt-a"))
	_, err = s.GetPullToken(ctx, "pt-a")
	wantNotFound(t, "GetPullToken(pt-a) after delete", err)
	if v2, err := s.PullTokensVersion(ctx); err != nil || v2 == v1 || v2 == v0 {
		t.Errorf("PullTokensVersion() after delete = %d, %v, want a new version (had %d, %d)", v2, err, v0, v1)
	}
	wantPullTokens(t, s, tokens[0])
}

// wantPullTokens fails unless s lists exactly want, in order.
func wantPullTokens(t *testing.T, s store.Store, want ...store.PullToken) {
	t.Helper()
	got, err := s.ListPullTokens(t.Context())
	if err != nil {
		t.Fatalf("ListPullTokens() = %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListPullTokens() = %d tokens, want %d", len(got), len(want))
	}
	for i := range want {
		if d := diffPullToken(got[i], want[i]); d != "" {
			t.Errorf("ListPullTokens()[%d]: %s", i, d)
		}
	}
}

func diffPullToken(got, want store.PullToken) string {
	if got.ID != want.ID || got.Name != want.Name || got.Description != want.Description ||
		!slices.Equal(got.Repositories, want.Repositories) || got.Creator != want.Creator ||
		got.CreatorIncarnation != want.CreatorIncarnation || !bytes.Equal(got.SecretHash, want.SecretHash) ||
		!got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) || !got.LastUsed.Equal(want.LastUsed) {
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	return ""
}
