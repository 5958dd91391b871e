package s3

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AbortStaleUploads removes what abandoned uploads left behind, for a
// periodic purge: uploads whose last write is older than olderThan (state,
// segments, multipart upload), objects under uploads/ older than that
// without a state (leftovers of commits and failed writes), and multipart
// uploads under the prefix started before then that belong to no live
// upload (such as a Put whose process died). R2 aborts incomplete
// multipart uploads only after 7 days, and bills their storage until then.
// It returns the number of uploads and multipart uploads removed.
func (s *Store) AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("abort stale uploads: olderThan %s not positive", olderThan)
	}
	cutoff := time.Now().Add(-olderThan)
	live, removed, err := s.removeStaleObjects(ctx, cutoff)
	if err != nil {
		return removed, fmt.Errorf("abort stale uploads: %w", err)
	}
	n, err := s.abortStaleMultipart(ctx, cutoff, live)
	removed += n
	if err != nil {
		return removed, fmt.Errorf("abort stale uploads: %w", err)
	}
	return removed, nil
}

// removeStaleObjects deletes stale uploads and stray objects under
// uploads/, and returns the ids of the uploads that are still live.
func (s *Store) removeStaleObjects(ctx context.Context, cutoff time.Time) (map[string]bool, int, error) {
	type upload struct {
		state *time.Time // last write, nil without a state object
		old   []string   // objects older than cutoff
	}
	root := s.prefix + uploadsDir
	uploads := map[string]*upload{}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &root})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("list uploads: %w", err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			id, rest, ok := strings.Cut(strings.TrimPrefix(key, root), "/")
			if !ok {
				continue
			}
			u := uploads[id]
			if u == nil {
				u = &upload{}
				uploads[id] = u
			}
			mod := aws.ToTime(o.LastModified)
			if rest == stateName {
				u.state = &mod
			}
			if mod.Before(cutoff) {
				u.old = append(u.old, key)
			}
		}
	}
	live := map[string]bool{}
	removed := 0
	for id, u := range uploads {
		switch {
		case u.state != nil && !u.state.Before(cutoff):
			live[id] = true
		case u.state != nil:
			// A stale upload: discard it as CancelUpload would.
			st, _, err := s.loadState(ctx, root+id+"/")
			if err != nil {
				s.log.Warn("read stale upload state", "upload", id, "err", err)
				continue
			}
			if err := s.discard(ctx, root+id+"/", st); err != nil {
				return live, removed, err
			}
			s.deleteKeys(ctx, u.old) // strays the state did not list
			removed++
			s.log.Info("removed stale upload", "upload", id, "size", st.Size)
		default:
			s.deleteKeys(ctx, u.old)
		}
	}
	return live, removed, nil
}

// abortStaleMultipart aborts the multipart uploads under blobs/ and
// uploads/ that started before cutoff and are not the multipart upload of
// a live upload. Keys outside those belong to someone else sharing the
// bucket, and are left alone.
func (s *Store) abortStaleMultipart(ctx context.Context, cutoff time.Time, live map[string]bool) (int, error) {
	root := s.prefix + uploadsDir
	removed := 0
	for _, prefix := range []string{s.prefix + blobsDir, root} {
		in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(prefix)}
		for {
			page, err := s.client.ListMultipartUploads(ctx, in)
			if err != nil {
				return removed, fmt.Errorf("list multipart uploads: %w", err)
			}
			for _, u := range page.Uploads {
				key := aws.ToString(u.Key)
				if !aws.ToTime(u.Initiated).Before(cutoff) {
					continue
				}
				if id, _, ok := strings.Cut(strings.TrimPrefix(key, root), "/"); ok && strings.HasPrefix(key, root) && live[id] {
					continue
				}
				s.abort(ctx, key, aws.ToString(u.UploadId))
				removed++
				s.log.Info("aborted stale multipart upload", "key", key)
			}
			if !aws.ToBool(page.IsTruncated) {
				break
			}
			in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
		}
	}
	return removed, nil
}
