package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/storagetest"
	"github.com/opencontainers/go-digest"
)

const mib = 1 << 20

// writeChunks starts upload id on s and writes chunks of p of the given
// sizes, returning the total.
func writeChunks(t *testing.T, s *Store, id string, p storagetest.Pattern, off int64, chunks []int64) int64 {
	t.Helper()
	for _, n := range chunks {
		size, err := s.WriteUpload(t.Context(), id, off, p.Reader(off, n))
		if err != nil || size != off+n {
			t.Fatalf("WriteUpload(%s, %d) of %d bytes = %d, %v, want %d, nil", id, off, n, size, err, off+n)
		}
		off += n
	}
	return off
}

// checkBlob fails t unless blob dgst holds the n bytes of p from 0.
func checkBlob(t *testing.T, s *Store, dgst digest.Digest, p storagetest.Pattern, n int64) {
	t.Helper()
	rc, err := s.Open(t.Context(), dgst, 0, -1)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dgst, err)
	}
	defer rc.Close()
	got, err := digest.SHA256.FromReader(rc)
	if err != nil {
		t.Fatalf("read %s: %v", dgst, err)
	}
	if want := p.Digest(digest.SHA256, 0, n); got != want {
		t.Errorf("blob %s reads as %s, want %s", dgst, got, want)
	}
}

// TestUploadRecut checks that client chunks of any size become parts of
// exactly the part size, which the R2 proxy would refuse otherwise.
func TestUploadRecut(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		chunks []int64
	}{
		{"one byte then large", []int64{1, 7 * mib, 5*mib + 1, 3}},
		{"exact parts", []int64{5 * mib, 5 * mib}},
		{"part plus one", []int64{5*mib + 1}},
		{"part minus one then one", []int64{5*mib - 1, 1, 1}},
		{"large chunk", []int64{17*mib + 12345}},
		{"many tiny chunks", append(repeat(40, 1000), 5*mib, 7)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := e.newStore(t, e.config(t))
			p := storagetest.Pattern{Seed: 1000 + uint64(i)}
			id := fmt.Sprintf("recut-%d", i)
			if err := s.StartUpload(ctx, id); err != nil {
				t.Fatalf("StartUpload(%s) = %v", id, err)
			}
			total := writeChunks(t, s, id, p, 0, tt.chunks)

			st, _, err := s.loadState(ctx, s.prefix+uploadsDir+id+"/")
			if err != nil {
				t.Fatalf("load state: %v", err)
			}
			if want := total / MinPartSize; int64(len(st.Parts)) != want {
				t.Errorf("%d full parts uploaded, want %d", len(st.Parts), want)
			}
			if got, want := st.tailSize(), total%MinPartSize; got != want {
				t.Errorf("%d bytes in segments, want %d", got, want)
			}
			if len(st.Segments) > maxSegments {
				t.Errorf("%d segments, want at most %d", len(st.Segments), maxSegments)
			}
			if st.MultipartID != "" {
				checkPartSizes(t, s, s.prefix+uploadsDir+id+"/"+dataName, st.MultipartID, MinPartSize)
			}

			dgst := p.Digest(digest.SHA256, 0, total)
			if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != total {
				t.Fatalf("CommitUpload(%s, %s) = %d, %v, want %d, nil", id, dgst, n, err, total)
			}
			checkBlob(t, s, dgst, p, total)
			checkNoLeftovers(t, s)
		})
	}
	if v := e.proxy.Violations(); len(v) > 0 {
		t.Errorf("R2 rules violated: %q", v)
	}
}

func repeat(n int, size int64) []int64 {
	r := make([]int64, n)
	for i := range r {
		r[i] = size
	}
	return r
}

// checkPartSizes fails t unless every part of multipart upload mpu on key
// has exactly size bytes.
func checkPartSizes(t *testing.T, s *Store, key, mpu string, size int64) {
	t.Helper()
	out, err := s.client.ListParts(t.Context(), &s3.ListPartsInput{Bucket: &s.bucket, Key: &key, UploadId: &mpu})
	if err != nil {
		t.Fatalf("ListParts(%s): %v", key, err)
	}
	for _, pt := range out.Parts {
		if got := aws.ToInt64(pt.Size); got != size {
			t.Errorf("part %d has %d bytes, want %d", aws.ToInt32(pt.PartNumber), got, size)
		}
	}
}

// checkNoLeftovers fails t if anything but blobs is left in s's bucket:
// upload objects or multipart uploads.
func checkNoLeftovers(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	objs, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + uploadsDir)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	for _, o := range objs.Contents {
		t.Errorf("object %s left behind", aws.ToString(o.Key))
	}
	mpus, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	for _, u := range mpus.Uploads {
		t.Errorf("multipart upload on %s left behind", aws.ToString(u.Key))
	}
}

// TestUploadOtherReplica continues an upload on a second Store, as another
// replica behind a load balancer would, configured with another part size:
// the upload keeps the part size it started with.
func TestUploadOtherReplica(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cfg := e.config(t)
	a := e.newStore(t, cfg)
	cfg.PartSize = 6 * mib
	b := e.newStore(t, cfg)

	p := storagetest.Pattern{Seed: 2000}
	const id = "replicated"
	if err := a.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v", id, err)
	}
	off := writeChunks(t, a, id, p, 0, []int64{3 * mib})
	off = writeChunks(t, b, id, p, off, []int64{4 * mib})
	off = writeChunks(t, a, id, p, off, []int64{6*mib + 5})
	if size, err := b.UploadSize(ctx, id); err != nil || size != off {
		t.Fatalf("UploadSize(%s) on the other store = %d, %v, want %d, nil", id, size, err, off)
	}
	if _, err := a.WriteUpload(ctx, id, off-1, p.Reader(off-1, 1)); !errors.Is(err, storage.ErrOffsetMismatch) {
		t.Errorf("WriteUpload(%s, %d) behind the other store = %v, want ErrOffsetMismatch", id, off-1, err)
	}
	off = writeChunks(t, b, id, p, off, []int64{1})

	dgst := p.Digest(digest.SHA512, 0, off)
	if n, err := b.CommitUpload(ctx, id, dgst); err != nil || n != off {
		t.Fatalf("CommitUpload(%s, %s) on the other store = %d, %v, want %d, nil", id, dgst, n, err, off)
	}
	if size, err := a.Stat(ctx, dgst); err != nil || size != off {
		t.Errorf("Stat(%s) on the first store = %d, %v, want %d, nil", dgst, size, err, off)
	}
	checkNoLeftovers(t, a)
	if v := e.proxy.Violations(); len(v) > 0 {
		t.Errorf("R2 rules violated: %q", v)
	}
}

// TestCommitCopyParts commits through the part-by-part copy that blobs
// over 5 GiB take, by lowering the limit for a single CopyObject.
func TestCommitCopyParts(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	s.copyLimit = 1

	p := storagetest.Pattern{Seed: 3000}
	const id = "copy-parts"
	if err := s.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v", id, err)
	}
	total := writeChunks(t, s, id, p, 0, []int64{12*mib + 7})
	dgst := p.Digest(digest.SHA256, 0, total)
	if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != total {
		t.Fatalf("CommitUpload(%s, %s) = %d, %v, want %d, nil", id, dgst, n, err, total)
	}
	checkBlob(t, s, dgst, p, total)
	checkNoLeftovers(t, s)
	if v := e.proxy.Violations(); len(v) > 0 {
		t.Errorf("R2 rules violated: %q", v)
	}
}

// TestPutMultipart checks Put's multipart path: a stream ending on a part
// boundary, and a mismatch, which must leave no multipart upload behind.
func TestPutMultipart(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	s := e.newStore(t, e.config(t))
	p := storagetest.Pattern{Seed: 4000}

	for _, n := range []int64{10 * mib, 11*mib + 1} {
		dgst := p.Digest(digest.SHA256, 0, n)
		if got, err := s.Put(ctx, dgst, p.Reader(0, n)); err != nil || got != n {
			t.Fatalf("Put(%s) of %d bytes = %d, %v, want %d, nil", dgst, n, got, err, n)
		}
		checkBlob(t, s, dgst, p, n)
		rc, err := s.Open(ctx, dgst, n-5, math.MaxInt64)
		if err != nil {
			t.Fatalf("Open(%s, %d, MaxInt64) = %v", dgst, n-5, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, p.Bytes(n-5, 5)) {
			t.Errorf("Open(%s, %d, MaxInt64) read %x, %v, want %x", dgst, n-5, b, err, p.Bytes(n-5, 5))
		}
	}
	wrong := p.Digest(digest.SHA256, 1, 10*mib)
	if _, err := s.Put(ctx, wrong, p.Reader(0, 10*mib)); !errors.Is(err, storage.ErrDigestMismatch) {
		t.Errorf("Put(%s) of other bytes = %v, want ErrDigestMismatch", wrong, err)
	}
	if _, err := s.Stat(ctx, wrong); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(%s) after a mismatch = %v, want ErrNotFound", wrong, err)
	}
	checkNoLeftovers(t, s)
	if v := e.proxy.Violations(); len(v) > 0 {
		t.Errorf("R2 rules violated: %q", v)
	}
}
