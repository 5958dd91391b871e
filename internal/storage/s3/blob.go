package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

// maxPresignTTL is SigV4's limit on a presigned URL's life.
const maxPresignTTL = 7 * 24 * time.Hour

// Stat implements storage.BlobStore.
func (s *Store) Stat(ctx context.Context, dgst digest.Digest) (int64, error) {
	key, err := s.blobKey(dgst)
	if err != nil {
		return 0, fmt.Errorf("stat blob: %w", err)
	}
	size, err := s.headSize(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("stat blob %s: %w", dgst, notFound(err))
	}
	return size, nil
}

// headSize returns the size of the object key.
func (s *Store) headSize(ctx context.Context, key string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Open implements storage.BlobStore with a ranged GetObject. An offset
// equal to the blob's size yields an empty reader; a negative offset or one
// beyond the size is an error; a length past the end is cut at the end.
func (s *Store) Open(ctx context.Context, dgst digest.Digest, offset, length int64) (io.ReadCloser, error) {
	key, err := s.blobKey(dgst)
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("open blob %s: negative offset %d", dgst, offset)
	}
	if length == 0 {
		return s.openEmpty(ctx, dgst, key, offset)
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	switch {
	case length > 0 && length <= math.MaxInt64-offset:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if apiCode(err) == "InvalidRange" || httpStatus(err) == 416 {
			// The offset is at or beyond the end; which one says HeadObject.
			return s.openEmpty(ctx, dgst, key, offset)
		}
		return nil, fmt.Errorf("open blob %s: %w", dgst, notFound(err))
	}
	return out.Body, nil
}

// openEmpty returns an empty reader if the blob exists and offset is not
// beyond its end.
func (s *Store) openEmpty(ctx context.Context, dgst digest.Digest, key string, offset int64) (io.ReadCloser, error) {
	size, err := s.headSize(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", dgst, notFound(err))
	}
	if offset > size {
		return nil, fmt.Errorf("open blob %s: offset %d beyond size %d", dgst, offset, size)
	}
	return io.NopCloser(bytes.NewReader(nil)), nil
}

// Put implements storage.BlobStore. A blob smaller than a part is read
// into memory, verified and sent with one PutObject. A larger one goes
// part by part into a multipart upload on the blob's own key, up to
// PartsInFlight parts at once, which is completed only when the digest
// matched and aborted otherwise, so a blob with the wrong bytes is never
// visible. Putting an existing blob again writes the same bytes again.
func (s *Store) Put(ctx context.Context, dgst digest.Digest, r io.Reader) (int64, error) {
	key, err := s.blobKey(dgst)
	if err != nil {
		return 0, fmt.Errorf("put blob: %w", err)
	}
	buf, putBuf := s.getBuf(s.partSize)
	h := newHash(dgst.Algorithm())

	n, err := readFull(ctx, r, buf)
	h.Write(buf[:n])
	if err != nil {
		putBuf()
		return int64(n), fmt.Errorf("put blob %s: %w", dgst, err)
	}
	if int64(n) < s.partSize {
		defer putBuf()
		if got := digest.NewDigest(dgst.Algorithm(), h); got != dgst {
			return int64(n), fmt.Errorf("put blob %s: got %s: %w", dgst, got, storage.ErrDigestMismatch)
		}
		if err := s.putObject(ctx, key, buf[:n]); err != nil {
			return int64(n), fmt.Errorf("put blob %s: %w", dgst, err)
		}
		return int64(n), nil
	}
	total, err := s.putMultipart(ctx, key, dgst, h, buf, putBuf, r)
	if err != nil {
		return total, fmt.Errorf("put blob %s: %w", dgst, err)
	}
	return total, nil
}

// putMultipart sends first (a full first part, from a buffer given back
// with putFirst) and the rest of r as a multipart upload to key, and
// completes it if everything hashes to dgst.
func (s *Store) putMultipart(ctx context.Context, key string, dgst digest.Digest, h hash.Hash, first []byte, putFirst func(), r io.Reader) (int64, error) {
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		putFirst()
		return 0, fmt.Errorf("create multipart upload: %w", err)
	}
	mpu := aws.ToString(out.UploadId)
	completed := false
	defer func() {
		if !completed {
			s.abort(context.WithoutCancel(ctx), key, mpu)
		}
	}()

	parts := s.newPartSender(ctx, key, mpu)
	// failed waits for the parts in flight and returns err.
	failed := func(err error) error {
		_, _ = parts.wait()
		return err
	}
	release, err := parts.adopt(putFirst)
	if err != nil {
		return 0, failed(err)
	}
	parts.send(1, first, release)
	total, num := int64(len(first)), int32(1)
	for {
		buf, release, err := parts.buffer(s.partSize)
		if err != nil {
			return total, failed(err)
		}
		n, err := readFull(ctx, r, buf)
		h.Write(buf[:n])
		total += int64(n)
		if err != nil || n == 0 {
			release()
			if err != nil {
				return total, failed(err)
			}
			break // the stream ended on a part boundary
		}
		if num == MaxParts {
			release()
			return total, failed(fmt.Errorf("blob larger than %d bytes (%d parts of %d)", s.partSize*MaxParts, MaxParts, s.partSize))
		}
		num++
		parts.send(num, buf[:n], release)
		if int64(n) < s.partSize {
			break // that was the trailing part
		}
	}
	sent, err := parts.wait()
	if err != nil {
		return total, err
	}
	if got := digest.NewDigest(dgst.Algorithm(), h); got != dgst {
		return total, fmt.Errorf("got %s: %w", got, storage.ErrDigestMismatch)
	}
	if err := s.complete(ctx, key, mpu, sent); err != nil {
		return total, err
	}
	completed = true
	return total, nil
}

// Delete implements storage.BlobStore. S3 deletes missing keys without
// complaint, so a HeadObject first tells ErrNotFound apart.
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	key, err := s.blobKey(dgst)
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if _, err := s.headSize(ctx, key); err != nil {
		return fmt.Errorf("delete blob %s: %w", dgst, notFound(err))
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete blob %s: %w", dgst, err)
	}
	return nil
}

// PreferPutForWholeBlobs reports true: a blob PUT whole into an empty
// upload is cheaper as Put (one PutObject, or a multipart upload straight
// to its key) than as an append to the upload's state and a commit.
func (s *Store) PreferPutForWholeBlobs() bool { return true }

// ObjectKey returns the key of the blob dgst in the bucket (with the
// store's prefix): the path of the blob under a public bucket domain.
func (s *Store) ObjectKey(dgst digest.Digest) (string, error) { return s.blobKey(dgst) }

// putObject stores b under key with one request.
func (s *Store) putObject(ctx context.Context, key string, b []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),
	})
	return err
}

// uploadPart sends b as part number of multipart upload mpu on key and
// returns its ETag.
func (s *Store) uploadPart(ctx context.Context, key, mpu string, number int32, b []byte) (string, error) {
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        &s.bucket,
		Key:           &key,
		UploadId:      &mpu,
		PartNumber:    aws.Int32(number),
		Body:          bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return "", fmt.Errorf("upload part %d: %w", number, err)
	}
	return aws.ToString(out.ETag), nil
}

// complete completes multipart upload mpu on key from parts.
func (s *Store) complete(ctx context.Context, key, mpu string, parts []types.CompletedPart) error {
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &key,
		UploadId:        &mpu,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// abort aborts multipart upload mpu on key, logging a failure: a leftover
// is found by AbortStaleUploads (and on R2 expires after 7 days).
func (s *Store) abort(ctx context.Context, key, mpu string) {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: &mpu})
	if err != nil && !isNoSuchUpload(err) && !errors.Is(err, context.Canceled) {
		s.log.Warn("abort multipart upload", "key", key, "err", err)
	}
}
