package redeliver

import (
	"context"
	"strings"
	"testing"

	"github.com/chainctl/chainctl/internal/cli/api/apitest"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/iostreams"
)

const subID = "sub-aaaaaaaaaaaaaaaaaaaa"

func TestNewCmdRedeliver(t *testing.T) {
	tests := []struct {
		args    []string
		want    events.RedeliverRequest
		wantErr string
	}{
		{args: []string{subID, "--event", "e1"}, want: events.RedeliverRequest{Event: "e1"}},
		{args: []string{subID, "--since", "24h", "--failed"}, want: events.RedeliverRequest{Since: "24h", FailedOnly: true}},
		{args: []string{subID}, wantErr: "at least one of the flags in the group [event since] is required"},
		{args: []string{subID, "--event", "e1", "--since", "1h"}, wantErr: "none of the others can be"},
		{args: []string{subID, "--event", "e1", "--failed"}, wantErr: "none of the others can be"},
		{args: []string{"x", "--event", "e1"}, wantErr: `"x" is not a subscription id`},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *RedeliverOptions
		cmd := NewCmdRedeliver(apitest.Factory(ios, cmdutil.OutputTable, nil), func(_ context.Context, o *RedeliverOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
				t.Errorf("Execute(%q) = %v; want an error with %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Subscription != subID || got.Request != tt.want {
			t.Errorf("Execute(%q) = %v, %+v", tt.args, err, got)
		}
	}
}

func Test_redeliverRun(t *testing.T) {
	path := "/api/v1/subscriptions/" + subID + "/redeliver"
	tests := []struct {
		name       string
		stub       apitest.Stub
		output     cmdutil.OutputFormat
		wantOut    string
		wantStderr string
		wantErr    string
	}{
		{name: "queued", stub: apitest.Stub{Method: "POST", Path: path, WantBody: `{"since":"24h","failed":true}`, Status: 200, Body: `{"queued":3}`},
			wantStderr: "✓ Queued 3 events for delivery to " + subID + "\n"},
		{name: "disabled", stub: apitest.Stub{Method: "POST", Path: path, WantBody: `{"since":"24h","failed":true}`, Status: 200, Body: `{"queued":1,"disabled":true}`},
			wantStderr: "✓ Queued 1 event for delivery to " + subID + "\n! The subscription is disabled: nothing is delivered until `chainctl events subscriptions enable " + subID + "`\n"},
		{name: "json", output: cmdutil.OutputJSON, stub: apitest.Stub{Method: "POST", Path: path, Status: 200, Body: `{"queued":2}`},
			wantOut: "{\n  \"queued\": 2\n}\n"},
		{name: "refused", stub: apitest.Stub{Method: "POST", Path: path, Status: 400, Body: `{"error":"invalid","message":"since 2999-01-01 is in the future"}`},
			wantErr: "since 2999-01-01 is in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := apitest.New(t, tt.stub)
			ios, _, out, errOut := iostreams.Test()
			err := redeliverRun(t.Context(), &RedeliverOptions{Remote: reg.Remote(ios, tt.output), Subscription: subID,
				Request: events.RedeliverRequest{Since: "24h", FailedOnly: true}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("redeliverRun() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || out.String() != tt.wantOut || errOut.String() != tt.wantStderr {
				t.Errorf("redeliverRun() = %v\nstdout %q\nstderr %q", err, out, errOut)
			}
		})
	}
}
