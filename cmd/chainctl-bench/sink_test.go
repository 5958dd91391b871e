package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSink checks that the sink answers every delivery 204, remembers
// the arrival of well-formed ones by digest, and reports the first
// malformed one.
func TestSink(t *testing.T) {
	good := map[string]string{
		"ce-specversion": "1.0", "ce-id": "1", "ce-source": "http://r", "ce-type": eventTypePush,
		"ce-subject": "bench/x:t", "ce-time": "2026-12-07T10:00:00Z", "Authorization": "Bearer x.y.z",
	}
	const body = `{"repository":"bench/x","digest":"sha256:aa","when":"2026-12-07T10:00:00.123456789Z"}`
	tests := []struct {
		name    string
		without string            // a header of good left out
		header  map[string]string // headers set over good's
		body    string
		wantErr string // "" for a well-formed delivery
	}{
		{name: "well-formed", body: body},
		{name: "no id", without: "ce-id", body: body, wantErr: "no ce-id header"},
		{name: "other type", header: map[string]string{"ce-type": eventTypePull}, body: body, wantErr: "ce-type"},
		{name: "no token", without: "Authorization", body: body, wantErr: "no bearer token"},
		{name: "basic", header: map[string]string{"Authorization": "Basic eDp5"}, body: body, wantErr: "no bearer token"},
		{name: "not json", body: "digest=sha256:aa", wantErr: "data"},
		{name: "no when", body: `{"digest":"sha256:aa"}`, wantErr: "without digest or when"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk, err := newSink(eventTypePush)
			if err != nil {
				t.Fatal(err)
			}
			defer sk.close()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, sk.url, strings.NewReader(tt.body))
			for k, v := range good {
				if k != tt.without {
					req.Header.Set(k, v)
				}
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent || sk.count() != 1 {
				t.Errorf("POST = %s, count %d; want 204, 1", resp.Status, sk.count())
			}
			at, missing := sk.arrivals([]string{"sha256:aa"})
			err = sk.err()
			if tt.wantErr == "" {
				if err != nil || missing != 0 || at[0].Before(t0) {
					t.Errorf("arrivals = %v, %d missing, err %v; want one after %v, nil", at, missing, err, t0)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || missing != 1 {
				t.Errorf("err = %v, %d missing; want an error containing %q, the digest missing", err, missing, tt.wantErr)
			}
		})
	}
}

func TestSinkAwait(t *testing.T) {
	sk, err := newSink(eventTypePush)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.close()
	_, err = sk.await(t.Context(), []string{"sha256:aa", "sha256:bb"}, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "2 of 2 events not delivered") {
		t.Errorf("await = %v, want 2 of 2 not delivered", err)
	}
}
