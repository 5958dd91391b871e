package deliveries

import (
	"context"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

const subID = "sub-aaaaaaaaaaaaaaaaaaaa"

func TestNewCmdDeliveries(t *testing.T) {
	tests := []struct {
		args    []string
		failed  bool
		limit   int
		wantErr string
	}{
		{args: []string{subID}, limit: 50},
		{args: []string{subID, "--failed", "--limit", "3"}, failed: true, limit: 3},
		{args: nil, wantErr: "accepts 1 arg(s), received 0"},
		{args: []string{"hooks"}, wantErr: `"hooks" is not a subscription id`},
		{args: []string{subID, "--limit", "0"}, wantErr: "--limit must be at least 1"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *DeliveriesOptions
		cmd := NewCmdDeliveries(apitest.Factory(ios, cmdutil.OutputTable, nil), func(_ context.Context, o *DeliveriesOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
				t.Errorf("Execute(%q) = %v, ran %v; want an error with %q", tt.args, err, got != nil, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Subscription != subID || got.Failed != tt.failed || got.Limit != tt.limit {
			t.Errorf("Execute(%q) = %v, %+v", tt.args, err, got)
		}
	}
}

func Test_deliveriesRun(t *testing.T) {
	d := func(ev, state string) string {
		return `{"event":"` + ev + `","type":"push","subject":"acme/app:v1","time":"2026-12-07T10:00:00Z","state":"` + state +
			`","attempts":2,"last_status":503,"last_error":"503 Service Unavailable\u001b[31m","next_attempt":"2026-12-07T10:05:00Z","updated":"2026-12-07T10:01:00Z"}`
	}
	base := "/api/v1/subscriptions/" + subID + "/deliveries"
	t.Run("pages until the limit, as a table", func(t *testing.T) {
		reg := apitest.New(t,
			apitest.Stub{Method: "GET", Path: base + "?failed=true&limit=3", Status: 200, Body: `{"deliveries":[` + d("e3", "failed") + `,` + d("e2", "failed") + `],"next":"dx"}`},
			apitest.Stub{Method: "GET", Path: base + "?cursor=dx&failed=true&limit=1", Status: 200, Body: `{"deliveries":[` + d("e1", "failed") + `],"next":"dy"}`},
		)
		ios, _, out, _ := iostreams.Test()
		err := deliveriesRun(t.Context(), &DeliveriesOptions{Remote: reg.Remote(ios, cmdutil.OutputTable), Subscription: subID, Failed: true, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "EVENT") || !strings.HasPrefix(lines[1], "e3") || !strings.HasPrefix(lines[3], "e1") {
			t.Fatalf("table = %q", out.String())
		}
		if strings.Contains(out.String(), "\x1b") || !strings.Contains(lines[1], "503 Service Unavailable [31m") {
			t.Errorf("a sink's error reached the terminal as it was: %q", lines[1])
		}
	})
	t.Run("json", func(t *testing.T) {
		reg := apitest.New(t, apitest.Stub{Method: "GET", Path: base + "?limit=50", Status: 200, Body: `{"deliveries":[` + d("e1", "pending") + `]}`})
		ios, _, out, _ := iostreams.Test()
		if err := deliveriesRun(t.Context(), &DeliveriesOptions{Remote: reg.Remote(ios, cmdutil.OutputJSON), Subscription: subID, Limit: 50}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), "[\n  {\n    \"event\": \"e1\"") || !strings.Contains(out.String(), `"next_attempt": "2026-12-07T10:05:00Z"`) {
			t.Errorf("json = %s", out)
		}
	})
	t.Run("none", func(t *testing.T) {
		reg := apitest.New(t, apitest.Stub{Method: "GET", Path: base + "?limit=50", Status: 200, Body: `{"deliveries":[]}`})
		ios, _, out, errOut := iostreams.Test()
		if err := deliveriesRun(t.Context(), &DeliveriesOptions{Remote: reg.Remote(ios, cmdutil.OutputTable), Subscription: subID, Limit: 50}); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || errOut.String() != "No deliveries to "+subID+"\n" {
			t.Errorf("stdout %q, stderr %q", out, errOut)
		}
	})
	t.Run("not found", func(t *testing.T) {
		reg := apitest.New(t, apitest.Stub{Method: "GET", Path: base + "?limit=50", Status: 404, Body: `{"error":"not_found","message":"no subscription"}`})
		ios, _, _, _ := iostreams.Test()
		err := deliveriesRun(t.Context(), &DeliveriesOptions{Remote: reg.Remote(ios, cmdutil.OutputTable), Subscription: subID, Limit: 50})
		if err == nil || !strings.Contains(err.Error(), "no subscription "+subID) {
			t.Errorf("deliveriesRun() = %v", err)
		}
	})
}
