package pgtest

import (
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// RoundTrips is a TCP proxy in front of the test server that counts round
// trips: the times a client speaks after the server has answered (or
// first). A statement run in its own round trip counts one however its
// bytes are split, and statements pipelined together count one, so the
// count is what latency to the database costs a caller.
type RoundTrips struct {
	// DSN is dsn with the proxy as its host.
	DSN string
	n   atomic.Int64
}

// Count is the number of round trips so far.
func (p *RoundTrips) Count() int64 { return p.n.Load() }

// CountRoundTrips starts a proxy to the server dsn (a postgres:// URL, as
// Schema returns) for the duration of t.
func CountRoundTrips(t testing.TB, dsn string) *RoundTrips {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("CountRoundTrips needs a postgres:// URL, not %q", redacted(dsn))
	}
	target := u.Host
	if !strings.Contains(target, ":") {
		target += ":5432"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &RoundTrips{}
	u.Host = ln.Addr().String()
	p.DSN = u.String()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() { p.relay(c, s) })
		}
	})
	return p
}

// relay copies between client c and server s, counting the turns.
func (p *RoundTrips) relay(c, s net.Conn) {
	defer c.Close()
	defer s.Close()
	// answered is set when the server has sent bytes since the client
	// last did: the client's next bytes begin a round trip.
	var answered atomic.Bool
	answered.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 32<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				answered.Store(true)
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if answered.Swap(false) {
				p.n.Add(1)
			}
			if _, werr := s.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	s.Close() // ends the server's side of the copy too
	<-done
}
