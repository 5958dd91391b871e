package status

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// Test_statusRunSessionStoredForDocker: a session token given to `docker
// login` or `crane auth login` goes through the helper's store; status
// then says when it expires (and that it has), not that it lasts for ever.
func Test_statusRunSessionStoredForDocker(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exp := now.Add(time.Hour)
	enc := base64.RawURLEncoding.EncodeToString
	tok := enc([]byte(`{"alg":"ES256"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":"dev","exp":%d}`, exp.Unix())) + ".c2ln"

	dir := t.TempDir()
	open := func() (*tokencache.Cache, error) { return tokencache.Open(dir) }
	// As `crane auth login localhost:5000 -u dev --password-stdin` does,
	// through docker-credential-chainctl store.
	if err := credhelper.NewCache(open).Store(t.Context(), credhelper.Credentials{ServerURL: "localhost:5000", Username: "dev", Secret: tok}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		at   time.Time
		want string
	}{
		{name: "valid", at: now, want: "uses the credential stored by docker login (user dev), which expires " + exp.Local().Format(time.RFC1123) + "\n"},
		{name: "expired", at: exp.Add(time.Minute), want: "uses the credential stored by docker login (user dev), expired at " + exp.Local().Format(time.RFC1123) + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			opts := &StatusOptions{
				IO: ios, Now: func() time.Time { return tt.at },
				LookupEnv: func(string) (string, bool) { return "", false },
				Cache:     open,
				Registry:  func(string) (session.Registry, error) { return session.ParseRegistry("localhost:5000") },
			}
			_ = statusRun(context.Background(), opts) // exit 4: no login session
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("stdout = %q, want %q", stdout, tt.want)
			}
		})
	}
}
