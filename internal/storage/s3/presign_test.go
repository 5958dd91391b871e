package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/s3/s3test"
	"github.com/opencontainers/go-digest"
)

func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET presigned url: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read presigned url: %v", err)
	}
	return resp.StatusCode, b
}

func TestPresign(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	content := []byte("fetched without credentials")
	dgst := digest.FromBytes(content)
	if _, err := s.Put(ctx, dgst, bytes.NewReader(content)); err != nil {
		t.Fatalf("Put(%s) = %v", dgst, err)
	}

	url, err := s.Presign(ctx, dgst, time.Minute)
	if err != nil {
		t.Fatalf("Presign(%s) = %v", dgst, err)
	}
	if strings.Contains(url, e.srv.SecretKey) {
		t.Errorf("Presign(%s) = %q contains the secret key", dgst, url)
	}
	if code, body := httpGet(t, url); code != http.StatusOK || !bytes.Equal(body, content) {
		t.Errorf("GET presigned url = %d %q, want 200 %q", code, body, content)
	}

	short, err := s.Presign(ctx, dgst, time.Second)
	if err != nil {
		t.Fatalf("Presign(%s, 1s) = %v", dgst, err)
	}
	time.Sleep(2100 * time.Millisecond)
	if code, _ := httpGet(t, short); code != http.StatusForbidden {
		t.Errorf("GET expired presigned url = %d, want 403", code)
	}

	for _, ttl := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
		if _, err := s.Presign(ctx, dgst, ttl); err == nil {
			t.Errorf("Presign(%s, %s) = nil error, want an error", dgst, ttl)
		}
	}
	if _, err := s.Presign(ctx, "sha256:nope", time.Minute); err == nil {
		t.Error("Presign of an invalid digest = nil error, want an error")
	}
}

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

// TestR2Proxy checks that the test proxy refuses what R2 refuses, so the
// suites that pass through it prove something.
func TestR2Proxy(t *testing.T) {
	srv := s3test.Start(t)
	proxy := s3test.NewR2Proxy(t, srv.Endpoint)
	client := s3.New(s3.Options{
		BaseEndpoint:               aws.String(proxy.URL),
		Region:                     s3test.Region,
		UsePathStyle:               true,
		Credentials:                srv.Credentials(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	bucket := srv.NewBucket(t)
	tests := []struct {
		name  string
		sizes []int
		ok    bool
	}{
		{"equal parts, shorter last", []int{MinPartSize, MinPartSize, 1}, true},
		{"one small part", []int{10}, true},
		{"unequal non-trailing parts", []int{MinPartSize + 1, MinPartSize, 1}, false},
		{"last larger", []int{MinPartSize, MinPartSize + 1}, false},
		{"parts under 5 MiB", []int{1 << 20, 1 << 20}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := multipart(t.Context(), client, bucket, tt.sizes)
			switch {
			case tt.ok && err != nil:
				t.Errorf("multipart upload of parts %v = %v, want nil", tt.sizes, err)
			case !tt.ok && err == nil:
				t.Errorf("multipart upload of parts %v = nil error, want an error", tt.sizes)
			case !tt.ok && tt.sizes[0] >= MinPartSize && !strings.Contains(err.Error(), s3test.R2Message):
				t.Errorf("multipart upload of parts %v = %v, want %q", tt.sizes, err, s3test.R2Message)
			}
		})
	}
}

// multipart uploads parts of the given sizes as one object.
func multipart(ctx context.Context, c *s3.Client, bucket string, sizes []int) error {
	key := "parts"
	out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for i, n := range sizes {
		num := aws.Int32(int32(i + 1))
		res, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &bucket, Key: &key, UploadId: out.UploadId, PartNumber: num,
			Body: bytes.NewReader(make([]byte, n)), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: num, ETag: res.ETag})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &bucket, Key: &key, UploadId: out.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}
