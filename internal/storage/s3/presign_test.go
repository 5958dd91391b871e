package s3

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET presigned url: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read presigned url: %v", err)
	}
	return resp.StatusCode, b
}

func TestPresign(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	content := []byte("fetched without credentials")
	dgst := digest.FromBytes(content)
	if _, err := s.Put(ctx, dgst, bytes.NewReader(content)); err != nil {
		t.Fatalf("Put(%s) = %v", dgst, err)
	}

	url, err := s.Presign(ctx, dgst, time.Minute)
	if err != nil {
		t.Fatalf("Presign(%s) = %v", dgst, err)
	}
	if strings.Contains(url, e.srv.SecretKey) {
		t.Errorf("Presign(%s) = %q contains the secret key", dgst, url)
	}
	if code, body := httpGet(t, url); code != http.StatusOK || !bytes.Equal(body, content) {
		t.Errorf("GET presigned url = %d %q, want 200 %q", code, body, content)
	}

	short, err := s.Presign(ctx, dgst, time.Second)
	if err != nil {
		t.Fatalf("Presign(%s, 1s) = %v", dgst, err)
	}
	time.Sleep(2100 * time.Millisecond)
	if code, _ := httpGet(t, short); code != http.StatusForbidden {
		t.Errorf("GET expired presigned url = %d, want 403", code)
	}

	for _, ttl := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
		if _, err := s.Presign(ctx, dgst, ttl); err == nil {
			t.Errorf("Presign(%s, %s) = nil error, want an error", dgst, ttl)
		}
	}
	if _, err := s.Presign(ctx, "sha256:nope", time.Minute); err == nil {
		t.Error("Presign of an invalid digest = nil error, want an error")
	}
}
