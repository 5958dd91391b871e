package fs

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

const (
	dataFile  = "data"
	stateFile = "hashstate"

	// stateMinSize is the upload size from which the running hash state is
	// saved after a write. Below it, hashing the bytes again costs less
	// than writing and reading the state file (a 64 KiB layer hashes in
	// tens of microseconds).
	stateMinSize = 1 << 20

	// maxStateSize bounds what is read back from a hash state file; a
	// marshaled sha256 state is about 110 bytes.
	maxStateSize = 1 << 10
)

// uploadDir validates id and returns the upload's directory. An id that
// fails validation cannot name an existing upload, so for every operation
// but StartUpload the error also matches storage.ErrNotFound.
func (s *Store) uploadDir(id string) (string, error) {
	if err := storage.CheckUploadID(id); err != nil {
		return "", fmt.Errorf("%w: %w", err, storage.ErrNotFound)
	}
	return s.path(uploadsDir, id), nil
}

// StartUpload implements storage.UploadStore. It fails if an upload with
// the same id exists. An invalid id (see the package doc) is an error and
// touches nothing.
func (s *Store) StartUpload(ctx context.Context, id string) error {
	if err := storage.CheckUploadID(id); err != nil {
		return fmt.Errorf("start upload: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	dir := s.path(uploadsDir, id)
	// Mkdir is the exclusive create: it fails if the id is taken.
	if err := os.Mkdir(dir, dirPerm); err != nil {
		return fmt.Errorf("start upload %s: %w", id, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, dataFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("start upload %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("start upload %s: %w", id, err)
	}
	return nil
}

// UploadSize implements storage.UploadStore. It waits for a write in
// progress on the same upload to finish.
func (s *Store) UploadSize(ctx context.Context, id string) (int64, error) {
	dir, err := s.uploadDir(id)
	if err != nil {
		return 0, fmt.Errorf("upload size: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	fi, err := os.Stat(filepath.Join(dir, dataFile))
	if err != nil {
		return 0, fmt.Errorf("upload size %s: %w", id, notFound(err))
	}
	return fi.Size(), nil
}

// WriteUpload implements storage.UploadStore. A write that fails part way
// (r errors, ctx is done) is undone, leaving the upload as it was, so the
// client can send the same chunk again. If the process dies during a
// write, the upload keeps the prefix of the chunk it had received, and
// UploadSize reports it. Writes to one upload are serialized.
func (s *Store) WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	dir, err := s.uploadDir(id)
	if err != nil {
		return 0, fmt.Errorf("write upload: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	f, err := os.OpenFile(filepath.Join(dir, dataFile), os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("write upload %s: %w", id, notFound(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("write upload %s: %w", id, err)
	}
	size := fi.Size()
	if offset != size {
		return size, fmt.Errorf("write upload %s at %d, size %d: %w", id, offset, size, storage.ErrOffsetMismatch)
	}

	h, err := s.resumeHash(ctx, dir, f, size)
	if err != nil {
		return size, fmt.Errorf("write upload %s: %w", id, err)
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		return size, fmt.Errorf("write upload %s: %w", id, err)
	}
	n, err := s.copy(ctx, hashWriter{w: f, h: h}, r)
	if err != nil {
		if terr := f.Truncate(size); terr != nil {
			// The upload keeps a valid prefix; the saved hash state still
			// covers size bytes, and the next write or commit catches up.
			s.log.Warn("undo failed upload write", "upload", id, "err", terr)
			return size + n, fmt.Errorf("write upload %s: %w", id, err)
		}
		return size, fmt.Errorf("write upload %s: %w", id, err)
	}
	if n == 0 {
		return size, nil
	}
	// Sync before saving the state that claims these bytes: a state must
	// never cover data a power loss could take back. Without WithSync a
	// power loss voids that promise, as it voids every unsynced write.
	if size+n < stateMinSize {
		return size + n, nil // cheaper to hash again than to save a state
	}
	if err := s.syncFile(f); err != nil {
		return size + n, fmt.Errorf("write upload %s: %w", id, err)
	}
	if err := s.saveHashState(dir, h, size+n); err != nil {
		// Not fatal: the state on disk still covers a prefix, or is gone,
		// and is caught up later.
		s.log.Warn("save upload hash state", "upload", id, "err", err)
	}
	return size + n, nil
}

// CommitUpload implements storage.UploadStore. For sha256 it uses the hash
// state saved by WriteUpload when that covers the whole upload, so
// committing does not read the bytes again; otherwise, and for sha512, it
// hashes the data file. The verified file is fsynced and renamed into
// blobs/; then the upload is removed.
func (s *Store) CommitUpload(ctx context.Context, id string, dgst digest.Digest) (int64, error) {
	dir, err := s.uploadDir(id)
	if err != nil {
		return 0, fmt.Errorf("commit upload: %w", err)
	}
	blob, err := s.blobPath(dgst)
	if err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	data := filepath.Join(dir, dataFile)
	f, err := os.OpenFile(data, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, notFound(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	size := fi.Size()

	var got digest.Digest
	if dgst.Algorithm() == digest.SHA256 && size >= stateMinSize {
		if h, count := s.loadHashState(dir); h != nil && count == size {
			got = digest.NewDigest(digest.SHA256, h)
		}
	}
	if got == "" {
		h := newHash(dgst.Algorithm())
		if _, err := s.copy(ctx, h, io.NewSectionReader(f, 0, size)); err != nil {
			return 0, fmt.Errorf("commit upload %s: hash: %w", id, err)
		}
		got = digest.NewDigest(dgst.Algorithm(), h)
	}
	if got != dgst {
		return 0, fmt.Errorf("commit upload %s as %s: got %s: %w", id, dgst, got, storage.ErrDigestMismatch)
	}

	// An existing blob is replaced by identical bytes, as in Put.
	if err := s.syncFile(f); err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	if err := s.commitFile(data, blob); err != nil {
		return 0, fmt.Errorf("commit upload %s: %w", id, err)
	}
	// The blob is committed whatever happens next; a leftover upload
	// directory without data reads as not found.
	if err := removeCommitted(dir); err != nil {
		s.log.Warn("remove committed upload", "upload", id, "err", err)
	}
	return size, nil
}

// CancelUpload implements storage.UploadStore.
func (s *Store) CancelUpload(ctx context.Context, id string) error {
	dir, err := s.uploadDir(id)
	if err != nil {
		return fmt.Errorf("cancel upload: %w", err)
	}
	unlock := s.locks.Lock(id)
	defer unlock()

	if _, err := os.Lstat(dir); err != nil {
		return fmt.Errorf("cancel upload %s: %w", id, notFound(err))
	}
	if err := s.discard(dir); err != nil {
		return fmt.Errorf("cancel upload %s: %w", id, err)
	}
	return nil
}

// removeCommitted removes what is left of an upload whose data became a
// blob: its hash state and its directory. Without the data file the
// directory already reads as no upload, so plain removal is safe here,
// and cheaper than discard's rename into tmp/.
func removeCommitted(dir string) error {
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	return os.Remove(dir)
}

// discard removes an upload directory: one rename makes it disappear at
// once, and what a crash leaves in tmp/ is cleaned by New.
func (s *Store) discard(dir string) error {
	trash, err := os.MkdirTemp(s.path(tmpDir), "upload-")
	if err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(trash, "u")); err != nil {
		os.Remove(trash)
		return err
	}
	return os.RemoveAll(trash)
}

// resumeHash returns a sha256 hash of the first size bytes of the upload:
// the saved state, caught up by reading the bytes it does not cover (after
// a crash or a failed save), or a fresh hash over the whole file.
func (s *Store) resumeHash(ctx context.Context, dir string, f *os.File, size int64) (hash.Hash, error) {
	var h hash.Hash
	var count int64
	if size >= stateMinSize {
		h, count = s.loadHashState(dir)
	}
	if h == nil || count > size {
		h, count = sha256.New(), 0
	}
	if count < size {
		if _, err := s.copy(ctx, h, io.NewSectionReader(f, count, size-count)); err != nil {
			return nil, fmt.Errorf("resume hash: %w", err)
		}
	}
	return h, nil
}

// loadHashState returns the saved sha256 state and the number of bytes it
// covers, or nil if there is none or it cannot be read.
func (s *Store) loadHashState(dir string) (hash.Hash, int64) {
	f, err := os.Open(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize))
	if err != nil || len(b) < 8 {
		return nil, 0
	}
	count := int64(binary.BigEndian.Uint64(b))
	h := sha256.New()
	if count < 0 || h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b[8:]) != nil {
		return nil, 0
	}
	return h, count
}

// saveHashState atomically replaces the upload's hash state: the covered
// byte count (8 bytes, big endian), then the marshaled sha256 state. It is
// not fsynced: a state lost to a power loss is rebuilt from the data.
func (s *Store) saveHashState(dir string, h hash.Hash, count int64) error {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return errors.New("hash state cannot be saved")
	}
	st, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(st)), uint64(count))
	b = append(b, st...)

	tmp, err := os.CreateTemp(s.path(tmpDir), "state-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
