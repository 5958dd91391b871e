package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
)

func newClient(t *testing.T, stubs ...apitest.Stub) *api.Client {
	t.Helper()
	hc, _ := apitest.New(t, stubs...).HTTPClient()
	c, err := api.New(hc, apitest.URL, apitest.Token)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return c
}

type thing struct {
	ID   string `json:"id"`
	Size int    `json:"size,omitempty"`
}

func TestDo(t *testing.T) {
	tests := []struct {
		name    string
		stub    apitest.Stub
		method  string
		path    string
		in      any
		out     bool // decode into a thing
		want    thing
		wantErr string
		wantAPI *api.Error
	}{
		{name: "get", method: "GET", path: "things", out: true, want: thing{ID: "a", Size: 2},
			stub: apitest.Stub{Method: "GET", Path: "/api/v1/things", Status: 200, Body: `{"id":"a","size":2}`}},
		{name: "escaped id and a query", method: "GET", path: api.Path("things", "a/b c") + "?repository=x%2Fy", out: true, want: thing{ID: "a/b c"},
			stub: apitest.Stub{Method: "GET", Path: "/api/v1/things/a%2Fb%20c?repository=x%2Fy", Status: 200, Body: `{"id":"a/b c"}`}},
		{name: "post a body", method: "POST", path: "things", in: thing{ID: "n", Size: 1}, out: true, want: thing{ID: "n", Size: 1},
			stub: apitest.Stub{Method: "POST", Path: "/api/v1/things", WantBody: `{"id":"n","size":1}`, Status: 201, Body: `{"id":"n","size":1}`}},
		{name: "204 decodes nothing", method: "DELETE", path: "things/n", out: true,
			stub: apitest.Stub{Method: "DELETE", Path: "/api/v1/things/n", Status: 204}},
		{name: "no out ignores the body", method: "POST", path: "things/n/rotate",
			stub: apitest.Stub{Method: "POST", Path: "/api/v1/things/n/rotate", Status: 200, Body: `not json`}},
		{name: "error JSON", method: "POST", path: "things", in: thing{ID: "n"},
			stub:    apitest.Stub{Method: "POST", Path: "/api/v1/things", Status: 409, Body: `{"error":"conflict","message":"thing \"n\" exists"}`},
			wantAPI: &api.Error{Status: 409, Code: "conflict", Message: `thing "n" exists`}, wantErr: `thing "n" exists (conflict, HTTP 409)`},
		{name: "error without JSON", method: "GET", path: "things",
			stub:    apitest.Stub{Method: "GET", Path: "/api/v1/things", Status: 502, Body: `<html>bad gateway</html>`},
			wantAPI: &api.Error{Status: 502}, wantErr: "Bad Gateway (HTTP 502)"},
		{name: "error JSON of another shape", method: "GET", path: "things",
			stub:    apitest.Stub{Method: "GET", Path: "/api/v1/things", Status: 500, Body: `{"errors":[{"code":"UNKNOWN"}]}`},
			wantAPI: &api.Error{Status: 500}, wantErr: "Internal Server Error (HTTP 500)"},
		{name: "bad success JSON", method: "GET", path: "things", out: true,
			stub:    apitest.Stub{Method: "GET", Path: "/api/v1/things", Status: 200, Body: `{"id":`},
			wantErr: "GET /api/v1/things: decode response"},
		{name: "too large", method: "GET", path: "things", out: true,
			stub:    apitest.Stub{Method: "GET", Path: "/api/v1/things", Status: 200, Body: `"` + strings.Repeat("x", 4<<20) + `"`},
			wantErr: "GET /api/v1/things: response larger than 4194304 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.stub)
			var got thing
			var out any
			if tt.out {
				out = &got
			}
			err := c.Do(t.Context(), tt.method, tt.path, tt.in, out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Do() = %v, want an error with %q", err, tt.wantErr)
				}
				var apiErr *api.Error
				if tt.wantAPI != nil && (!errors.As(err, &apiErr) || *apiErr != *tt.wantAPI) {
					t.Errorf("Do() = %#v, want %#v", err, tt.wantAPI)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do() = %v", err)
			}
			if got != tt.want {
				t.Errorf("Do() decoded %+v, want %+v", got, tt.want)
			}
		})
	}
}

// failing is a transport whose every request fails, as a refused
// connection does.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// TestSecretsNeverInErrors: whatever fails, the error holds neither the
// session token, nor the request body, nor the query string.
func TestSecretsNeverInErrors(t *testing.T) {
	const bodySecret, querySecret = "body-s3cret", "query-s3cret"
	in := map[string]string{"token": bodySecret}
	path := "things?code=" + querySecret
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("Do() = nil, want an error")
		}
		for _, s := range []string{apitest.Token, bodySecret, querySecret} {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), s) {
				t.Errorf("Do() = %v: the error holds %q", err, s)
			}
		}
	}

	t.Run("transport", func(t *testing.T) {
		c, err := api.New(&http.Client{Transport: failing{}}, apitest.URL, apitest.Token)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Do(t.Context(), "POST", path, in, nil)
		check(t, err)
		var ue *url.Error
		if !errors.As(err, &ue) || ue.URL != apitest.URL+"/api/v1/things" || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Do() = %v, want a *url.Error naming %s/api/v1/things and the cause", err, apitest.URL)
		}
	})
	for _, st := range []apitest.Stub{
		{Status: 401, Body: `{"error":"unauthorized","message":"token expired"}`},
		{Status: 500, Body: `oops`},
		{Status: 200, Body: `{"id":`},
		{Status: 200, Body: strings.Repeat(" ", 4<<20+1)},
	} {
		t.Run(fmt.Sprint(st.Status), func(t *testing.T) {
			st.Method, st.Path = "POST", "/api/v1/things?code="+querySecret
			c := newClient(t, st)
			check(t, c.Do(t.Context(), "POST", path, in, &thing{}))
		})
	}
	t.Run("printing the client", func(t *testing.T) {
		c := newClient(t)
		if s := fmt.Sprintf("%v %+v %#v %s", c, c, c, c); strings.Contains(s, apitest.Token) || !strings.Contains(s, apitest.URL) {
			t.Errorf("printing a Client gives %q, want its registry and not its token", s)
		}
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, registry, wantErr string
	}{
		{name: "https", registry: "https://r.example.com"},
		{name: "trailing slash", registry: "https://r.example.com/"},
		{name: "loopback http", registry: "http://127.0.0.1:5000"},
		{name: "localhost http", registry: "http://localhost:5000"},
		{name: "http elsewhere", registry: "http://r.example.com", wantErr: "plain http"},
		{name: "not a URL", registry: "r.example.com", wantErr: "want http(s)"},
		{name: "ftp", registry: "ftp://r.example.com", wantErr: "want http(s)"},
		{name: "user info", registry: "https://u:p@r.example.com", wantErr: "no user info"},
		{name: "query", registry: "https://r.example.com?x=1", wantErr: "no user info, query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.New(nil, tt.registry, "t")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("New(%q) = %v, want error %q", tt.registry, err, tt.wantErr)
			}
		})
	}
}

func TestPath(t *testing.T) {
	if got, want := api.Path("identities", "a/b", "x y"), "identities/a%2Fb/x%20y"; got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
}
