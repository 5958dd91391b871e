package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chainctl/chainctl/internal/storage"
)

// leaseTTL is how long a write holds an upload without renewing its lease.
const leaseTTL = 10 * time.Minute

// StartUpload implements storage.UploadStore. It fails if an upload with
// the same id exists (the state object is created with If-None-Match). An
// invalid id is an error and touches nothing.
func (s *Store) StartUpload(ctx context.Context, id string) error {
	if err := storage.CheckUploadID(id); err != nil {
		return fmt.Errorf("start upload: %w", err)
	}
	p := s.prefix + uploadsDir + id + "/"
	unlock := s.locks.Lock(id)
	defer unlock()

	st, err := newState(s.partSize, time.Now())
	if err != nil {
		return fmt.Errorf("start upload %s: %w", id, err)
	}
	if _, err := s.saveState(ctx, p, st, ""); err != nil {
		if errors.Is(err, storage.ErrOffsetMismatch) {
			return fmt.Errorf("start upload %s: upload exists", id)
		}
		return fmt.Errorf("start upload %s: %w", id, err)
	}
	return nil
}

// UploadSize implements storage.UploadStore.
func (s *Store) UploadSize(ctx context.Context, id string) (int64, error) {
	p, err := s.uploadPrefix(id)
	if err != nil {
		return 0, fmt.Errorf("upload size: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()
	st, _, err := s.loadState(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("upload size %s: %w", id, err)
	}
	return st.Size, nil
}

// WriteUpload implements storage.UploadStore. The bytes are cut into parts
// of exactly the upload's part size, each sent to the upload's multipart
// upload as soon as it is full; what is left over is saved as a segment
// object. The write takes effect when the new state is saved, conditional
// on the state it started from, so a write that fails part way (r errors,
// ctx is done, another writer won) leaves the upload as it was, and the
// client can send the same chunk again.
//
// Writes from one process are serialized. Of two processes writing the
// same offset of one upload at once (a client retrying on another replica
// while the first attempt is still running), one gets ErrOffsetMismatch,
// either because the other saved its state first or because the other
// holds the lease that a write takes before uploading parts (see
// appender.claim).
func (s *Store) WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	p, err := s.uploadPrefix(id)
	if err != nil {
		return 0, fmt.Errorf("write upload: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	st, etag, err := s.loadState(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("write upload %s: %w", id, err)
	}
	if offset != st.Size {
		return st.Size, fmt.Errorf("write upload %s at %d, size %d: %w", id, offset, st.Size, storage.ErrOffsetMismatch)
	}
	if st.Completed {
		return st.Size, fmt.Errorf("write upload %s: upload is being committed", id)
	}
	if st.leased(time.Now()) {
		return st.Size, fmt.Errorf("write upload %s: another write is in progress: %w", id, storage.ErrOffsetMismatch)
	}
	w := &appender{s: s, p: p, st: st, etag: etag}
	next, err := w.append(ctx, r)
	if err != nil {
		w.rollback(context.WithoutCancel(ctx))
		return st.Size, fmt.Errorf("write upload %s: %w", id, err)
	}
	if next == st {
		return st.Size, nil
	}
	next.Lease = nil
	if _, err := s.saveState(ctx, p, next, w.etag); err != nil {
		// Only a refused save is known not to have happened. After any
		// other failure the new state may be in place and need what this
		// write created; if not, that is garbage for AbortStaleUploads.
		if errors.Is(err, storage.ErrOffsetMismatch) || errors.Is(err, storage.ErrNotFound) {
			w.rollback(context.WithoutCancel(ctx))
		}
		return st.Size, fmt.Errorf("write upload %s: %w", id, err)
	}
	s.deleteKeys(context.WithoutCancel(ctx), w.obsolete)
	return next.Size, nil
}

// CancelUpload implements storage.UploadStore.
func (s *Store) CancelUpload(ctx context.Context, id string) error {
	p, err := s.uploadPrefix(id)
	if err != nil {
		return fmt.Errorf("cancel upload: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	st, _, err := s.loadState(ctx, p)
	if err != nil {
		return fmt.Errorf("cancel upload %s: %w", id, err)
	}
	if err := s.discard(ctx, p, st); err != nil {
		return fmt.Errorf("cancel upload %s: %w", id, err)
	}
	return nil
}

// discard removes an upload: first its state, which makes it disappear at
// once, then, best effort, its multipart upload and objects.
func (s *Store) discard(ctx context.Context, p string, st *uploadState) error {
	key := p + stateName
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete upload state: %w", err)
	}
	ctx = context.WithoutCancel(ctx)
	if st.MultipartID != "" && !st.Completed {
		s.abort(ctx, p+dataName, st.MultipartID)
	}
	keys := make([]string, 0, len(st.Segments)+1)
	for _, sg := range st.Segments {
		if sg.Key != "" {
			keys = append(keys, sg.Key)
		}
	}
	if st.Completed {
		keys = append(keys, p+dataName)
	}
	s.deleteKeys(ctx, keys)
	return nil
}

// appender appends one chunk to an upload.
type appender struct {
	s    *Store
	p    string
	st   *uploadState // as loaded
	etag string       // of the stored state: as loaded, then of our lease
	held *uploadState // st with our lease, once claimed

	createdMPU string   // a multipart upload this write created
	newSegment string   // the segment this write created
	obsolete   []string // segments to delete once the new state is saved
}

// append reads r into the upload and returns the state that describes the
// result, or st itself if r was empty. Nothing it did is part of the
// upload until that state is saved.
func (w *appender) append(ctx context.Context, r io.Reader) (*uploadState, error) {
	st := w.st
	ps := st.PartSize
	buf, release := w.s.getBuf(ps)
	defer func() { release() }() // the buffer in hand at the end
	h256, h512, err := st.hashes()
	if err != nil {
		return nil, err
	}
	hw := io.Writer(h256)
	if h512 != nil {
		hw = io.MultiWriter(h256, h512)
	}
	limit := ps * MaxParts
	have := st.tailSize()

	n, err := readFull(ctx, r, buf[have:])
	hw.Write(buf[have : have+int64(n)])
	written := int64(n)
	if err != nil {
		return nil, err
	}
	if written == 0 {
		return st, nil
	}
	if st.Size+written > limit {
		return nil, fmt.Errorf("upload larger than %d bytes (%d parts of %d)", limit, MaxParts, ps)
	}
	next := *st
	next.Parts = slices.Clone(st.Parts)

	if have+written < ps {
		// Not a full part yet: keep the bytes as one more segment, or
		// merge all segments into one if there are too many.
		start, segBytes := st.Size, buf[have:have+written]
		next.Segments = slices.Clone(st.Segments)
		if len(st.Segments) >= maxSegments {
			if err := w.s.readSegments(ctx, st.Segments, buf[:have]); err != nil {
				return nil, err
			}
			start, segBytes = st.Size-have, buf[:have+written]
			next.Segments = nil
			w.obsoleteSegments()
		}
		if err := w.putSegment(ctx, &next, start, segBytes); err != nil {
			return nil, err
		}
	} else {
		if err := w.s.readSegments(ctx, st.Segments, buf[:have]); err != nil {
			return nil, err
		}
		w.obsoleteSegments()
		next.Segments = nil
		if err := w.claim(ctx); err != nil {
			return nil, err
		}
		dataKey := w.p + dataName
		if next.MultipartID == "" {
			out, err := w.s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &w.s.bucket, Key: &dataKey})
			if err != nil {
				return nil, fmt.Errorf("create multipart upload: %w", err)
			}
			next.MultipartID = aws.ToString(out.UploadId)
			w.createdMPU = next.MultipartID
		}
		// Full parts go up to PartsInFlight at once, each in a buffer
		// of its own, while the next is read.
		parts := w.s.newPartSender(ctx, dataKey, next.MultipartID)
		sending := true
		defer func() {
			if sending {
				_, _ = parts.wait() // a failure: nothing is sent after return
			}
		}()
		// release gives back the buffer in hand, if any: send takes it.
		held, err := parts.adopt(release)
		release = func() {}
		if err != nil {
			return nil, err
		}
		release = held
		num := int32(len(next.Parts))
		for have+int64(n) == ps {
			if err := w.claim(ctx); err != nil {
				return nil, err
			}
			num++
			parts.send(num, buf, release)
			release = func() {}
			b, held, err := parts.buffer(ps)
			if err != nil {
				return nil, err
			}
			buf, release, have = b, held, 0
			n, err = readFull(ctx, r, buf)
			hw.Write(buf[:n])
			written += int64(n)
			if err != nil {
				return nil, err
			}
			if st.Size+written > limit {
				return nil, fmt.Errorf("upload larger than %d bytes (%d parts of %d)", limit, MaxParts, ps)
			}
		}
		sent, err := parts.wait()
		sending = false
		if err != nil {
			return nil, err
		}
		for _, pt := range sent {
			next.Parts = append(next.Parts, part{Number: aws.ToInt32(pt.PartNumber), ETag: aws.ToString(pt.ETag)})
		}
		if n > 0 {
			if err := w.putSegment(ctx, &next, st.Size+written-int64(n), buf[:n]); err != nil {
				return nil, err
			}
		}
	}
	next.Size = st.Size + written
	if err := next.setHashes(h256, h512); err != nil {
		return nil, err
	}
	return &next, nil
}

// putSegment saves b, the upload's bytes from offset start, as a new
// segment object appended to next.
func (w *appender) putSegment(ctx context.Context, next *uploadState, start int64, b []byte) error {
	if next.inlineSize()+int64(len(b)) <= maxInline {
		next.Segments = append(next.Segments, segment{Size: int64(len(b)), Data: bytes.Clone(b)})
		return nil
	}
	key := fmt.Sprintf("%s%s%020d-%s", w.p, segDir, start, rand.Text())
	if err := w.s.putObject(ctx, key, b); err != nil {
		return fmt.Errorf("save upload segment: %w", err)
	}
	w.newSegment = key
	next.Segments = append(next.Segments, segment{Key: key, Size: int64(len(b))})
	return nil
}

// obsoleteSegments marks the segments of the old state for deletion.
func (w *appender) obsoleteSegments() {
	for _, sg := range w.st.Segments {
		if sg.Key != "" {
			w.obsolete = append(w.obsolete, sg.Key)
		}
	}
}

// claim takes or renews the upload's lease before a part is uploaded.
//
// Segments have keys of their own, but parts are numbered, and a write
// that lost the race for the state (another process wrote the same offset
// first) must not replace parts the winner uploaded under the same
// numbers. So a write takes a lease, by a conditional save of the state it
// started from, before its first part; while a lease is fresh, every other
// write and commit is refused. The lease is renewed at half its life and
// released by the write's final save (or its rollback). A process that
// dies holding one blocks the upload for leaseTTL; a part upload that
// hangs longer than half of leaseTTL could still land after another
// process took the upload over, and then CompleteMultipartUpload fails on
// the part's ETag rather than commit other bytes.
func (w *appender) claim(ctx context.Context) error {
	now := time.Now()
	if w.held != nil && w.held.Lease.Until.Sub(now) > leaseTTL/2 {
		return nil
	}
	if w.held == nil {
		held := *w.st
		held.Lease = &lease{Token: rand.Text()}
		w.held = &held
	}
	w.held.Lease.Until = now.Add(leaseTTL)
	etag, err := w.s.saveState(ctx, w.p, w.held, w.etag)
	if err != nil {
		return fmt.Errorf("lease upload: %w", err)
	}
	w.etag = etag
	return nil
}

// rollback removes what a failed append created and releases its lease.
// Parts it uploaded to an existing multipart upload are not listed in the
// saved state; the next write replaces them, and CompleteMultipartUpload
// leaves out unlisted ones.
func (w *appender) rollback(ctx context.Context) {
	if w.held != nil {
		if _, err := w.s.saveState(ctx, w.p, w.st, w.etag); err != nil {
			w.s.log.Warn("release upload lease", "err", err)
		}
	}
	if w.newSegment != "" {
		w.s.deleteKeys(ctx, []string{w.newSegment})
	}
	if w.createdMPU != "" {
		w.s.abort(ctx, w.p+dataName, w.createdMPU)
	}
}
