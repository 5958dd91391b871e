package eventsink_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/eventsink"
	"github.com/chainctl/chainctl/internal/eventsink/eventsinktest"
	"github.com/chainctl/chainctl/internal/fakeclock"
)

func TestHandler(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	tests := []struct {
		name       string
		method     string
		change     func(d *eventsinktest.Delivery)
		deliverErr error
		wantStatus int
		wantBody   string
		wantEvents int
	}{
		{name: "good", wantStatus: 204, wantEvents: 1},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantBody: "registry events are POSTed here\n"},
		{name: "too large", change: func(d *eventsinktest.Delivery) { d.Body = bytes.Repeat([]byte("x"), eventsink.MaxBody+1) },
			wantStatus: 413, wantBody: "body larger than 1 MiB\n"},
		{name: "expired", change: func(d *eventsinktest.Delivery) { d.Token = "" }, wantStatus: 401, wantBody: "no bearer token\n"},
		{name: "bad event", change: func(d *eventsinktest.Delivery) { d.Header.Del("Ce-Id") }, wantStatus: 400, wantBody: "invalid CloudEvent\n"},
		{name: "the receiver fails", deliverErr: errors.New("disk full at /var/secret"), wantStatus: 500,
			wantBody: "the event could not be handled\n", wantEvents: 1},
		{name: "the receiver fails and says why", deliverErr: eventsink.Failed("the command exited with status 1", errors.New("exit status 1 at /var/secret")),
			wantStatus: 500, wantBody: "the command exited with status 1\n", wantEvents: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, is.URL, fakeclock.New(t0))
			var got []event.Event
			var refused []int
			h := eventsink.NewHandler(v, func(_ context.Context, ev event.Event) error {
				got = append(got, ev)
				return tt.deliverErr
			}, eventsink.WithRefused(func(_ *http.Request, status int, _ error) { refused = append(refused, status) }))
			d := is.Delivery(t, sink, events.TypePush, eventsinktest.PushData(t0), t0)
			if tt.change != nil {
				tt.change(d)
			}
			r := d.Request(t)
			if tt.method != "" {
				r.Method = tt.method
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody || len(got) != tt.wantEvents {
				t.Errorf("ServeHTTP() = %d %q, %d events; want %d %q, %d events", w.Code, w.Body, len(got), tt.wantStatus, tt.wantBody, tt.wantEvents)
			}
			if wantRefused := tt.wantStatus >= 400; (len(refused) == 1) != wantRefused || wantRefused && refused[0] != tt.wantStatus {
				t.Errorf("refusals reported = %v, want [%d] if refused", refused, tt.wantStatus)
			}
			if tt.wantStatus == 401 && w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestHandlerOverHTTP delivers through real servers, as the registry
// does: a good delivery reaches the function; replayed to another sink,
// the same delivery is refused, and the answer does not quote the token.
func TestHandlerOverHTTP(t *testing.T) {
	is := eventsinktest.NewIssuer(t)
	sinkServer := func(path string) (*httptest.Server, chan event.Event) {
		received := make(chan event.Event, 1)
		srv := httptest.NewUnstartedServer(nil)
		srv.Start()
		t.Cleanup(srv.Close)
		v, err := eventsink.New(is.URL, srv.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = eventsink.NewHandler(v, func(_ context.Context, ev event.Event) error { received <- ev; return nil })
		return srv, received
	}
	a, receivedA := sinkServer("/hook")
	b, receivedB := sinkServer("/hook")

	now := time.Now()
	d := is.Delivery(t, a.URL+"/hook", events.TypePush, eventsinktest.PushData(now), now)
	resp, err := a.Client().Do(d.Request(t))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("good delivery: %s", resp.Status)
	}
	if ev := <-receivedA; ev.Subject() != "acme/app:v1" {
		t.Errorf("received %v", ev)
	}

	d.Sink = b.URL + "/hook"
	resp, err = b.Client().Do(d.Request(t))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || string(body) != "token for another sink\n" || strings.Contains(string(body), d.Token) {
		t.Errorf("delivery replayed to another sink = %s %q, want 401 token for another sink", resp.Status, body)
	}
	if len(receivedB) != 0 {
		t.Errorf("the other sink received the replayed event")
	}
}
