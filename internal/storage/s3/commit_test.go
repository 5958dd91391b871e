package s3

import (
	"fmt"
	"testing"

	"github.com/chainctl/chainctl/internal/storage/storagetest"
	"github.com/opencontainers/go-digest"
)

// TestCommitResume checks that a commit interrupted after it completed the
// multipart upload is finished by the next CommitUpload: whether or not the
// completion was recorded in the state, and whether or not a trailing part
// was still to send.
func TestCommitResume(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		size     int64
		recorded bool // the state says Completed
	}{
		{"recorded", 2*MinPartSize + 100, true},
		{"not recorded, with a trailing part", 2*MinPartSize + 100, false},
		{"not recorded, parts only", 2 * MinPartSize, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := e.newStore(t, e.config(t))
			p := storagetest.Pattern{Seed: 7000 + uint64(i)}
			id := fmt.Sprintf("resume-%d", i)
			if err := s.StartUpload(ctx, id); err != nil {
				t.Fatalf("StartUpload(%s) = %v", id, err)
			}
			writeChunks(t, s, id, p, 0, []int64{tt.size})

			// What an interrupted commit leaves behind.
			prefix := s.prefix + uploadsDir + id + "/"
			st, etag, err := s.loadState(ctx, prefix)
			if err != nil {
				t.Fatalf("load state: %v", err)
			}
			if err := s.completeUpload(ctx, prefix+dataName, st); err != nil {
				t.Fatalf("complete upload: %v", err)
			}
			if tt.recorded {
				st.Completed = true
				if _, err := s.saveState(ctx, prefix, st, etag); err != nil {
					t.Fatalf("save state: %v", err)
				}
			}

			dgst := p.Digest(digest.SHA256, 0, tt.size)
			if n, err := s.CommitUpload(ctx, id, dgst); err != nil || n != tt.size {
				t.Fatalf("CommitUpload(%s, %s) after an interrupted commit = %d, %v, want %d, nil", id, dgst, n, err, tt.size)
			}
			checkBlob(t, s, dgst, p, tt.size)
			checkNoLeftovers(t, s)
		})
	}
	if v := e.proxy.Violations(); len(v) > 0 {
		t.Errorf("R2 rules violated: %q", v)
	}
}
