package ambient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	ghRequestToken = "gh-request-token-s3cret"
	audience       = "registry.example.com"
)

func TestGitHubToken(t *testing.T) {
	idToken := makeJWT(`{"sub":"repo:o/r:ref:refs/heads/main"}`)
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		url      func(srv string) string // ACTIONS_ID_TOKEN_REQUEST_URL
		audience string
		want     string
		wantErr  string
	}{
		{
			name: "ok",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"count":1,"value":%q}`, idToken+"\n")
			},
			audience: audience,
			want:     idToken,
		},
		{
			name: "no audience omits the parameter",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Has("audience") {
					http.Error(w, "unexpected audience", http.StatusBadRequest)
					return
				}
				fmt.Fprintf(w, `{"value":%q}`, idToken)
			},
			want: idToken,
		},
		{
			name: "unauthorized",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "bad token "+ghRequestToken, http.StatusUnauthorized)
			},
			audience: audience,
			wantErr:  "401 Unauthorized (request token rejected",
		},
		{
			name: "server error",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			audience: audience,
			wantErr:  "answered 500 Internal Server Error",
		},
		{
			name: "oversized body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"value":%q}`, strings.Repeat("a", 3*MaxTokenSize))
			},
			audience: audience,
			wantErr:  "token response larger than",
		},
		{
			name: "token over the cap in a body under it",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"value":%q}`, strings.Repeat("a", MaxTokenSize+1))
			},
			audience: audience,
			wantErr:  "token larger than",
		},
		{
			name: "not JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "value="+idToken)
			},
			audience: audience,
			wantErr:  "not a JSON object",
		},
		{
			name: "no value",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"count":0}`)
			},
			audience: audience,
			wantErr:  `has no "value"`,
		},
		{
			name: "redirect not followed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					fmt.Fprintf(w, `{"value":%q}`, idToken)
					return
				}
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			audience: audience,
			wantErr:  "answered 302 Found",
		},
		{
			name:     "plain http off loopback",
			handler:  func(w http.ResponseWriter, r *http.Request) {},
			url:      func(string) string { return "http://token.example.com/idtoken?api-version=2.0" },
			audience: audience,
			wantErr:  "must use https",
		},
		{
			name:     "relative URL",
			handler:  func(w http.ResponseWriter, r *http.Request) {},
			url:      func(string) string { return "/idtoken" },
			audience: audience,
			wantErr:  "not an absolute URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Every request must carry the request token and keep the
				// endpoint's own query parameters.
				if got := r.Header.Get("Authorization"); got != "Bearer "+ghRequestToken {
					http.Error(w, "bad authorization", http.StatusForbidden)
					return
				}
				if got := r.URL.Query().Get("api-version"); got != "2.0" && r.URL.Path == "/idtoken" {
					http.Error(w, "lost api-version", http.StatusBadRequest)
					return
				}
				if tt.audience != "" && r.URL.Query().Get("audience") != tt.audience {
					http.Error(w, "wrong audience", http.StatusBadRequest)
					return
				}
				tt.handler(w, r)
			}))
			defer srv.Close()
			u := srv.URL + "/idtoken?api-version=2.0"
			if tt.url != nil {
				u = tt.url(srv.URL)
			}
			env := &fakeEnv{
				vars:   map[string]string{EnvGitHubRequestURL: u, EnvGitHubRequestToken: ghRequestToken},
				client: srv.Client(),
			}
			p := &githubProvider{env: env, timeout: DefaultTimeout}
			if !p.Detect() {
				t.Fatal("Detect() = false, want true")
			}
			got, err := p.Token(t.Context(), tt.audience)
			checkNoSecret(t, err, ghRequestToken, idToken)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Token() error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Token() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Token() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGitHubTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	env := &fakeEnv{
		vars:   map[string]string{EnvGitHubRequestURL: srv.URL + "/?x=1", EnvGitHubRequestToken: ghRequestToken},
		client: srv.Client(),
	}
	_, tok, err := Detect(t.Context(), env, audience, WithTimeout(50*time.Millisecond))
	if err == nil || tok != "" {
		t.Fatalf("Detect() = %q, %v; want a timeout error", tok, err)
	}
	if !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Errorf("Detect() error = %v, want deadline exceeded", err)
	}
	checkNoSecret(t, err, ghRequestToken)
}

func TestSecureURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"https://pipelines.actions.githubusercontent.com/x", true},
		{"http://127.0.0.1:8080/x", true},
		{"http://[::1]:8080/x", true},
		{"http://localhost/x", true},
		{"http://example.com/x", false},
		{"http://127.0.0.1.example.com/x", false},
		{"ftp://127.0.0.1/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := secureURL(u); got != tt.want {
				t.Errorf("secureURL(%s) = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}
