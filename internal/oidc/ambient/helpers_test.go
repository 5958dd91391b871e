package ambient

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeEnv is an Env over maps. Files are keyed by absolute path.
type fakeEnv struct {
	vars   map[string]string
	files  map[string]string
	paths  map[string]string // LookPath results
	run    func(ctx context.Context, name string, args ...string) ([]byte, error)
	client *http.Client
}

var _ Env = (*fakeEnv)(nil)

func (e *fakeEnv) LookupEnv(key string) (string, bool) {
	v, ok := e.vars[key]
	return v, ok
}

func (e *fakeEnv) Open(path string) (fs.File, error) {
	m := fstest.MapFS{}
	for p, data := range e.files {
		m[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: []byte(data), Mode: 0o600}
	}
	f, err := m.Open(strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return f, nil
}

func (e *fakeEnv) LookPath(file string) (string, error) {
	if p, ok := e.paths[file]; ok {
		return p, nil
	}
	return "", errors.New("executable file not found in $PATH")
}

func (e *fakeEnv) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if e.run == nil {
		return nil, errors.New("unexpected command " + name)
	}
	return e.run(ctx, name, args...)
}

func (e *fakeEnv) HTTPClient() *http.Client {
	if e.client != nil {
		return e.client
	}
	return &http.Client{}
}

// makeJWT returns a JWS-shaped token (unsigned; nothing here verifies it).
func makeJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("signature-"+payload))
}

// checkNoSecret fails if err's text contains any of secrets.
func checkNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret %q", err, s)
		}
	}
}
