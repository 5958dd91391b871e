package shared

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
)

const (
	testID = "pt-abcdefghijklmnopqrst"
	// validSecret is a well-formed secret: its checksum matches.
	validSecret = "ccpt_nr3tv1zZ9hWEjSakBKxq2j7dTGg9JtNszcSu69efxNY3wyxZ1"
)

func client(t *testing.T, stubs ...apitest.Stub) *api.Client {
	t.Helper()
	reg := apitest.New(t, stubs...)
	hc, _ := reg.HTTPClient()
	c, err := api.New(hc, apitest.URL, apitest.Token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClient checks each typed call's method, path, body and decoding
// against the stub registry, which fails on any request it was not told of.
func TestClient(t *testing.T) {
	created := `{"id":"` + testID + `","name":"ci","repositories":["acme/*"],"creator":"alice","created":"2026-12-07T14:00:00Z",` +
		`"expires":"2027-01-06T14:00:00Z","expired":false,"secret":"` + validSecret + `","future":1}`
	c := client(t,
		apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens",
			WantBody: `{"name":"ci","repositories":["acme/*","team/app"],"ttl_seconds":3600}`, Status: 201, Body: created},
		apitest.Stub{Method: "POST", Path: "/api/v1/pull-tokens", WantBody: `{"repositories":["a"]}`, Status: 201, Body: `{"id":"` + testID + `"}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/pull-tokens", Status: 200,
			Body: `{"pull_tokens":[{"id":"` + testID + `","repositories":["acme/*"],"last_used":"2026-12-08T00:00:00Z"}]}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/pull-tokens?expired=true", Status: 200, Body: `{"pull_tokens":[{"id":"a","expired":true},{"id":"b"}]}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/pull-tokens/" + testID, Status: 200, Body: `{"id":"` + testID + `","creator":"bob"}`},
		apitest.Stub{Method: "DELETE", Path: "/api/v1/pull-tokens/" + testID, Status: 204},
	)
	ctx := t.Context()

	tok, err := CreatePullToken(ctx, c, CreateRequest{Name: "ci", Repositories: []string{"acme/*", "team/app"}, TTLSeconds: 3600})
	if err != nil || tok.ID != testID || string(tok.Secret) != validSecret || tok.Expires != "2027-01-06T14:00:00Z" ||
		tok.Creator != "alice" || !reflect.DeepEqual(tok.Repositories, []string{"acme/*"}) || string(tok.Raw) != created {
		t.Errorf("CreatePullToken() = %+v, %v", tok, err)
	}
	if s := fmt.Sprintf("%+v %v %#v", *tok, tok, *tok); strings.Contains(s, validSecret) || strings.Contains(s, "nr3tv1") {
		t.Errorf("formatting a PullToken shows its secret: %s", s)
	}
	// An answer without a valid secret is refused, without quoting it.
	if _, err := CreatePullToken(ctx, c, CreateRequest{Repositories: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "no valid token id and secret") {
		t.Errorf("CreatePullToken() of an answer without a secret = %v", err)
	}

	list, err := ListPullTokens(ctx, c, false)
	if err != nil || len(list) != 1 || list[0].LastUsed != "2026-12-08T00:00:00Z" || list[0].Secret != "" {
		t.Errorf("ListPullTokens(false) = %+v, %v", list, err)
	}
	list, err = ListPullTokens(ctx, c, true)
	if err != nil || len(list) != 2 || !list[0].Expired || list[1].Expired {
		t.Errorf("ListPullTokens(true) = %+v, %v", list, err)
	}
	got, err := GetPullToken(ctx, c, testID)
	if err != nil || got.Creator != "bob" {
		t.Errorf("GetPullToken() = %+v, %v", got, err)
	}
	if err := RevokePullToken(ctx, c, testID); err != nil {
		t.Errorf("RevokePullToken() = %v", err)
	}
}

func TestDecodeNamesNoValue(t *testing.T) {
	c := client(t, apitest.Stub{Method: "GET", Path: "/api/v1/pull-tokens", Status: 200,
		Body: `{"pull_tokens":[{"id":"a","expired":"` + validSecret + `"}]}`})
	_, err := ListPullTokens(t.Context(), c, false)
	if err == nil || strings.Contains(err.Error(), validSecret) || !strings.Contains(err.Error(), `"expired"`) {
		t.Errorf("ListPullTokens() of a bad field = %v, want an error naming the field only", err)
	}
}

func TestMapError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		id       string
		want     string
		wantAuth bool
		wantHint string
	}{
		{name: "401", err: &api.Error{Status: 401, Code: "unauthorized", Message: "expired"}, want: "the registry refused the session token: expired", wantAuth: true, wantHint: "run `chainctl auth login`"},
		{name: "403", err: &api.Error{Status: 403, Code: "forbidden", Message: "not an owner of acme/*"}, want: "permission denied: not an owner of acme/*", wantAuth: true,
			wantHint: "you must be an owner of every repository pattern the pull token covers"},
		{name: "404 of a token", err: &api.Error{Status: 404, Code: "not_found", Message: "x"}, id: testID, want: "no pull token " + testID + ": it may have been revoked already"},
		{name: "404 of the API", err: &api.Error{Status: 404, Message: "404 page not found"}, want: "this registry has no pull-token API", wantHint: "older than pull tokens"},
		{name: "ttl above the maximum", err: &api.Error{Status: 400, Code: "invalid", Message: "ttl 9000h exceeds the maximum 8760h"}, want: "ttl 9000h exceeds the maximum 8760h", wantHint: "auth.pull_tokens.max_ttl"},
		{name: "other 400", err: &api.Error{Status: 400, Code: "invalid", Message: "bad pattern"}, want: "bad pattern"},
		{name: "not an API error", err: errors.New("dial tcp: refused"), want: "dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MapError(tt.err, tt.id)
			var ae *cmdutil.AuthError
			if got.Error() != tt.want || errors.As(got, &ae) != tt.wantAuth {
				t.Errorf("MapError(%v) = %q (%T), want %q, AuthError %v", tt.err, got, got, tt.want, tt.wantAuth)
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(got, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
				t.Errorf("MapError(%v) = %v, want a hint with %q", tt.err, got, tt.wantHint)
			}
		})
	}
}

func TestFlagsRequest(t *testing.T) {
	tests := []struct {
		name        string
		flags       Flags
		forFlag     string
		want        CreateRequest
		wantErr     string
		wantHint    bool // a HintError, not a FlagError
		wantFlagErr bool
	}{
		{name: "everything", flags: Flags{Name: " ci ", Description: "d", Repositories: []string{"acme/*", "team/app, base"}, TTL: "30d"},
			want: CreateRequest{Name: "ci", Description: "d", Repositories: []string{"acme/*", "team/app", "base"}, TTLSeconds: 30 * 24 * 3600}},
		{name: "registry default ttl", flags: Flags{Repositories: []string{"*"}}, want: CreateRequest{Repositories: []string{"*"}}},
		{name: "no repository", flags: Flags{TTL: "1h"}, wantErr: "a pull token needs at least one --repository", wantHint: true},
		{name: "no repository with --pull-token", forFlag: "--pull-token", wantErr: "--repository is required with --pull-token", wantHint: true},
		{name: "empty repository", flags: Flags{Repositories: []string{" , "}}, wantErr: "--repository: empty pattern", wantFlagErr: true},
		{name: "bad pattern", flags: Flags{Repositories: []string{"te*"}}, wantErr: "wildcard", wantFlagErr: true},
		{name: "bad ttl", flags: Flags{Repositories: []string{"a"}, TTL: "-1h"}, wantErr: `--ttl "-1h": want a positive duration`, wantFlagErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.flags.Request(tt.forFlag)
			if tt.wantErr == "" {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Request() = %+v, %v, want %+v", got, err, tt.want)
				}
				return
			}
			var he *cmdutil.HintError
			var fe *cmdutil.FlagError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &he) != tt.wantHint || errors.As(err, &fe) != tt.wantFlagErr {
				t.Fatalf("Request() = %v (%T), want %q (hint %v, flag error %v)", err, err, tt.wantErr, tt.wantHint, tt.wantFlagErr)
			}
			if tt.wantHint && !strings.Contains(he.Hint, "team/* (everything under team/)") {
				t.Errorf("hint = %q, want the pattern syntax", he.Hint)
			}
		})
	}
}

func TestParseTTL(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "", want: 0},
		{in: "720h", want: 720 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: " 1d ", want: 24 * time.Hour},
		{in: "0", wantErr: true},
		{in: "0d", wantErr: true},
		{in: "-5m", wantErr: true},
		{in: "500ms", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "99999999999d", wantErr: true},
		{in: "forever", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTTL(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseTTL(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
