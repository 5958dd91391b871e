package status

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/session"
	"github.com/chainctl/chainctl/internal/tokencache"
)

func TestNewCmdStatus(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: cmdutil.OutputJSON}}
	var got *StatusOptions
	cmd := NewCmdStatus(f, func(_ context.Context, o *StatusOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--registry", "r.test"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	if got.RegistryFlag != "r.test" || got.Output != cmdutil.OutputJSON {
		t.Errorf("options = %+v", got)
	}
	cmd = NewCmdStatus(f, func(context.Context, *StatusOptions) error { return nil })
	cmd.SetArgs([]string{"extra"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err == nil {
		t.Error("Execute(extra) = nil, want an error")
	}
}

func Test_statusRun(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		entry   *tokencache.Entry
		stored  *tokencache.Entry // for docker, in the stored slot
		json    bool
		wantOK  bool
		minLife string // $CHAINCTL_TOKEN_MIN_LIFE
		wantOut []string
		notOut  string
	}{
		{name: "logged in", entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Identity: "dev", Expiry: now.Add(time.Hour)},
			wantOK: true, wantOut: []string{"Logged in to registry.test", "Identity: dev", "in 1h0m0s"}, notOut: "left: the credential helper"},
		{name: "nearly expired", entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Expiry: now.Add(3 * time.Minute)},
			wantOK: true, wantOut: []string{"in 3m0s", "less than 5m0s left: the credential helper renews it first"}},
		{name: "nearly expired, shorter minimum", minLife: "1m", entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Expiry: now.Add(3 * time.Minute)},
			wantOK: true, wantOut: []string{"in 3m0s"}, notOut: "left: the credential helper"},
		{name: "json", json: true, entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Identity: "dev", Expiry: now.Add(time.Hour)},
			wantOK: true, wantOut: []string{`"logged_in": true`, `"expires_in_seconds": 3600`}},
		{name: "expired", entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Expiry: now.Add(-time.Minute)},
			wantOut: []string{"has expired", "\n  To log in again, run: chainctl auth login --registry registry.test\n"}},
		{name: "pull token saved for docker", entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Expiry: now.Add(time.Hour)},
			stored: &tokencache.Entry{Kind: tokencache.KindStored, Token: "secret-t", Username: "pt-abcdefghijklmnopqrst", Expiry: now.Add(48 * time.Hour)},
			wantOK: true, wantOut: []string{"Logged in to registry.test",
				"  Docker:   uses pull token pt-abcdefghijklmnopqrst (pull-only), which expires " + now.Add(48*time.Hour).Local().Format(time.RFC1123) + "\n" +
					"            instead of this session: docker logout registry.test goes back to it\n"}},
		{name: "docker login, no session", stored: &tokencache.Entry{Kind: tokencache.KindStored, Token: "secret-t", Username: "robot"},
			wantOut: []string{"Not logged in to registry.test\n  To log in, run: chainctl auth login --registry registry.test\n  Docker:   uses the credential stored by docker login (user robot)\n"}, notOut: "goes back"},
		{name: "expired pull token json", json: true, entry: &tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Expiry: now.Add(time.Hour)},
			stored: &tokencache.Entry{Kind: tokencache.KindStored, Token: "secret-t", Username: "pt-abcdefghijklmnopqrst", Expiry: now.Add(-time.Hour)},
			wantOK: true, wantOut: []string{`"docker_credential": {
    "username": "pt-abcdefghijklmnopqrst",
    "pull_token": true,
    "expiry": "2026-01-02T02:04:05Z",
    "expired": true
  }`}},
		{name: "none", wantOut: []string{"Not logged in to registry.test\n  To log in, run: chainctl auth login --registry registry.test\n"}, notOut: "Docker"},
		{name: "none json", json: true, wantOut: []string{`"logged_in": false`, `"hint": "chainctl auth login --registry registry.test"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			cache, err := tokencache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if tt.entry != nil {
				if err := cache.Put("registry.test", *tt.entry); err != nil {
					t.Fatal(err)
				}
			}
			if tt.stored != nil {
				if err := cache.Stored().Put("registry.test", *tt.stored); err != nil {
					t.Fatal(err)
				}
			}
			opts := &StatusOptions{
				IO: ios, Now: func() time.Time { return now },
				LookupEnv: func(k string) (string, bool) {
					return tt.minLife, k == "CHAINCTL_TOKEN_MIN_LIFE" && tt.minLife != ""
				},
				Cache:    func() (*tokencache.Cache, error) { return cache, nil },
				Registry: func(string) (session.Registry, error) { return session.ParseRegistry("registry.test") },
			}
			if tt.json {
				opts.Output = cmdutil.OutputJSON
			}
			err = statusRun(context.Background(), opts)
			if tt.wantOK && err != nil {
				t.Fatalf("statusRun() = %v, want nil", err)
			}
			var authErr *cmdutil.AuthError
			if !tt.wantOK && (!errors.Is(err, cmdutil.ErrSilent) || !errors.As(err, &authErr)) {
				t.Fatalf("statusRun() = %v, want a silent AuthError (exit 4)", err)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout = %q, want %q", stdout, w)
				}
			}
			if tt.notOut != "" && strings.Contains(stdout.String(), tt.notOut) {
				t.Errorf("stdout = %q, want no %q", stdout, tt.notOut)
			}
			if strings.Contains(stdout.String(), "secret-t") {
				t.Errorf("stdout leaks the token: %q", stdout)
			}
			if tt.json {
				var v map[string]any
				if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
					t.Errorf("stdout is not JSON: %v", err)
				}
			}
		})
	}
}

func Test_statusRunAll(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	live := tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Identity: "dev", Expiry: now.Add(time.Hour)}
	dead := tokencache.Entry{Kind: tokencache.KindSession, Token: "secret-t", Expiry: now.Add(-time.Hour)}
	robot := tokencache.Entry{Kind: tokencache.KindStored, Token: "secret-t", Username: "robot"}
	tests := []struct {
		name     string
		sessions map[string]tokencache.Entry
		stored   map[string]tokencache.Entry
		json     bool
		wantOK   bool
		wantOut  []string
		wantJSON []string // registries in order
	}{
		{name: "nothing cached", wantOut: []string{"No cached sessions\n  To log in, run: chainctl auth login --registry HOST\n"}},
		{name: "nothing cached json", json: true, wantJSON: []string{}},
		{name: "all live", sessions: map[string]tokencache.Entry{"a.test": live, "b.test": live}, wantOK: true,
			wantOut: []string{"Logged in to a.test\n  Identity: dev\n", "\n\n✓ Logged in to b.test\n"}},
		{name: "one expired", sessions: map[string]tokencache.Entry{"a.test": live, "b.test": dead},
			wantOut: []string{"Logged in to a.test", "Session for b.test has expired", "To log in again, run: chainctl auth login --registry b.test"}},
		{name: "stored only, json", json: true, sessions: map[string]tokencache.Entry{"b.test": live}, stored: map[string]tokencache.Entry{"a.test": robot},
			wantJSON: []string{"a.test", "b.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, stdout, _ := iostreams.Test()
			cache, err := tokencache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for h, e := range tt.sessions {
				if err := cache.Put(h, e); err != nil {
					t.Fatal(err)
				}
			}
			for h, e := range tt.stored {
				if err := cache.Stored().Put(h, e); err != nil {
					t.Fatal(err)
				}
			}
			opts := &StatusOptions{
				IO: ios, Now: func() time.Time { return now }, All: true,
				LookupEnv: func(string) (string, bool) { return "", false },
				Cache:     func() (*tokencache.Cache, error) { return cache, nil },
				Registry: func(string) (session.Registry, error) {
					t.Error("--all asked for the registry")
					return session.Registry{}, errors.New("no")
				},
			}
			if tt.json {
				opts.Output = cmdutil.OutputJSON
			}
			err = statusRun(context.Background(), opts)
			var authErr *cmdutil.AuthError
			if tt.wantOK && err != nil || !tt.wantOK && !errors.As(err, &authErr) {
				t.Errorf("statusRun() = %v, want ok %v (else exit 4)", err, tt.wantOK)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout = %q, want %q", stdout, w)
				}
			}
			if tt.json {
				var got []JSON
				if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
					t.Fatalf("stdout is not a JSON array: %v\n%s", err, stdout)
				}
				var regs []string
				for _, g := range got {
					regs = append(regs, g.Registry)
				}
				if strings.Join(regs, " ") != strings.Join(tt.wantJSON, " ") {
					t.Errorf("registries = %q, want %q", regs, tt.wantJSON)
				}
			}
		})
	}
}

func TestNewCmdStatusAllAndRegistry(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{}}
	cmd := NewCmdStatus(f, func(context.Context, *StatusOptions) error { return nil })
	cmd.SetArgs([]string{"--all", "--registry", "r.test"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	var flagErr *cmdutil.FlagError
	if err := cmd.Execute(); !errors.As(err, &flagErr) {
		t.Errorf("Execute(--all --registry) = %v, want a FlagError", err)
	}
}
