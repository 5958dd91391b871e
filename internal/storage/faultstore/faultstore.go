// Package faultstore wraps a storage.Store and injects faults, for tests of
// what the registry does when its blob backend misbehaves: errors, latency,
// timeouts, reads cut short and bytes that changed in storage.
package faultstore

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/storage"
)

// Operations a Fault can target.
const (
	OpStat         = "Stat"
	OpOpen         = "Open"
	OpPut          = "Put"
	OpDelete       = "Delete"
	OpStartUpload  = "StartUpload"
	OpWriteUpload  = "WriteUpload"
	OpUploadSize   = "UploadSize"
	OpCommitUpload = "CommitUpload"
	OpCancelUpload = "CancelUpload"
)

// Fault is what happens to the next calls of one operation.
type Fault struct {
	// Err fails the call with this error, after Delay, without calling the
	// wrapped store.
	Err error
	// Delay waits this long (or until the call's context ends, which then
	// fails the call with the context's error) before anything else.
	Delay time.Duration
	// TruncateAt makes an Open reader end with io.ErrUnexpectedEOF after
	// this many bytes (> 0).
	TruncateAt int64
	// Corrupt makes an Open reader flip the bits of its first byte: the
	// bytes no longer match their digest, as after bit rot.
	Corrupt bool
	// Times is how many calls the fault hits; 0 means every call.
	Times int
}

// Store is a storage.Store with faults injected by Inject.
type Store struct {
	// PreferPut is what PreferPutForWholeBlobs answers, so that tests can
	// drive either of the registry's paths for a whole-blob PUT.
	PreferPut bool

	inner storage.Store

	mu     sync.Mutex
	faults map[string]*Fault
	calls  map[string]int
}

var _ storage.Store = (*Store)(nil)

// New wraps s.
func New(s storage.Store) *Store {
	return &Store{inner: s, faults: map[string]*Fault{}, calls: map[string]int{}}
}

// PreferPutForWholeBlobs tells the registry whether to store a blob PUT
// whole with Put (see PreferPut).
func (s *Store) PreferPutForWholeBlobs() bool { return s.PreferPut }

// Inject sets the fault of op, replacing any earlier one.
func (s *Store) Inject(op string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = &f
}

// Clear removes every fault.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// Calls returns how many times op was called, faulted or not.
func (s *Store) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// take returns the fault for one call of op, counting it down.
func (s *Store) take(op string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	f, ok := s.faults[op]
	if !ok {
		return Fault{}
	}
	out := *f
	if f.Times > 0 {
		if f.Times--; f.Times == 0 {
			delete(s.faults, op)
		}
	}
	return out
}

// before applies a fault's delay and error.
func before(ctx context.Context, f Fault) error {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.Err
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	if err := before(ctx, s.take(OpStat)); err != nil {
		return 0, err
	}
	return s.inner.Stat(ctx, d)
}

// Open implements storage.Store.
func (s *Store) Open(ctx context.Context, d digest.Digest, offset, length int64) (io.ReadCloser, error) {
	f := s.take(OpOpen)
	if err := before(ctx, f); err != nil {
		return nil, err
	}
	rc, err := s.inner.Open(ctx, d, offset, length)
	if err != nil || (f.TruncateAt <= 0 && !f.Corrupt) {
		return rc, err
	}
	return &faultyReader{rc: rc, left: f.TruncateAt, truncate: f.TruncateAt > 0, corrupt: f.Corrupt}, nil
}

// Put implements storage.Store.
func (s *Store) Put(ctx context.Context, d digest.Digest, r io.Reader) (int64, error) {
	if err := before(ctx, s.take(OpPut)); err != nil {
		return 0, err
	}
	return s.inner.Put(ctx, d, r)
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	if err := before(ctx, s.take(OpDelete)); err != nil {
		return err
	}
	return s.inner.Delete(ctx, d)
}

// StartUpload implements storage.Store.
func (s *Store) StartUpload(ctx context.Context, id string) error {
	if err := before(ctx, s.take(OpStartUpload)); err != nil {
		return err
	}
	return s.inner.StartUpload(ctx, id)
}

// WriteUpload implements storage.Store.
func (s *Store) WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	if err := before(ctx, s.take(OpWriteUpload)); err != nil {
		return 0, err
	}
	return s.inner.WriteUpload(ctx, id, offset, r)
}

// UploadSize implements storage.Store.
func (s *Store) UploadSize(ctx context.Context, id string) (int64, error) {
	if err := before(ctx, s.take(OpUploadSize)); err != nil {
		return 0, err
	}
	return s.inner.UploadSize(ctx, id)
}

// CommitUpload implements storage.Store.
func (s *Store) CommitUpload(ctx context.Context, id string, d digest.Digest) (int64, error) {
	if err := before(ctx, s.take(OpCommitUpload)); err != nil {
		return 0, err
	}
	return s.inner.CommitUpload(ctx, id, d)
}

// CancelUpload implements storage.Store.
func (s *Store) CancelUpload(ctx context.Context, id string) error {
	if err := before(ctx, s.take(OpCancelUpload)); err != nil {
		return err
	}
	return s.inner.CancelUpload(ctx, id)
}

// faultyReader truncates and/or corrupts what it passes on.
type faultyReader struct {
	rc       io.ReadCloser
	left     int64
	truncate bool
	corrupt  bool
}

func (f *faultyReader) Read(p []byte) (int, error) {
	if f.truncate {
		if f.left <= 0 {
			return 0, io.ErrUnexpectedEOF
		}
		if int64(len(p)) > f.left {
			p = p[:f.left]
		}
	}
	n, err := f.rc.Read(p)
	f.left -= int64(n)
	if f.corrupt && n > 0 {
		p[0] ^= 0xff
		f.corrupt = false
	}
	return n, err
}

func (f *faultyReader) Close() error { return f.rc.Close() }
