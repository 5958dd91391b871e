package login_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/devidp"
	"github.com/chainctl/chainctl/internal/oidc/login"
)

// approveDevice acts as the user on the verification page: it opens the
// complete verification URI and presses Approve (or Deny).
func approveDevice(t *testing.T, env *idp, code login.DeviceCode, action string) {
	t.Helper()
	c := noFollow()
	resp, page := get(t, c, code.VerificationURIComplete)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("GET %s = %d, want the approve page:\n%s", code.VerificationURIComplete, resp.StatusCode, page)
	}
	form := hiddenFields(page)
	form.Set("action", action)
	if resp, page = postForm(t, c, env.srv.URL+"/device", form); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST device = %d:\n%s", resp.StatusCode, page)
	}
}

func TestDevice(t *testing.T) {
	type step struct {
		advance time.Duration // how far the fake clock moves; 0 means as asked
		action  string        // "approve" or "deny" the device before the poll
	}
	tests := []struct {
		name       string
		steps      []step
		wantSleeps []time.Duration
		wantErr    error
	}{
		{
			name:       "approved",
			steps:      []step{{}, {action: "approve"}},
			wantSleeps: []time.Duration{5 * time.Second, 5 * time.Second},
		},
		{
			// The second poll comes after 1s, which the provider answers
			// with slow_down; the client must then wait 5s longer.
			name:       "slow_down adds 5s",
			steps:      []step{{}, {advance: time.Second}, {}, {action: "approve"}},
			wantSleeps: []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second},
		},
		{
			name:       "denied",
			steps:      []step{{action: "deny"}},
			wantSleeps: []time.Duration{5 * time.Second},
			wantErr:    login.ErrAccessDenied,
		},
		{
			name:       "code expires",
			steps:      []step{{}, {advance: 11 * time.Minute}},
			wantSleeps: []time.Duration{5 * time.Second, 5 * time.Second},
			wantErr:    login.ErrExpiredToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			env := newIDP(t, devidp.WithClock(clock.Now))
			var code login.DeviceCode
			var sleeps []time.Duration
			sleep := func(_ context.Context, d time.Duration) error {
				i := len(sleeps)
				sleeps = append(sleeps, d)
				if i >= len(tt.steps) {
					return errors.New("too many polls")
				}
				s := tt.steps[i]
				if s.advance == 0 {
					s.advance = d
				}
				clock.Advance(s.advance)
				if s.action != "" {
					approveDevice(t, env, code, s.action)
				}
				return nil
			}
			tok, err := login.Device(context.Background(), env.cfg,
				login.WithClock(clock.Now), login.WithSleep(sleep),
				login.WithPrompter(login.PrompterFuncs{Device: func(c login.DeviceCode) { code = c }}))

			if code.UserCode == "" || !strings.HasPrefix(code.VerificationURI, env.srv.URL) ||
				!strings.Contains(code.VerificationURIComplete, "user_code=") || code.Expiry.IsZero() {
				t.Errorf("ShowDeviceCode(%+v), want a user code, URIs and an expiry", code)
			}
			if !slices.Equal(sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", sleeps, tt.wantSleeps)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Device() = %v, %v, want %v", tok, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Device() = %v", err)
			}
			if tok.Subject != "dev" || tok.Issuer != env.cfg.Issuer {
				t.Errorf("Device() = %+v, want sub dev of %s", tok, env.cfg.Issuer)
			}
		})
	}
}

// standIn is a scripted OpenID provider for the device grant: its token
// endpoint answers each poll with the next scripted error.
type standIn struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers []string // OAuth error codes, one per poll
	polls   int
	device  map[string]any
	noDev   bool
}

func newStandIn(t *testing.T, s *standIn) *standIn {
	t.Helper()
	mux := http.NewServeMux()
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		d := map[string]any{
			"issuer": s.srv.URL, "authorization_endpoint": s.srv.URL + "/authorize",
			"token_endpoint": s.srv.URL + "/token", "jwks_uri": s.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		}
		if !s.noDev {
			d["device_authorization_endpoint"] = s.srv.URL + "/device_authorization"
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("POST /device_authorization", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.device)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || r.FormValue("device_code") != "dc" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		code := "server_error"
		if s.polls < len(s.answers) {
			code = s.answers[s.polls]
		}
		s.polls++
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": "scripted " + code})
	})
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestDevicePolling(t *testing.T) {
	device := func(interval int) map[string]any {
		m := map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH", "verification_url": "https://example.test/device", "expires_in": 600}
		if interval > 0 {
			m["interval"] = interval
		}
		return m
	}
	tests := []struct {
		name       string
		device     map[string]any
		answers    []string
		noDev      bool
		wantSleeps []time.Duration
		wantErr    error
		wantText   string
	}{
		{
			name:       "default interval, pending then expired_token",
			device:     device(0),
			answers:    []string{"authorization_pending", "authorization_pending", "expired_token"},
			wantSleeps: []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second},
			wantErr:    login.ErrExpiredToken,
		},
		{
			name:       "server interval and repeated slow_down",
			device:     device(2),
			answers:    []string{"slow_down", "slow_down", "authorization_pending", "access_denied"},
			wantSleeps: []time.Duration{2 * time.Second, 7 * time.Second, 12 * time.Second, 12 * time.Second},
			wantErr:    login.ErrAccessDenied,
		},
		{
			name:       "unknown error ends polling",
			device:     device(1),
			answers:    []string{"invalid_client"},
			wantSleeps: []time.Duration{time.Second},
			wantText:   "scripted invalid_client",
		},
		{
			name:     "no device endpoint",
			noDev:    true,
			wantErr:  login.ErrDeviceUnsupported,
			wantText: "device",
		},
		{
			name:     "incomplete device response",
			device:   map[string]any{"device_code": "dc"},
			wantText: "lacks",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t, &standIn{answers: tt.answers, device: tt.device, noDev: tt.noDev})
			cfg := &login.Config{Issuer: s.srv.URL, ClientID: "chainctl"}
			var sleeps []time.Duration
			var shown login.DeviceCode
			_, err := login.Device(context.Background(), cfg,
				login.WithSleep(func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }),
				login.WithPrompter(login.PrompterFuncs{Device: func(c login.DeviceCode) { shown = c }}))
			if err == nil {
				t.Fatal("Device() = nil error, want one")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Device() = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Device() = %v, want it to mention %q", err, tt.wantText)
			}
			if !slices.Equal(sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", sleeps, tt.wantSleeps)
			}
			if len(tt.wantSleeps) > 0 && shown.VerificationURI != "https://example.test/device" {
				t.Errorf("ShowDeviceCode(%+v), want verification_url used as the URI", shown)
			}
		})
	}
}

func TestDeviceTimeout(t *testing.T) {
	s := newStandIn(t, &standIn{device: map[string]any{
		"device_code": "dc", "user_code": "A", "verification_uri": "https://x.test", "interval": 1,
	}, answers: []string{"authorization_pending", "authorization_pending", "authorization_pending"}})
	cfg := &login.Config{Issuer: s.srv.URL, ClientID: "chainctl"}
	// The real sleep with a 50ms timeout: the first 1s wait is cut short.
	_, err := login.Device(context.Background(), cfg, login.WithTimeout(50*time.Millisecond))
	if !errors.Is(err, login.ErrTimeout) {
		t.Errorf("Device() = %v, want ErrTimeout", err)
	}
}
