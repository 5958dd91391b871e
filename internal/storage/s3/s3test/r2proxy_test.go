package s3test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCheckParts(t *testing.T) {
	const m = minPartSize
	tests := []struct {
		name  string
		sizes []int64
		want  string // substring of the complaint; "" for none
	}{
		{"no parts", nil, ""},
		{"one tiny part", []int64{1}, ""},
		{"equal parts", []int64{m, m, m}, ""},
		{"shorter last", []int64{m, m, 1}, ""},
		{"unequal non-trailing", []int64{m + 1, m, 1}, R2Message},
		{"last larger", []int64{m, m + 1}, R2Message},
		{"too small", []int64{m - 1, 1}, "minimum allowed"},
		{"too many", make([]int64, maxParts+1), "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkParts(tt.sizes)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("checkParts(%d parts) = %q, want %q", len(tt.sizes), got, tt.want)
			}
		})
	}
}

// TestR2Proxy checks that the test proxy refuses what R2 refuses, so the
// suites that pass through it prove something.
func TestR2Proxy(t *testing.T) {
	srv := Start(t)
	proxy := NewR2Proxy(t, srv.Endpoint)
	client := s3.New(s3.Options{
		BaseEndpoint:               aws.String(proxy.URL),
		Region:                     Region,
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
		{"equal parts, shorter last", []int{minPartSize, minPartSize, 1}, true},
		{"one small part", []int{10}, true},
		{"unequal non-trailing parts", []int{minPartSize + 1, minPartSize, 1}, false},
		{"last larger", []int{minPartSize, minPartSize + 1}, false},
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
			case !tt.ok && tt.sizes[0] >= minPartSize && !strings.Contains(err.Error(), R2Message):
				t.Errorf("multipart upload of parts %v = %v, want %q", tt.sizes, err, R2Message)
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
