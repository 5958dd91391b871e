package s3

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"
)

// TestInlineTail: while an upload's tail is small it lives in the state
// object (no segment objects to write, read and delete); past maxInline
// the tail goes to segment objects; both commit to the right blob, also
// from a second Store (another replica).
func TestInlineTail(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t)
	a, b := e.newStore(t, cfg), e.newStore(t, cfg)
	ctx := t.Context()
	segments := func(id string) int {
		t.Helper()
		out, err := e.srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket: &cfg.Bucket, Prefix: aws.String(a.prefix + uploadsDir + id + "/" + segDir)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Contents)
	}
	for _, tt := range []struct {
		name     string
		chunks   []int
		wantSegs int
	}{
		{"small tail in the state", []int{1000, 3000, 24}, 0},
		{"large tail in objects", []int{1000, maxInline}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "inline" + strings.ReplaceAll(tt.name, " ", "")
			if err := a.StartUpload(ctx, id); err != nil {
				t.Fatal(err)
			}
			var all []byte
			for i, n := range tt.chunks {
				chunk := bytes.Repeat([]byte{byte('a' + i)}, n)
				st := a
				if i%2 == 1 {
					st = b // every other chunk through the other replica
				}
				if _, err := st.WriteUpload(ctx, id, int64(len(all)), bytes.NewReader(chunk)); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
				all = append(all, chunk...)
			}
			if got := segments(id); got != tt.wantSegs {
				t.Errorf("%d segment objects, want %d", got, tt.wantSegs)
			}
			d := digest.FromBytes(all)
			if _, err := b.CommitUpload(ctx, id, d); err != nil {
				t.Fatal(err)
			}
			rc, err := a.Open(ctx, d, 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, all) {
				t.Fatalf("committed %d bytes, want the %d written", len(got), len(all))
			}
			if n := segments(id); n != 0 {
				t.Errorf("%d segment objects left after commit", n)
			}
		})
	}
}
