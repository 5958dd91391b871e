package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

const (
	stateName = "state"
	segDir    = "seg/"
	dataName  = "data"

	// stateVersion is the version of new upload states: 2 keeps only the
	// SHA-256 state. Version 1 states (with SHA-512 too) are continued as
	// they are, so that a replica not yet upgraded can continue them too.
	stateVersion = 2
	// maxStateSize bounds what is read back as a state object: 10 000
	// parts of ~60 bytes of JSON each, and some.
	maxStateSize = 1 << 20
	// maxSegments is how many tail segments an upload keeps before a write
	// merges them into one, so that many tiny chunks cannot make the state
	// (and the reads at the next full part) grow without bound.
	maxSegments = 32
)

// uploadState is everything about a resumable upload that must outlive one
// request. It is saved after every write, with a conditional PutObject on
// the ETag it was read with, so of two writers racing on one upload only
// one can win. It is the commit point: parts and segments it does not list
// do not belong to the upload.
type uploadState struct {
	Version int `json:"v"`
	// Size is the number of bytes received.
	Size int64 `json:"size"`
	// PartSize is fixed when the upload starts, so a process configured
	// with another part size continues the upload with the same one.
	PartSize int64 `json:"part_size"`
	// MultipartID is the S3 multipart upload on uploads/<id>/data, created
	// when the first part is full; empty before.
	MultipartID string `json:"mpu,omitempty"`
	// Parts are the full parts uploaded, numbered from 1.
	Parts []part `json:"parts,omitempty"`
	// Segments hold, in order, the bytes after the last full part: fewer
	// than PartSize in all.
	Segments []segment `json:"segments,omitempty"`
	// SHA256 is the marshaled state of SHA-256 over all Size bytes. Which
	// algorithm the digest uses is known only at commit; a SHA-512 digest,
	// rare, is checked by reading the bytes then (see rehash). SHA512 is
	// kept only by version 1 states, which hashed every byte twice.
	SHA256 []byte `json:"sha256"`
	SHA512 []byte `json:"sha512,omitempty"`
	// Completed is set once the multipart upload was completed into
	// uploads/<id>/data by a commit whose digest matched; a commit that
	// failed after that resumes from the copy.
	Completed bool      `json:"completed,omitempty"`
	Created   time.Time `json:"created"`
	// Lease is held by a write while it uploads parts; see appender.claim.
	Lease *lease `json:"lease,omitempty"`
}

// lease reserves an upload's next part numbers for one write.
type lease struct {
	Token string    `json:"token"`
	Until time.Time `json:"until"`
}

// leased reports whether a write holds the upload at now.
func (st *uploadState) leased(now time.Time) bool {
	return st.Lease != nil && now.Before(st.Lease.Until)
}

type part struct {
	Number int32  `json:"n"`
	ETag   string `json:"etag"`
}

// segment is bytes after the last full part: an object of its own (Key),
// or, while the upload's tail is small, kept in the state itself (Data),
// which saves a PUT per write and a GET and a DELETE at commit.
type segment struct {
	Key  string `json:"key,omitempty"`
	Size int64  `json:"size"`
	Data []byte `json:"data,omitempty"`
}

// maxInline is how many tail bytes an upload keeps inside its state
// object; beyond it, segments are objects of their own.
const maxInline = 32 << 10

// inlineSize returns the number of tail bytes kept in the state.
func (st *uploadState) inlineSize() int64 {
	var n int64
	for _, sg := range st.Segments {
		if sg.Key == "" {
			n += sg.Size
		}
	}
	return n
}

// tailSize returns the number of bytes held in segments.
func (st *uploadState) tailSize() int64 {
	var n int64
	for _, sg := range st.Segments {
		n += sg.Size
	}
	return n
}

// hashes returns the hashes resumed from the state: SHA-256, and SHA-512
// for a version 1 state (nil otherwise).
func (st *uploadState) hashes() (h256, h512 hash.Hash, err error) {
	h256 = sha256.New()
	if err := h256.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.SHA256); err != nil {
		return nil, nil, fmt.Errorf("restore sha256 state: %w", err)
	}
	if len(st.SHA512) > 0 {
		h512 = sha512.New()
		if err := h512.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.SHA512); err != nil {
			return nil, nil, fmt.Errorf("restore sha512 state: %w", err)
		}
	}
	return h256, h512, nil
}

// setHashes saves the states of h256 and, unless nil, h512.
func (st *uploadState) setHashes(h256, h512 hash.Hash) error {
	var err error
	if st.SHA256, err = h256.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return fmt.Errorf("save sha256 state: %w", err)
	}
	st.SHA512 = nil
	if h512 != nil {
		if st.SHA512, err = h512.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
			return fmt.Errorf("save sha512 state: %w", err)
		}
	}
	return nil
}

// errRehash is digest's answer for an algorithm the state does not hash:
// the bytes must be read to know it.
var errRehash = errors.New("the upload's bytes must be read for this digest")

// digest returns the digest under alg of the upload's bytes, or errRehash.
func (st *uploadState) digest(alg digest.Algorithm) (digest.Digest, error) {
	h256, h512, err := st.hashes()
	if err != nil {
		return "", err
	}
	switch {
	case alg == digest.SHA256:
		return digest.NewDigest(alg, h256), nil
	case alg == digest.SHA512 && h512 != nil:
		return digest.NewDigest(alg, h512), nil
	}
	return "", errRehash
}

// newState returns the state of an empty upload.
func newState(partSize int64, now time.Time) (*uploadState, error) {
	st := &uploadState{Version: stateVersion, PartSize: partSize, Created: now.UTC()}
	if err := st.setHashes(sha256.New(), nil); err != nil {
		return nil, err
	}
	return st, nil
}

// loadState reads the state of the upload under prefix p and the ETag to
// make the next save conditional on. A missing state is ErrNotFound.
func (s *Store) loadState(ctx context.Context, p string) (*uploadState, string, error) {
	key := p + stateName
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, "", notFound(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxStateSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read upload state: %w", err)
	}
	if len(b) > maxStateSize {
		return nil, "", errors.New("upload state too large")
	}
	var st uploadState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, "", fmt.Errorf("decode upload state: %w", err)
	}
	if st.Version != 1 && st.Version != stateVersion {
		return nil, "", fmt.Errorf("upload state version %d, want 1 or %d", st.Version, stateVersion)
	}
	if st.PartSize < MinPartSize || st.PartSize > MaxPartSize || st.Size < 0 || len(st.Parts) > MaxParts {
		return nil, "", errors.New("upload state corrupt")
	}
	return &st, aws.ToString(out.ETag), nil
}

// saveState writes st for the upload under prefix p, if the stored state
// still has ETag etag (or, with etag "", if there is none yet), and returns
// the new ETag. Losing that race is storage.ErrOffsetMismatch: another
// writer moved the upload on.
func (s *Store) saveState(ctx context.Context, p string, st *uploadState, etag string) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode upload state: %w", err)
	}
	key := p + stateName
	in := &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),
		ContentType:   aws.String("application/json"),
	}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		if isPreconditionFailed(err) {
			return "", fmt.Errorf("upload state changed concurrently: %w", storage.ErrOffsetMismatch)
		}
		if etag != "" && isNotFound(err) {
			return "", fmt.Errorf("upload removed concurrently: %w", storage.ErrNotFound)
		}
		return "", fmt.Errorf("save upload state: %w", err)
	}
	return aws.ToString(out.ETag), nil
}

// readSegments reads the segments, in order, into buf, which must hold
// them all.
func (s *Store) readSegments(ctx context.Context, segs []segment, buf []byte) error {
	off := 0
	for _, sg := range segs {
		if sg.Key == "" {
			if int64(len(sg.Data)) != sg.Size {
				return fmt.Errorf("read upload segment: %d bytes kept in the state, want %d", len(sg.Data), sg.Size)
			}
			off += copy(buf[off:], sg.Data)
			continue
		}
		out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(sg.Key)})
		if isNotFound(err) {
			// Only a write that moved the upload on removes segments.
			return fmt.Errorf("upload segment gone, upload changed concurrently: %w", storage.ErrOffsetMismatch)
		}
		if err != nil {
			return fmt.Errorf("read upload segment: %w", err)
		}
		_, err = io.ReadFull(out.Body, buf[off:off+int(sg.Size)])
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("read upload segment: %w", err)
		}
		off += int(sg.Size)
	}
	return nil
}

// deleteKeys deletes keys one by one, best effort: what is left is
// garbage that AbortStaleUploads removes later. (DeleteObjects would need a
// request checksum, which is what R2 has refused from recent SDKs; an
// upload has few objects.)
func (s *Store) deleteKeys(ctx context.Context, keys []string) {
	for _, k := range keys {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(k)}); err != nil {
			s.log.Warn("delete upload object", "key", k, "err", err)
		}
	}
}
