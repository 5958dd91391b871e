package s3

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

var _ storage.Walker = (*Store)(nil)

// WalkBlobs implements storage.Walker: it lists the keys under
// <prefix>blobs/ a page (1 000 keys) at a time, so memory stays bounded
// whatever the bucket holds, and skips any key that is not a blob's.
func (s *Store) WalkBlobs(ctx context.Context, fn func(dgst digest.Digest, size int64, modified time.Time) error) error {
	root := s.prefix + blobsDir
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(root)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, o := range page.Contents {
			dgst, ok := s.blobOfKey(aws.ToString(o.Key))
			if !ok {
				continue
			}
			if err := fn(dgst, aws.ToInt64(o.Size), aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

// blobOfKey is the inverse of blobKey: the digest whose blob key is key.
func (s *Store) blobOfKey(key string) (digest.Digest, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+blobsDir)
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/") // <alg>/<xx>/<hex>
	if len(parts) != 3 || len(parts[2]) < 2 || parts[1] != parts[2][:2] {
		return "", false
	}
	dgst := digest.NewDigestFromEncoded(digest.Algorithm(parts[0]), parts[2])
	if storage.CheckDigest(dgst) != nil {
		return "", false
	}
	if k, err := s.blobKey(dgst); err != nil || k != key {
		return "", false
	}
	return dgst, true
}
