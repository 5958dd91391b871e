package listen

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink/eventsinktest"
)

func TestFilter(t *testing.T) {
	evOf := func(typ, repo, kind string) event.Event {
		e := event.New()
		e.SetID("x")
		e.SetType(typ)
		d := eventsinktest.PushData(time.Now())
		d.Repository, d.Type = repo, kind
		_ = e.SetData(event.ApplicationJSON, d)
		return e
	}
	ev := func(typ, repo string) event.Event { return evOf(typ, repo, events.KindManifest) }
	tests := []struct {
		name         string
		types, repos []string
		kinds        []string
		match        []event.Event
		skip         []event.Event
		wantErr      string
	}{
		{name: "none: everything", match: []event.Event{ev(events.TypePush, "acme/app"), ev(events.TypePull, "x")}},
		{name: "type", types: []string{"push"}, match: []event.Event{ev(events.TypePush, "x")}, skip: []event.Event{ev(events.TypePull, "x")}},
		{name: "both types, full names", types: []string{events.TypePull + ",push"},
			match: []event.Event{ev(events.TypePush, "x"), ev(events.TypePull, "x")}},
		{name: "patterns", repos: []string{"acme/*, team/app", "solo"},
			match: []event.Event{ev(events.TypePush, "acme/app"), ev(events.TypePull, "acme/a/b"), ev(events.TypePush, "team/app"), ev(events.TypePush, "solo")},
			skip:  []event.Event{ev(events.TypePush, "acme"), ev(events.TypePush, "team/app2"), ev(events.TypePush, "acmeco/app"), ev(events.TypePush, "solo/x")}},
		{name: "type and pattern", types: []string{"pull"}, repos: []string{"acme/*"},
			match: []event.Event{ev(events.TypePull, "acme/app")}, skip: []event.Event{ev(events.TypePush, "acme/app"), ev(events.TypePull, "other/app")}},
		{name: "kind", kinds: []string{"manifest"}, types: []string{"push"},
			match: []event.Event{ev(events.TypePush, "x")}, skip: []event.Event{evOf(events.TypePush, "x", events.KindBlob), ev(events.TypePull, "x")}},
		{name: "both kinds", kinds: []string{"blob,manifest"},
			match: []event.Event{ev(events.TypePush, "x"), evOf(events.TypePull, "x", events.KindBlob)}},
		{name: "kind and pattern", kinds: []string{"blob"}, repos: []string{"acme/*"},
			match: []event.Event{evOf(events.TypePush, "acme/a", events.KindBlob)}, skip: []event.Event{evOf(events.TypePush, "b/a", events.KindBlob), ev(events.TypePush, "acme/a")}},
		{name: "bad kind", kinds: []string{"index"}, wantErr: `--kind "index": want manifest or blob`},
		{name: "bad type", types: []string{"delete"}, wantErr: `--type "delete"`},
		{name: "bad pattern", repos: []string{"acme/*/x"}, wantErr: "--repository: repository pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFilter(tt.types, tt.repos, tt.kinds)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFilter() = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.match {
				if !f.match(e) {
					t.Errorf("match(%s of %s) = false, want true", e.Type(), e.Data())
				}
			}
			for _, e := range tt.skip {
				if f.match(e) {
					t.Errorf("match(%s of %s) = true, want false", e.Type(), e.Data())
				}
			}
		})
	}
}
