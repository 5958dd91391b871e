package s3

import (
	"testing"

	"github.com/chainctl/chainctl/internal/storage"
	"github.com/chainctl/chainctl/internal/storage/s3/s3test"
	"github.com/chainctl/chainctl/internal/storage/storagetest"
)

// env is one versitygw behind an R2 proxy, shared by a test's subtests.
type env struct {
	srv   *s3test.Server
	proxy *s3test.R2Proxy
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := s3test.Start(t)
	return &env{srv: srv, proxy: s3test.NewR2Proxy(t, srv.Endpoint)}
}

// config returns a Config for a new bucket, through the R2 proxy, with the
// smallest part size so that multipart paths run on small blobs.
func (e *env) config(t *testing.T) Config {
	t.Helper()
	return Config{
		Bucket:    e.srv.NewBucket(t),
		Prefix:    "registry/blobs-test",
		Endpoint:  e.proxy.URL,
		Region:    s3test.Region,
		PathStyle: true,
		PartSize:  MinPartSize,
	}
}

// newStore returns a Store for cfg with the server's credentials.
func (e *env) newStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := New(t.Context(), cfg, WithCredentials(e.srv.Credentials()))
	if err != nil {
		t.Fatalf("New(%+v) = %v, want nil", cfg, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	e := newEnv(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return e.newStore(t, e.config(t))
	})
	t.Cleanup(func() {
		if v := e.proxy.Violations(); len(v) > 0 {
			t.Errorf("R2 rules violated: %q", v)
		}
	})
}
