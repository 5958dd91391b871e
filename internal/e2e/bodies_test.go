package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// rawResponse is what a hand-written request got back.
type rawResponse struct {
	status int
	code   string // the OCI error code, if any
	after  time.Duration
}

// rawRequest sends method path with the bearer token and a Content-Length
// of length on a fresh connection, lets send write (some of) the body, and
// reads the response.
func rawRequest(t *testing.T, srv *server, method, path, token string, length int, send func(c *net.TCPConn)) rawResponse {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // fail rather than hang the suite
	start := time.Now()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		method, path, srv.Addr, token, length)
	send(c.(*net.TCPConn))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: read response: %v", method, path, err)
	}
	defer resp.Body.Close()
	var body struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	r := rawResponse{status: resp.StatusCode, after: time.Since(start)}
	if len(body.Errors) > 0 {
		r.code = body.Errors[0].Code
	}
	return r
}

func startUpload(t *testing.T, srv *server, token, repo string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+"/v2/"+repo+"/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload in %s = %d", repo, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func openFDs(t *testing.T, srv *server) int {
	t.Helper()
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", srv.cmd.Process.Pid))
	if err != nil {
		t.Skipf("cannot count the server's descriptors: %v", err)
	}
	return len(es)
}

// TestSlowAndShortBodies: a body that stalls or trickles is cut after the
// idle timeout (408), releasing its connection and the upload's lock; a
// body that ends before its Content-Length is the client's fault (400, not
// 500, and no ERROR log line); an honest upload is not disturbed.
func TestSlowAndShortBodies(t *testing.T) {
	srv := startServer(t, "--body-idle-timeout", "2s", "--body-min-rate", "1KiB")
	tok := accessToken(t, srv, "repository:team/app:pull,push")
	stall := func(c *net.TCPConn) { c.Write([]byte("x")) }
	trickle := func(c *net.TCPConn) {
		go func() {
			for range 200 {
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}
	short := func(c *net.TCPConn) { c.Write([]byte("0123456789")); c.CloseWrite() }

	t.Run("stalled PATCHes are cut and release what they held", func(t *testing.T) {
		before := openFDs(t, srv)
		const n = 30
		locs := make([]string, n)
		for i := range locs {
			locs[i] = startUpload(t, srv, tok, "team/app")
		}
		var wg sync.WaitGroup
		results := make([]rawResponse, n)
		for i := range n {
			wg.Go(func() { results[i] = rawRequest(t, srv, "PATCH", locs[i], tok, 1_000_000, stall) })
		}
		wg.Wait()
		for i, r := range results {
			if r.status != http.StatusRequestTimeout || r.code != "BLOB_UPLOAD_INVALID" {
				t.Errorf("stalled PATCH %d = %d %s after %s, want 408 BLOB_UPLOAD_INVALID", i, r.status, r.code, r.after)
			}
		}
		// The uploads' locks are free: their status answers at once, and
		// the failed chunk left nothing behind.
		for _, loc := range locs[:3] {
			req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL()+loc, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "0-0" {
				t.Errorf("status of an upload after its stalled PATCH = %d Range %q, want 204 0-0", resp.StatusCode, resp.Header.Get("Range"))
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for openFDs(t, srv) > before+5 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if after := openFDs(t, srv); after > before+5 {
			t.Errorf("the server holds %d descriptors after the stalled PATCHes were cut, %d before", after, before)
		}
	})
	t.Run("a trickling PATCH is cut", func(t *testing.T) {
		loc := startUpload(t, srv, tok, "team/app")
		if r := rawRequest(t, srv, "PATCH", loc, tok, 1_000_000, trickle); r.status != http.StatusRequestTimeout {
			t.Errorf("PATCH at 5 bytes/s = %d %s after %s, want 408", r.status, r.code, r.after)
		}
	})
	t.Run("bodies cut short are 400", func(t *testing.T) {
		d := digest.FromString("0123456789 and more")
		for _, tt := range []struct{ method, path string }{
			{"PATCH", startUpload(t, srv, tok, "team/app")},
			{"PUT", startUpload(t, srv, tok, "team/app") + "?digest=" + d.String()},
			{"POST", "/v2/team/app/blobs/uploads/?digest=" + d.String()},
			{"PUT", "/v2/team/app/manifests/v1"},
		} {
			r := rawRequest(t, srv, tt.method, tt.path, tok, 1000, short)
			if r.status != http.StatusBadRequest || r.code == "" {
				t.Errorf("%s %s cut short = %d %q, want 400 with an OCI error code", tt.method, tt.path, r.status, r.code)
			}
		}
	})
	t.Run("an honest chunked upload still works", func(t *testing.T) {
		loc := startUpload(t, srv, tok, "team/app")
		content := strings.Repeat("honest bytes ", 5000)
		send := func(c *net.TCPConn) { c.Write([]byte(content)) }
		if r := rawRequest(t, srv, "PATCH", loc, tok, len(content), send); r.status != http.StatusAccepted {
			t.Fatalf("PATCH = %d %s", r.status, r.code)
		}
		put := loc + "?digest=" + digest.FromString(content).String()
		if r := rawRequest(t, srv, "PUT", put, tok, 0, func(*net.TCPConn) {}); r.status != http.StatusCreated {
			t.Errorf("closing PUT = %d %s, want 201", r.status, r.code)
		}
	})
	for _, line := range strings.Split(srv.out.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("ERROR log line for a client's fault: %s", line)
		}
	}
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(m), "\n") {
		if strings.HasPrefix(line, "chainctl_http_requests_total") && strings.Contains(line, `status="5`) {
			t.Errorf("a client's fault counted as a server error: %s", line)
		}
	}
}
