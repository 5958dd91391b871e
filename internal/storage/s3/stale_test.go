package s3

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

func TestAbortStaleUploads(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cfg := e.config(t)
	cfg.Prefix = "" // the whole bucket, shared with someone else's keys
	s := e.newStore(t, cfg)

	// A stale upload with a multipart upload and a segment, an orphaned
	// multipart upload on a blob key (a Put whose process died), and a
	// committed blob that must survive.
	const id = "stale"
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v", id, err)
	}
	if _, err := s.WriteUpload(ctx, id, 0, bytes.NewReader(make([]byte, MinPartSize+10))); err != nil {
		t.Fatalf("WriteUpload(%s) = %v", id, err)
	}
	orphanKey, _ := s.blobKey(digest.FromString("orphan"))
	if _, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &orphanKey}); err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	foreignKey := "someone-else/big-file"
	foreign, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &foreignKey})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	keep := digest.FromString("keep")
	if _, err := s.Put(ctx, keep, strings.NewReader("keep")); err != nil {
		t.Fatalf("Put(%s) = %v", keep, err)
	}

	if n, err := s.AbortStaleUploads(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("AbortStaleUploads(1h) = %d, %v, want 0, nil", n, err)
	}
	if size, err := s.UploadSize(ctx, id); err != nil || size != MinPartSize+10 {
		t.Fatalf("UploadSize(%s) after a purge of older uploads = %d, %v, want %d, nil", id, size, err, MinPartSize+10)
	}

	time.Sleep(1100 * time.Millisecond) // S3 times have one-second resolution
	if n, err := s.AbortStaleUploads(ctx, time.Millisecond); err != nil || n != 2 {
		t.Errorf("AbortStaleUploads(1ms) = %d, %v, want 2, nil", n, err)
	}
	if _, err := s.UploadSize(ctx, id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UploadSize(%s) after the purge = %v, want ErrNotFound", id, err)
	}
	// A multipart upload outside the store's keys is not the store's.
	if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: &foreignKey, UploadId: foreign.UploadId,
	}); err != nil {
		t.Errorf("abort the foreign multipart upload after the purge: %v, want it still there", err)
	}
	checkNoLeftovers(t, s)
	if _, err := s.Stat(ctx, keep); err != nil {
		t.Errorf("Stat(%s) after the purge = %v, want nil", keep, err)
	}
	if _, err := s.AbortStaleUploads(ctx, 0); err == nil {
		t.Error("AbortStaleUploads(0) = nil error, want an error")
	}
}
