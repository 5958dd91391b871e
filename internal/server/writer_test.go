package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readerFromRecorder is a ResponseWriter with its own ReadFrom, standing in
// for net/http's (which uses sendfile).
type readerFromRecorder struct {
	*httptest.ResponseRecorder
	readFromCalls int
	flushes       int
}

func (r *readerFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.readFromCalls++
	return io.Copy(r.ResponseRecorder.Body, src)
}

func (r *readerFromRecorder) Flush() { r.flushes++ }

func TestResponseWriterPassThrough(t *testing.T) {
	tests := []struct {
		name       string
		inner      http.ResponseWriter
		wantFrom   int // ReadFrom calls that reach the inner writer
		wantStatus int
	}{
		{name: "inner ReadFrom used", inner: &readerFromRecorder{ResponseRecorder: httptest.NewRecorder()}, wantFrom: 1, wantStatus: 200},
		{name: "no inner ReadFrom", inner: httptest.NewRecorder(), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &responseWriter{ResponseWriter: tt.inner}
			// A reader without WriteTo, like an *os.File, so io.Copy asks the
			// writer for ReadFrom.
			n, err := io.Copy(w, struct{ io.Reader }{strings.NewReader("blob bytes")})
			if err != nil || n != 10 {
				t.Fatalf("io.Copy = %d, %v, want 10, nil", n, err)
			}
			w.Flush()
			if w.bytes != 10 {
				t.Errorf("bytes = %d, want 10", w.bytes)
			}
			if w.statusCode() != tt.wantStatus {
				t.Errorf("statusCode() = %d, want %d", w.statusCode(), tt.wantStatus)
			}
			if rf, ok := tt.inner.(*readerFromRecorder); ok {
				if rf.readFromCalls != tt.wantFrom {
					t.Errorf("inner ReadFrom calls = %d, want %d", rf.readFromCalls, tt.wantFrom)
				}
				if rf.flushes != 1 {
					t.Errorf("inner Flush calls = %d, want 1", rf.flushes)
				}
			}
			if got := http.NewResponseController(w).Flush(); got != nil {
				t.Errorf("ResponseController.Flush() = %v, want nil", got)
			}
		})
	}
}

func TestResponseWriterStatus(t *testing.T) {
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{name: "nothing written", write: func(http.ResponseWriter) {}, want: 200},
		{name: "explicit status", write: func(w http.ResponseWriter) { w.WriteHeader(201) }, want: 201},
		{name: "first status wins", write: func(w http.ResponseWriter) { w.WriteHeader(404); w.WriteHeader(500) }, want: 404},
		{name: "informational then final", write: func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(204) }, want: 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &responseWriter{ResponseWriter: httptest.NewRecorder()}
			tt.write(w)
			if got := w.statusCode(); got != tt.want {
				t.Errorf("statusCode() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestResponseControllerThroughMiddleware checks that a handler behind the
// middleware can still reach the connection: deadlines (used to extend them
// for large blobs) and flushing.
func TestResponseControllerThroughMiddleware(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, "deadline: "+err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "a")
		if err := rc.Flush(); err != nil {
			http.Error(w, "flush: "+err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "b")
	})
	s, err := New(WithHandler(h))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, body := do(t, "GET", ts.URL+"/v2/", nil, nil)
	if resp.StatusCode != 200 || body != "ab" {
		t.Errorf("GET = %d %q, want 200 %q", resp.StatusCode, body, "ab")
	}
}

func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestRunTLS(t *testing.T) {
	certFile, keyFile := writeSelfSigned(t)
	tests := []struct {
		name      string
		cert, key string
		wantErr   string
	}{
		{name: "valid pair", cert: certFile, key: keyFile},
		{name: "missing files", cert: certFile + ".missing", key: keyFile, wantErr: "load TLS key pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(WithHandler(api()), WithAddr("127.0.0.1:0"), WithTLS(tt.cert, tt.key))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Listen(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Listen() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Listen() = %v", err)
			}
			if !strings.HasPrefix(s.URL(), "https://") {
				t.Errorf("URL() = %q, want https://", s.URL())
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			resp, err := c.Get(s.URL() + "/healthz")
			if err != nil {
				t.Fatalf("GET over TLS: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.TLS == nil {
				t.Errorf("GET over TLS = %d (TLS %v), want 200 over TLS", resp.StatusCode, resp.TLS != nil)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run() = %v", err)
			}
		})
	}
}
