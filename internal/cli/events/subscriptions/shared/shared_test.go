package shared

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/events"
)

const testID = "sub-abcdefghijklmnopqrst"

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
	sub := `{"id":"` + testID + `","sink":"https://h.example.com/x","types":["push"],"repositories":["acme/*"],"creator":"alice",` +
		`"created":"2026-12-07T14:00:00Z","disabled":true,"disabled_reason":"the sink answered 410 Gone",` +
		`"health":{"last_success":"2026-12-07T15:00:00Z","last_error":"410 Gone","last_error_at":"2026-12-07T16:00:00Z","pending":3,"failed":1}}`
	c := client(t,
		apitest.Stub{Method: "POST", Path: "/api/v1/subscriptions",
			WantBody: `{"sink":"https://h.example.com/x","types":["push"],"repositories":["acme/*"],"description":"d"}`, Status: 201, Body: sub},
		apitest.Stub{Method: "POST", Path: "/api/v1/subscriptions", WantBody: `{"sink":"https://h.example.com/x","repositories":["a"]}`, Status: 201, Body: `{"id":"x"}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/subscriptions", Status: 200, Body: `{"subscriptions":[` + sub + `,{"id":"sub-bbbbbbbbbbbbbbbbbbbb"}]}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/subscriptions/" + testID, Status: 200, Body: sub},
		apitest.Stub{Method: "DELETE", Path: "/api/v1/subscriptions/" + testID, Status: 204},
	)
	ctx := t.Context()
	want := Subscription{SubscriptionView: events.SubscriptionView{ID: testID, Sink: "https://h.example.com/x", Types: []string{"push"},
		Repositories: []string{"acme/*"}, Creator: "alice", Created: "2026-12-07T14:00:00Z", Disabled: true, DisabledReason: "the sink answered 410 Gone",
		Health: events.Health{LastSuccess: "2026-12-07T15:00:00Z", LastError: "410 Gone", LastErrorAt: "2026-12-07T16:00:00Z", Pending: 3, Failed: 1}},
		Raw: []byte(sub)}

	s, err := CreateSubscription(ctx, c, CreateRequest{Sink: "https://h.example.com/x", Types: []string{"push"}, Repositories: []string{"acme/*"}, Description: "d"})
	if err != nil || !reflect.DeepEqual(*s, want) {
		t.Errorf("CreateSubscription() = %+v, %v\nwant %+v", s, err, want)
	}
	if _, err := CreateSubscription(ctx, c, CreateRequest{Sink: "https://h.example.com/x", Repositories: []string{"a"}}); err == nil ||
		!strings.Contains(err.Error(), "no valid subscription id") {
		t.Errorf("CreateSubscription() of an answer without an id = %v", err)
	}
	list, err := ListSubscriptions(ctx, c)
	if err != nil || len(list) != 2 || !reflect.DeepEqual(list[0], want) || list[1].ID != "sub-bbbbbbbbbbbbbbbbbbbb" {
		t.Errorf("ListSubscriptions() = %+v, %v", list, err)
	}
	if s, err := GetSubscription(ctx, c, testID); err != nil || !reflect.DeepEqual(*s, want) {
		t.Errorf("GetSubscription() = %+v, %v", s, err)
	}
	if err := DeleteSubscription(ctx, c, testID); err != nil {
		t.Errorf("DeleteSubscription() = %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	c := client(t,
		apitest.Stub{Method: "GET", Path: "/api/v1/subscriptions", Status: 200, Body: `{"subscriptions":[{"id":"a","health":{"pending":"many"}}]}`},
		apitest.Stub{Method: "GET", Path: "/api/v1/subscriptions", Status: 200, Body: `{"subscriptions":["x"]}`},
	)
	if _, err := ListSubscriptions(t.Context(), c); err == nil || err.Error() != `decode subscription: field "health.pending" has the wrong type` {
		t.Errorf("ListSubscriptions() of a bad field = %v", err)
	}
	if _, err := ListSubscriptions(t.Context(), c); err == nil || err.Error() != "decode subscription: not a JSON object" {
		t.Errorf("ListSubscriptions() of a string = %v", err)
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
		{name: "401", err: &api.Error{Status: 401, Code: "unauthorized", Message: "expired"}, want: "the registry refused the session token: expired", wantAuth: true, wantHint: "chainctl auth login"},
		{name: "403", err: &api.Error{Status: 403, Code: "forbidden", Message: "not an owner of acme/*"}, want: "permission denied: not an owner of acme/*", wantAuth: true,
			wantHint: "subscriptions are managed by owners of every repository pattern they cover"},
		{name: "404 of a subscription", err: &api.Error{Status: 404, Code: "not_found", Message: "x"}, id: testID, want: "no subscription " + testID + ": it may have been deleted already"},
		{name: "404 of the API", err: &api.Error{Status: 404, Message: "404 page not found"}, want: "this registry has no events API", wantHint: "older than event subscriptions"},
		{name: "sink refused", err: &api.Error{Status: 400, Code: "invalid", Message: "sink must be https"}, want: "sink must be https", wantHint: "--dev or events.allow_private_sinks"},
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

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{
		testID:                      true,
		"sub-ABCDEFGHIJKLMNOPQRS2":  true,
		"sub-abcdefghijklmnopqrs":   false,
		"sub-abcdefghijklmnopqrstu": false,
		"sub-abcdefghijklmnopqrs1":  false,
		"sub-abcdefghijklmnopqrs/":  false,
		"pt-abcdefghijklmnopqrst":   false,
		"":                          false,
	} {
		if got := ValidID(s); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseTypes(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{in: nil, want: nil},
		{in: []string{"push,pull"}, want: []string{"push", "pull"}},
		{in: []string{"pull", " Push ", "pull"}, want: []string{"pull", "push"}},
		{in: []string{"dev.chainctl.registry.push.v1"}, want: []string{"push"}},
		{in: []string{","}, want: nil},
		{in: []string{"push,delete"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTypes(tt.in)
		var fe *cmdutil.FlagError
		if !reflect.DeepEqual(got, tt.want) || (err != nil) != tt.wantErr || tt.wantErr && !errors.As(err, &fe) {
			t.Errorf("ParseTypes(%q) = %q, %v, want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
