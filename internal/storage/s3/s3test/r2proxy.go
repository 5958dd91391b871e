package s3test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// R2 limits on multipart uploads.
const (
	minPartSize = 5 << 20
	maxParts    = 10000
)

// R2Message is R2's answer to a multipart upload whose non-trailing parts
// differ in size.
const R2Message = "All non-trailing parts must have the same length."

// R2Proxy is a reverse proxy on loopback that passes requests to an S3
// server unchanged (Host included, so SigV4 signatures stay valid) but
// enforces the multipart rules of Cloudflare R2, which versitygw and AWS do
// not: every part but the last has the same size of at least 5 MiB, the
// last is no larger, and there are at most 10 000. It learns part sizes
// from UploadPart and UploadPartCopy requests and refuses a violating
// CompleteMultipartUpload, as R2 does.
type R2Proxy struct {
	// URL is the proxy's base URL, to use as the S3 endpoint.
	URL string

	mu         sync.Mutex
	parts      map[string]map[int]int64 // upload id → part number → size
	violations []string
	requests   map[string]int // S3 operation → requests passed on
}

// NewR2Proxy starts a proxy to target (an http:// base URL) for the
// duration of t.
func NewR2Proxy(t *testing.T, target string) *R2Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("r2 proxy target %q: %v", target, err)
	}
	p := &R2Proxy{parts: map[string]map[int]int64{}, requests: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // the host the client signed
	}}
	srv := httptest.NewServer(p.handler(rp))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Violations returns the refused requests' descriptions so far.
func (p *R2Proxy) Violations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.violations...)
}

// Requests returns how many requests of each S3 operation the proxy has
// passed on so far (refused ones included), by operation name:
// PutObject, GetObject, HeadObject, DeleteObject, CopyObject, UploadPart,
// UploadPartCopy, CreateMultipartUpload, CompleteMultipartUpload,
// AbortMultipartUpload, ListObjectsV2, or the method and path kind.
func (p *R2Proxy) Requests() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.requests)
}

// operation names the S3 operation of r.
func operation(r *http.Request) string {
	q := r.URL.Query()
	copying := r.Header.Get("X-Amz-Copy-Source") != ""
	upload := q.Has("uploadId")
	// Path style: /bucket or /bucket/key.
	object := strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/") > 0
	switch {
	case r.Method == http.MethodPut && upload && copying:
		return "UploadPartCopy"
	case r.Method == http.MethodPut && upload:
		return "UploadPart"
	case r.Method == http.MethodPut && copying:
		return "CopyObject"
	case r.Method == http.MethodPut && object:
		return "PutObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && upload:
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && upload:
		return "AbortMultipartUpload"
	case r.Method == http.MethodDelete && object:
		return "DeleteObject"
	case r.Method == http.MethodGet && object:
		return "GetObject"
	case r.Method == http.MethodHead && object:
		return "HeadObject"
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2"
	}
	return r.Method + " bucket"
}

func (p *R2Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests[operation(r)]++
		p.mu.Unlock()
		q := r.URL.Query()
		upload := q.Get("uploadId")
		switch {
		case upload != "" && r.Method == http.MethodPut && q.Has("partNumber"):
			p.uploadPart(w, r, next, upload, q.Get("partNumber"))
			return
		case upload != "" && r.Method == http.MethodPost:
			p.complete(w, r, next, upload)
			return
		case upload != "" && r.Method == http.MethodDelete:
			p.mu.Lock()
			delete(p.parts, upload)
			p.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// uploadPart records the size of a part once the server accepted it.
func (p *R2Proxy) uploadPart(w http.ResponseWriter, r *http.Request, next http.Handler, upload, num string) {
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > maxParts {
		p.refuse(w, "InvalidArgument", fmt.Sprintf("part number %q not in [1, %d]", num, maxParts))
		return
	}
	size := r.ContentLength
	if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" {
		size, _ = strconv.ParseInt(dl, 10, 64)
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		first, last, ok := parseRange(r.Header.Get("X-Amz-Copy-Source-Range"))
		if !ok {
			p.refuse(w, "InvalidArgument", "UploadPartCopy without a byte range")
			return
		}
		size = last - first + 1
	}
	if size < 0 {
		p.refuse(w, "MissingContentLength", "part without a Content-Length")
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	if rec.status == http.StatusOK {
		p.mu.Lock()
		if p.parts[upload] == nil {
			p.parts[upload] = map[int]int64{}
		}
		p.parts[upload][n] = size
		p.mu.Unlock()
	}
}

// complete checks the parts a CompleteMultipartUpload lists.
func (p *R2Proxy) complete(w http.ResponseWriter, r *http.Request, next http.Handler, upload string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		p.refuse(w, "IncompleteBody", err.Error())
		return
	}
	var req struct {
		Parts []struct {
			PartNumber int `xml:"PartNumber"`
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		p.refuse(w, "MalformedXML", err.Error())
		return
	}
	p.mu.Lock()
	sizes := make([]int64, len(req.Parts))
	known := p.parts[upload]
	missing := -1
	for i, pt := range req.Parts {
		s, ok := known[pt.PartNumber]
		if !ok {
			missing = pt.PartNumber
		}
		sizes[i] = s
	}
	p.mu.Unlock()
	// An upload the proxy saw no part of is gone (completed or aborted) or
	// empty; the server gives the answer for it.
	if known != nil && missing >= 0 {
		p.refuse(w, "InvalidPart", fmt.Sprintf("part %d was not uploaded", missing))
		return
	}
	if msg := checkParts(sizes); known != nil && msg != "" {
		p.refuse(w, "InvalidPart", msg)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	if rec.status == http.StatusOK {
		p.mu.Lock()
		delete(p.parts, upload)
		p.mu.Unlock()
	}
}

// checkParts returns what is wrong with a multipart upload of parts of
// these sizes under R2's rules, or "".
func checkParts(sizes []int64) string {
	if len(sizes) > maxParts {
		return fmt.Sprintf("%d parts, at most %d allowed", len(sizes), maxParts)
	}
	if len(sizes) < 2 {
		return ""
	}
	first := sizes[0]
	for i, s := range sizes[:len(sizes)-1] {
		if s != first {
			return fmt.Sprintf("%s (part %d has %d bytes, part 1 has %d)", R2Message, i+1, s, first)
		}
	}
	if first < minPartSize {
		return fmt.Sprintf("Your proposed upload is smaller than the minimum allowed object size. (part 1 has %d bytes)", first)
	}
	if last := sizes[len(sizes)-1]; last > first {
		return fmt.Sprintf("%s (last part has %d bytes, more than %d)", R2Message, last, first)
	}
	return ""
}

// refuse answers with an S3 error document, as R2 does, and records it.
func (p *R2Proxy) refuse(w http.ResponseWriter, code, msg string) {
	p.mu.Lock()
	p.violations = append(p.violations, code+": "+msg)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusBadRequest)
	var b strings.Builder
	b.WriteString(xml.Header + "<Error><Code>")
	xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(msg))
	b.WriteString("</Message></Error>")
	io.WriteString(w, b.String())
}

// parseRange reads "bytes=FIRST-LAST".
func parseRange(s string) (first, last int64, ok bool) {
	a, b, ok := strings.Cut(strings.TrimPrefix(s, "bytes="), "-")
	if !ok || !strings.HasPrefix(s, "bytes=") {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	return first, last, err1 == nil && err2 == nil && first <= last
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
