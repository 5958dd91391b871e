package s3

import (
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/storagetest"
	"github.com/opencontainers/go-digest"
)

// gatedReader passes through r, but once it has passed after bytes it
// signals on started and waits for release.
type gatedReader struct {
	r       io.Reader
	after   int64
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.after <= 0 {
		g.once.Do(func() {
			close(g.started)
			<-g.release
		})
	}
	if g.after > 0 && int64(len(p)) > g.after {
		p = p[:g.after]
	}
	n, err := g.r.Read(p)
	g.after -= int64(n)
	return n, err
}

// TestUploadReplicaRace writes the same offset of one upload from two
// Stores at once (two replicas, whose in-process locks do not see each
// other). A write that loses the race for the state fails with
// ErrOffsetMismatch without touching the winner's bytes, and a write
// that holds the lease for its parts keeps others out until it is done.
func TestUploadReplicaRace(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cfg := e.config(t)
	a, b := e.newStore(t, cfg), e.newStore(t, cfg)
	const id = "race"
	if err := a.StartUpload(ctx, id); err != nil {
		t.Fatalf("StartUpload(%s) = %v", id, err)
	}
	pa, pb := storagetest.Pattern{Seed: 5000}, storagetest.Pattern{Seed: 5001}
	var want []io.Reader // what the upload should hold, piece by piece

	tests := []struct {
		name    string
		n       int64
		gate    int64 // a stops after this many bytes
		winnerA bool
	}{
		{"small chunks, a stalls before reading", 1000, 0, false},
		{"part-sized chunks, a stalls before reading", 2*MinPartSize + 3, 0, false},
		{"a stalls holding the lease", 2*MinPartSize + 5, MinPartSize + 1, true},
	}
	var off int64
	for _, tt := range tests {
		g := &gatedReader{r: pa.Reader(off, tt.n), after: tt.gate, started: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error, 1)
		go func() {
			_, err := a.WriteUpload(ctx, id, off, g)
			done <- err
		}()
		<-g.started
		_, errB := b.WriteUpload(ctx, id, off, pb.Reader(off, tt.n))
		close(g.release)
		errA := <-done
		winner, loser := errB, errA
		if tt.winnerA {
			winner, loser = errA, errB
			want = append(want, pa.Reader(off, tt.n))
		} else {
			want = append(want, pb.Reader(off, tt.n))
		}
		if winner != nil {
			t.Fatalf("%s: winner's WriteUpload(%s, %d) = %v, want nil", tt.name, id, off, winner)
		}
		if !errors.Is(loser, storage.ErrOffsetMismatch) {
			t.Fatalf("%s: loser's WriteUpload(%s, %d) = %v, want ErrOffsetMismatch", tt.name, id, off, loser)
		}
		off += tt.n
		if size, err := b.UploadSize(ctx, id); err != nil || size != off {
			t.Fatalf("%s: UploadSize(%s) = %d, %v, want %d, nil", tt.name, id, size, err, off)
		}
	}

	dgst, err := digest.SHA256.FromReader(io.MultiReader(want...))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a.CommitUpload(ctx, id, dgst); err != nil || n != off {
		t.Fatalf("CommitUpload(%s, %s) = %d, %v, want %d, nil", id, dgst, n, err, off)
	}
	rc, err := a.Open(ctx, dgst, 0, -1)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dgst, err)
	}
	defer rc.Close()
	if got, err := digest.SHA256.FromReader(rc); err != nil || got != dgst {
		t.Errorf("blob %s reads as %s, %v", dgst, got, err)
	}
	checkNoLeftovers(t, a)
}
