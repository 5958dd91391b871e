package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBlobRedirect runs the blob workload against a registry that answers
// blob GETs with 307 to a fake bucket, as chainctl-s3 does, and serves a
// fake /metrics: both phases run, the bucket never sees the registry's
// token, and every figure is reported.
func TestBlobRedirect(t *testing.T) {
	var inner http.Handler
	var served atomic.Int64 // response bytes the "registry" counts
	bucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "only one auth mechanism allowed", http.StatusBadRequest)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/bucket")
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(bucket.Close)
	redirect := func(next http.Handler) http.Handler {
		inner = next
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
				served.Add(10)
				http.Redirect(w, r, bucket.URL+"/bucket"+r.URL.Path, http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	c, _ := newTestRegistry(t, fakeCredential, func(next http.Handler) http.Handler {
		authn := newFakeTokenAuth(redirect(next), time.Now)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" {
				authn.ServeHTTP(w, r)
				return
			}
			fmt.Fprintf(w, "# TYPE %s counter\n%s{method=\"GET\",route=\"blob\",status=\"307\"} %d\n%s{route=\"metrics\"} 99999\n",
				metricResponseBytes, metricResponseBytes, served.Load(), metricResponseBytes)
		})
	})
	c.server = &serverProbe{pid: os.Getpid(), metrics: c.base.String() + "/metrics", bucketPid: os.Getpid()}
	cfg := tinyConfig()
	out, err := runBlob(t.Context(), c, cfg, 0)
	if err != nil {
		t.Fatalf("runBlob = %v", err)
	}
	for _, id := range []string{"blob", "blob-307", "blob-through"} {
		if v, ok := out.values[id]; !ok || !(v > 0) {
			t.Errorf("%s = %v, %v; want a positive figure", id, v, ok)
		}
	}
	if _, ok := out.values["blob-bucket-cpu"]; !ok {
		t.Error("no blob-bucket-cpu figure")
	}
	// 10 bytes per pull of a 64 KiB blob, and /metrics's own bytes left out.
	if got, want := out.values["blob-through"], 100*10/float64(cfg.blobGetSize); got < want*0.99 || got > want*1.01 {
		t.Errorf("blob-through = %v%%, want %v%%", got, want)
	}
	if _, err := runBlob(t.Context(), c, cfg, 1); err != nil {
		t.Fatalf("runBlob round 1 = %v", err)
	}
}

func TestParseProcStat(t *testing.T) {
	// Field 2 may hold spaces and parentheses; utime and stime are 14 and 15.
	line := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0\n"
	got, err := parseProcStat(line)
	if err != nil || got != 3*time.Second {
		t.Errorf("parseProcStat = %v, %v; want 3s", got, err)
	}
	if _, err := parseProcStat("4242 (x) S 1 2"); err == nil {
		t.Error("parseProcStat of a short line: no error")
	}
}

func TestParseResponseBytes(t *testing.T) {
	in := `# HELP chainctl_http_response_bytes_total Response body bytes.
# TYPE chainctl_http_response_bytes_total counter
chainctl_http_response_bytes_total{method="GET",route="blob",status="200"} 1.048576e+06
chainctl_http_response_bytes_total{method="GET",route="manifest",status="200"} 100
chainctl_http_response_bytes_total{method="GET",route="metrics",status="200"} 5000
chainctl_http_response_bytes_total_other 7
`
	got, err := parseResponseBytes(strings.NewReader(in))
	if err != nil || got != 1048576+100 {
		t.Errorf("parseResponseBytes = %v, %v; want %v", got, err, 1048576+100)
	}
	if _, err := parseResponseBytes(strings.NewReader("go_goroutines 5\n")); err == nil {
		t.Error("parseResponseBytes without the counter: no error")
	}
}

// TestReportS3 checks the columns chainctl-s3 adds.
func TestReportS3(t *testing.T) {
	r := newReport(defaultConfig())
	r.add(targetChainctl, "get", outcome{values: map[string]float64{"get": 9000}, cpu: 0.5})
	r.add(targetChainctlS3, "get", outcome{values: map[string]float64{"get": 6000}, cpu: 0.4})
	r.add(targetDistribution, "get", outcome{values: map[string]float64{"get": 3000}, cpu: 0.25})
	r.add(targetChainctlS3, "blob", outcome{values: map[string]float64{"blob-307": 5000}, cpu: -1})
	if h := strings.Join(r.tableHeader(), ","); !strings.Contains(h, "chainctl,chainctl-s3,distribution,ratio c/d,ratio s3+pg/d") {
		t.Errorf("header = %s", h)
	}
	rows := map[string][]string{}
	for _, row := range r.rows() {
		rows[strings.TrimSpace(row[0])] = row
	}
	if got := strings.Join(rows["manifest GET by tag, 32 concurrent"][2:], ","); got != "9000,6000,3000,3.00×,2.00×,higher,≥ 3×,✓,0.50 / 0.40 / 0.25" {
		t.Errorf("get row = %s", got)
	}
	if got := strings.Join(rows["blob GET, the registry's 307 answers alone, 32 concurrent"][2:7], ","); got != "—,5000,—,—,—" {
		t.Errorf("307 row = %s", got)
	}
	var md strings.Builder
	if err := r.writeMarkdown(&md); err != nil || !strings.Contains(md.String(), "|---|---|--:|--:|--:|--:|--:|---|---|:-:|--:|") || !strings.Contains(md.String(), "chainctl on S3+PG / distribution") {
		t.Errorf("writeMarkdown = %v:\n%s", err, md.String())
	}
}
