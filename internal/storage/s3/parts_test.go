package s3

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/storagetest"
)

// partsTransport holds every UploadPart for a moment and records how many
// were in flight at once; it fails part number failPart (if > 0).
type partsTransport struct {
	next     http.RoundTripper
	failPart string

	mu            sync.Mutex
	now, most, of int
}

func (p *partsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	if r.Method != http.MethodPut || !q.Has("partNumber") {
		return p.next.RoundTrip(r)
	}
	p.mu.Lock()
	p.now++
	p.of++
	p.most = max(p.most, p.now)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.now--
		p.mu.Unlock()
	}()
	time.Sleep(50 * time.Millisecond)
	if q.Get("partNumber") == p.failPart {
		return nil, errors.New("connection reset by the test")
	}
	return p.next.RoundTrip(r)
}

// TestPutSendsPartsAtOnce: a blob many parts long goes up PartsInFlight
// parts at a time, by Put or by one WriteUpload, in order in the completed
// object; a failed part fails the Put, aborts the upload, and leaves no
// blob.
func TestPutSendsPartsAtOnce(t *testing.T) {
	// The SDK refuses a plain *http.Client when it is to add a CA bundle.
	t.Setenv("AWS_CA_BUNDLE", "")
	e := newEnv(t)
	ctx := t.Context()
	const size = 6*MinPartSize + 1234 // 7 parts
	p := storagetest.Pattern{Seed: 7000}

	pt := &partsTransport{next: http.DefaultTransport}
	s, err := New(ctx, e.config(t), WithCredentials(e.srv.Credentials()), WithHTTPClient(&http.Client{Transport: pt}))
	if err != nil {
		t.Fatal(err)
	}
	dgst := p.Digest(digest.SHA256, 0, size)
	if n, err := s.Put(ctx, dgst, p.Reader(0, size)); err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	if pt.of != 7 || pt.most != PartsInFlight {
		t.Errorf("%d parts, at most %d at once; want 7, %d at once", pt.of, pt.most, PartsInFlight)
	}
	rc, err := s.Open(ctx, dgst, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, p.Bytes(0, size)) {
		t.Errorf("Open after Put: %d bytes (%v), not the blob's %d", len(got), err, size)
	}

	// The same through an upload written in one go: parts at once, and
	// the committed blob the same.
	pt.of, pt.most = 0, 0
	const id = "parts-at-once"
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n, err := s.WriteUpload(ctx, id, 0, p.Reader(0, size)); err != nil || n != size {
		t.Fatalf("WriteUpload = %d, %v", n, err)
	}
	if pt.of != 6 || pt.most != PartsInFlight {
		t.Errorf("WriteUpload: %d parts, at most %d at once; want 6 (the 7th is kept for the commit), %d at once", pt.of, pt.most, PartsInFlight)
	}
	if err := s.Delete(ctx, dgst); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != size {
		t.Fatalf("CommitUpload = %d, %v", n, err)
	}
	rc, err = s.Open(ctx, dgst, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, p.Bytes(0, size)) {
		t.Errorf("Open after CommitUpload: %d bytes (%v), not the blob's %d", len(got), err, size)
	}

	// Part 3 fails.
	pt = &partsTransport{next: http.DefaultTransport, failPart: "3"}
	s, err = New(ctx, e.config(t), WithCredentials(e.srv.Credentials()), WithHTTPClient(&http.Client{Transport: pt}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, dgst, p.Reader(0, size)); err == nil {
		t.Fatal("Put with a failing part = nil, want an error")
	}
	if _, err := s.Stat(ctx, dgst); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat after a failed Put = %v, want ErrNotFound", err)
	}
	key, _ := s.blobKey(dgst)
	out, err := e.srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &key})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left after a failed Put, want 0 (aborted)", len(out.Uploads))
	}
}
