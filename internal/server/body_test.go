package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// bodyServer runs the middleware with limits in front of a handler that
// reads the whole body, optionally pausing before and after, and answers
// what it saw: 200 "read N", or the status a *BodyError maps to (408
// timeout, 400 otherwise) with the reason.
type bodyServer struct {
	url         string
	errs        chan error // every handler's read error (nil when the body was whole)
	pauseBefore time.Duration
	pauseAfter  time.Duration
}

func newBodyServer(t *testing.T, l BodyLimits, pauseBefore, pauseAfter time.Duration) *bodyServer {
	t.Helper()
	bs := &bodyServer{errs: make(chan error, 16), pauseBefore: pauseBefore, pauseAfter: pauseAfter}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(bs.pauseBefore)
		n, err := io.Copy(io.Discard, r.Body)
		bs.errs <- err
		var be *BodyError
		switch {
		case errors.As(err, &be) && be.Timeout():
			w.Header().Set("Connection", "close")
			http.Error(w, be.Reason, http.StatusRequestTimeout)
			return
		case err != nil:
			w.Header().Set("Connection", "close")
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(bs.pauseAfter)
		if err := r.Context().Err(); err != nil {
			http.Error(w, "request cancelled while the handler worked: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "read %d", n)
	})
	s, err := New(WithHandler(h), WithBodyLimits(l))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	bs.url = srv.URL
	return bs
}

// rawRequest opens a connection, sends a PATCH whose headers declare
// length bytes, then runs send on the connection to write (some of) the
// body, and returns the response.
func rawRequest(t *testing.T, base string, length int, send func(c *net.TCPConn)) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a hung test fails, not the suite
	fmt.Fprintf(c, "PATCH /v2/x/blobs/uploads/1 HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n", length)
	send(c.(*net.TCPConn))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, strings.TrimSpace(string(b))
}

func TestBodyLimits(t *testing.T) {
	limits := BodyLimits{IdleTimeout: time.Second, MinRate: 1024}
	tests := []struct {
		name        string
		length      int
		send        func(c *net.TCPConn)
		pauseBefore time.Duration // the handler's, before reading: a slow backend
		pauseAfter  time.Duration // after the body: a long commit
		status      int
		reason      string
	}{
		{name: "stalls after one byte", length: 1_000_000, send: func(c *net.TCPConn) { c.Write([]byte("x")) },
			status: http.StatusRequestTimeout, reason: "no bytes for 1s"},
		{name: "trickles a byte every 100ms", length: 1_000_000, send: func(c *net.TCPConn) {
			go func() {
				for range 100 {
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		}, status: http.StatusRequestTimeout, reason: "below the minimum of 1024 bytes/s"},
		{name: "ends before its Content-Length", length: 100, send: func(c *net.TCPConn) {
			c.Write([]byte("0123456789"))
			c.CloseWrite()
		}, status: http.StatusBadRequest, reason: "ended before its Content-Length"},
		{name: "slow but honest: 8 KiB/s for 3s", length: 24 << 10, send: func(c *net.TCPConn) {
			go func() {
				chunk := make([]byte, 2<<10)
				for range 12 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
					time.Sleep(250 * time.Millisecond)
				}
			}()
		}, status: http.StatusOK, reason: fmt.Sprintf("read %d", 24<<10)},
		{name: "the handler waits longer than the idle timeout before reading", length: 4096,
			send: func(c *net.TCPConn) { c.Write(make([]byte, 4096)) }, pauseBefore: 2500 * time.Millisecond,
			status: http.StatusOK, reason: "read 4096"},
		{name: "the handler works longer than the idle timeout after the body", length: 4096,
			send: func(c *net.TCPConn) { c.Write(make([]byte, 4096)) }, pauseAfter: 2500 * time.Millisecond,
			status: http.StatusOK, reason: "read 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs := newBodyServer(t, limits, tt.pauseBefore, tt.pauseAfter)
			resp, body := rawRequest(t, bs.url, tt.length, tt.send)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.reason) {
				t.Errorf("response = %d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.reason)
			}
		})
	}
}

// TestBodyLimitsOff: without limits a stalled body is waited for, as
// before (the handler is still reading when the client gives up).
func TestBodyLimitsOff(t *testing.T) {
	bs := newBodyServer(t, BodyLimits{}, 0, 0)
	c, err := net.Dial("tcp", strings.TrimPrefix(bs.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "PATCH /v2/x/blobs/uploads/1 HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nx")
	select {
	case err := <-bs.errs:
		t.Fatalf("handler's read ended with %v within 1.5s; want it still waiting without limits", err)
	case <-time.After(1500 * time.Millisecond):
	}
	c.Close()
	if err := <-bs.errs; err == nil {
		t.Error("read after the client left = nil error")
	}
}

// TestRequestBodyWithoutDeadlines: under a writer that cannot set read
// deadlines (httptest.ResponseRecorder) the rate limit still applies.
func TestRequestBodyWithoutDeadlines(t *testing.T) {
	now := time.Unix(0, 0)
	r := io.NopCloser(readerFunc(func(p []byte) (int, error) { now = now.Add(time.Second); p[0] = 'x'; return 1, nil }))
	b := newRequestBody(r, httptest.NewRecorder(), BodyLimits{IdleTimeout: 5 * time.Second, MinRate: 10})
	b.now = func() time.Time { return now }
	_, err := io.Copy(io.Discard, b)
	var be *BodyError
	if !errors.As(err, &be) || !be.Timeout() || b.n != 5 {
		t.Errorf("Copy = %v after %d bytes, want a timeout *BodyError after 5", err, b.n)
	}
	if _, err2 := b.Read(make([]byte, 1)); err2 != err {
		t.Errorf("Read after the cut = %v, want the same error again", err2)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
