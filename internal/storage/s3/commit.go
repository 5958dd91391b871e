package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

// CommitUpload implements storage.UploadStore. The digest comes from the
// hash state saved with the upload, so no byte is read again to verify it.
// An upload smaller than a part is written to the blob key with one
// PutObject; a larger one has its trailing part uploaded, its multipart
// upload completed into uploads/<id>/data and that copied to the blob key
// (S3 cannot rename, and a multipart upload's key is fixed when it starts,
// before the digest is known). If the blob exists already, the upload is
// discarded instead. A commit that fails after completing resumes from the
// copy when retried.
func (s *Store) CommitUpload(ctx context.Context, id string, dgst digest.Digest) (int64, error) {
	p, err := s.uploadPrefix(id)
	if err != nil {
		return 0, fmt.Errorf("commit upload: %w", err)
	}
	key, err := s.blobKey(dgst)
	if err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	st, etag, err := s.loadState(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	if st.leased(time.Now()) {
		return 0, fmt.Errorf("commit upload %s: a write is in progress", id)
	}
	got, err := st.digest(dgst.Algorithm())
	if errors.Is(err, errRehash) {
		got, etag, err = s.rehash(ctx, p, st, etag, dgst.Algorithm())
	}
	if err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	if got != dgst {
		return 0, fmt.Errorf("commit upload %s as %s: got %s: %w", id, dgst, got, storage.ErrDigestMismatch)
	}

	_, err = s.headSize(ctx, key)
	switch {
	case err == nil:
		// Same digest, same bytes: nothing to write.
	case isNotFound(err):
		if err := s.assemble(ctx, p, key, st, etag); err != nil {
			return 0, fmt.Errorf("commit upload %s as %s: %w", id, dgst, err)
		}
	default:
		return 0, fmt.Errorf("commit upload %s as %s: %w", id, dgst, err)
	}
	// The blob is committed whatever happens next; an upload without state
	// is gone, and its leftovers are garbage for AbortStaleUploads.
	if err := s.discard(ctx, p, st); err != nil {
		s.log.Warn("remove committed upload", "upload", id, "err", err)
	}
	return st.Size, nil
}

// assemble writes the upload's bytes to the object key.
func (s *Store) assemble(ctx context.Context, p, key string, st *uploadState, etag string) error {
	have := st.tailSize()
	if st.MultipartID == "" {
		buf, putBuf := s.getBuf(st.PartSize)
		defer putBuf()
		if err := s.readSegments(ctx, st.Segments, buf[:have]); err != nil {
			return err
		}
		return s.putObject(ctx, key, buf[:have])
	}
	dataKey := p + dataName
	if _, err := s.completeData(ctx, p, st, etag); err != nil {
		return err
	}
	return s.copyObject(ctx, dataKey, key, st.Size, st.PartSize)
}

// completeData completes st's multipart upload into uploads/<id>/data and
// records that in its state, unless done already, and returns the state's
// new ETag.
func (s *Store) completeData(ctx context.Context, p string, st *uploadState, etag string) (string, error) {
	if st.Completed {
		return etag, nil
	}
	dataKey := p + dataName
	if err := s.completeUpload(ctx, dataKey, st); err != nil {
		// A commit that completed the upload but failed to record it
		// finds the multipart upload gone and its object in place.
		if !isNoSuchUpload(err) {
			return "", err
		}
		if size, herr := s.headSize(ctx, dataKey); herr != nil || size != st.Size {
			return "", err
		}
	}
	next := *st
	next.Completed = true
	etag, err := s.saveState(ctx, p, &next, etag)
	if err != nil {
		return "", err
	}
	st.Completed = true
	return etag, nil
}

// rehash returns the digest under alg of the upload's bytes by reading
// them, for an algorithm its state does not hash (SHA-512 since state
// version 2), and the state's new ETag. Bytes in parts can be read only
// from a completed multipart upload, so it completes it first: after a
// mismatch the upload takes no more chunks, and a commit with the right
// digest still succeeds.
func (s *Store) rehash(ctx context.Context, p string, st *uploadState, etag string, alg digest.Algorithm) (digest.Digest, string, error) {
	h := newHash(alg)
	if st.MultipartID == "" {
		buf, putBuf := s.getBuf(st.PartSize)
		defer putBuf()
		have := st.tailSize()
		if err := s.readSegments(ctx, st.Segments, buf[:have]); err != nil {
			return "", "", err
		}
		h.Write(buf[:have])
		return digest.NewDigest(alg, h), etag, nil
	}
	etag, err := s.completeData(ctx, p, st, etag)
	if err != nil {
		return "", "", err
	}
	dataKey := p + dataName
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &dataKey})
	if err != nil {
		return "", "", fmt.Errorf("read the upload's bytes: %w", err)
	}
	defer out.Body.Close()
	if _, err := io.Copy(h, out.Body); err != nil {
		return "", "", fmt.Errorf("read the upload's bytes: %w", err)
	}
	return digest.NewDigest(alg, h), etag, nil
}

// completeUpload uploads the segments as the trailing part of the upload's
// multipart upload and completes it into dataKey.
func (s *Store) completeUpload(ctx context.Context, dataKey string, st *uploadState) error {
	parts := make([]types.CompletedPart, 0, len(st.Parts)+1)
	for _, pt := range st.Parts {
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(pt.Number), ETag: aws.String(pt.ETag)})
	}
	if have := st.tailSize(); have > 0 {
		buf, putBuf := s.getBuf(st.PartSize)
		defer putBuf()
		if err := s.readSegments(ctx, st.Segments, buf[:have]); err != nil {
			return err
		}
		num := int32(len(parts) + 1)
		etag, err := s.uploadPart(ctx, dataKey, st.MultipartID, num, buf[:have])
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: aws.String(etag)})
	}
	return s.complete(ctx, dataKey, st.MultipartID, parts)
}

// copyObject copies src (size bytes) to dst within the bucket: with one
// CopyObject up to S3's 5 GiB limit, part by part in parts of partSize
// beyond it.
func (s *Store) copyObject(ctx context.Context, src, dst string, size, partSize int64) error {
	source := copySource(s.bucket, src)
	if size <= s.copyLimit {
		_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: &dst, CopySource: &source})
		if err != nil {
			return fmt.Errorf("copy object: %w", err)
		}
		return nil
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &dst})
	if err != nil {
		return fmt.Errorf("copy object: create multipart upload: %w", err)
	}
	mpu := aws.ToString(out.UploadId)
	var parts []types.CompletedPart
	for off := int64(0); off < size; off += partSize {
		num := int32(len(parts) + 1)
		end := min(off+partSize, size) - 1
		res, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket:          &s.bucket,
			Key:             &dst,
			UploadId:        &mpu,
			PartNumber:      aws.Int32(num),
			CopySource:      &source,
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			s.abort(context.WithoutCancel(ctx), dst, mpu)
			return fmt.Errorf("copy object: part %d: %w", num, err)
		}
		var etag *string
		if res.CopyPartResult != nil {
			etag = res.CopyPartResult.ETag
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: etag})
	}
	if err := s.complete(ctx, dst, mpu, slices.Clip(parts)); err != nil {
		s.abort(context.WithoutCancel(ctx), dst, mpu)
		return fmt.Errorf("copy object: %w", err)
	}
	return nil
}

// copySource returns the x-amz-copy-source value for key: bucket/key,
// URL-encoded segment by segment.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, sg := range segs {
		segs[i] = url.PathEscape(sg)
	}
	return bucket + "/" + strings.Join(segs, "/")
}
