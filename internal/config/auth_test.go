package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/policy"
)

// ciKeys is a public EC key set, as a CI system publishes it, in the
// canonical form policy.JWKS keeps (compact, members sorted).
const ciKeys = `{"keys":[{"alg":"ES256","crv":"P-256","kid":"ci-1","kty":"EC","use":"sig",` +
	`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`

const fullAuthYAML = `
external_url: https://registry.example.com/
auth:
  service: registry.example.com
  public_repositories: ["chainguard/*", base]
  access_token_ttl: 2m
  session_ttl: 30m
  max_session_ttl: 8h
  key_rotation: 168h
  pull_tokens:
    max_ttl: 2160h
  identities:
    - id: ci-app
      name: acme/app on main
      issuer: https://token.actions.githubusercontent.com
      issuer_keys:
        keys:
          - kty: EC
            crv: P-256
            kid: ci-1
            use: sig
            alg: ES256
            x: f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU
            y: x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0
      claims:
        - name: repository_owner_id
          value: "1342004"
        - name: repository_id
          value: "607464311"
        - name: ref
          pattern: refs/heads/(main|release-.*)
      roles:
        - role: pusher
          repositories: ["acme/*"]
    - id: alice
      issuer: https://accounts.example.com
      subject: "248289761001"
      audience: chainctl
      roles:
        - role: owner
          repositories: ["*"]
  login:
    issuer: https://accounts.example.com
    client_id: chainctl
`

func TestLoadServeAuth(t *testing.T) {
	defaults := Auth{
		Service:        "127.0.0.1:5000",
		AccessTokenTTL: 5 * time.Minute,
		SessionTTL:     time.Hour,
		MaxSessionTTL:  12 * time.Hour,
		KeyRotation:    720 * time.Hour,

		PullTokenMaxTTL: 8760 * time.Hour,
	}
	full := Auth{
		Service:            "registry.example.com",
		PublicRepositories: []policy.RepositoryPattern{"chainguard/*", "base"},
		AccessTokenTTL:     2 * time.Minute,
		SessionTTL:         30 * time.Minute,
		MaxSessionTTL:      8 * time.Hour,
		KeyRotation:        7 * 24 * time.Hour,
		PullTokenMaxTTL:    90 * 24 * time.Hour,
		Identities: []policy.Identity{
			{
				ID:         "ci-app",
				Name:       "acme/app on main",
				Issuer:     policy.GitHubActionsIssuer,
				IssuerKeys: policy.JWKS(ciKeys),
				Claims: []policy.ClaimMatch{
					{Name: "repository_owner_id", Value: "1342004"},
					{Name: "repository_id", Value: "607464311"},
					{Name: "ref", Pattern: "refs/heads/(main|release-.*)"},
				},
				Roles: []policy.RoleBinding{{Role: policy.RolePusher, Repositories: []policy.RepositoryPattern{"acme/*"}}},
			},
			{
				ID:       "alice",
				Issuer:   "https://accounts.example.com",
				Subject:  "248289761001",
				Audience: "chainctl",
				Roles:    []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{policy.PatternAll}}},
			},
		},
		Login: Login{Issuer: "https://accounts.example.com", ClientID: "chainctl"},
	}
	with := func(change func(*Auth)) Auth {
		a := defaults
		change(&a)
		return a
	}
	tests := []struct {
		name string
		args []string
		file string
		want Auth
	}{
		{name: "no file", want: defaults},
		{name: "no section", file: "listen: 127.0.0.1:5000\n", want: defaults},
		{name: "empty section", file: "auth:\n", want: defaults},
		{name: "empty mapping", file: "auth: {}\n", want: defaults},
		{name: "full", file: fullAuthYAML, want: full},
		{name: "service from external URL", args: []string{"--external-url", "https://r.example.com:8443"},
			want: with(func(a *Auth) { a.Service = "r.example.com:8443" })},
		{name: "key rotation off", file: "auth:\n  key_rotation: 0\n", want: with(func(a *Auth) { a.KeyRotation = 0 })},
		{name: "max session equal to session", file: "auth:\n  session_ttl: 2h\n  max_session_ttl: 2h\n",
			want: with(func(a *Auth) { a.SessionTTL, a.MaxSessionTTL = 2*time.Hour, 2*time.Hour })},
		{name: "issuer keys as a string of JSON", file: "auth:\n  identities:\n    - id: ci\n      issuer: https://ci.example.com\n" +
			"      issuer_keys: '" + ciKeys + "'\n      subject: build\n      roles: [{role: viewer, repositories: [app]}]\n",
			want: with(func(a *Auth) {
				a.Identities = []policy.Identity{{ID: "ci", Issuer: "https://ci.example.com", IssuerKeys: policy.JWKS(ciKeys), Subject: "build",
					Roles: []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: []policy.RepositoryPattern{"app"}}}}}
			})},
		{name: "anchors and merge keys", file: "auth:\n  identities:\n" +
			"    - &person {id: alice, issuer: https://idp.example.com, subject: alice, roles: [{role: owner, repositories: ['*']}]}\n" +
			"    - {<<: *person, id: bob, subject: bob}\n",
			want: with(func(a *Auth) {
				owner := []policy.RoleBinding{{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{"*"}}}
				a.Identities = []policy.Identity{
					{ID: "alice", Issuer: "https://idp.example.com", Subject: "alice", Roles: owner},
					{ID: "bob", Issuer: "https://idp.example.com", Subject: "bob", Roles: owner},
				}
			})},
		{name: "loopback http login issuer", file: "auth:\n  login: {issuer: 'http://127.0.0.1:5556/dex', client_id: chainctl}\n",
			want: with(func(a *Auth) { a.Login = Login{Issuer: "http://127.0.0.1:5556/dex", ClientID: "chainctl"} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			cfg, err := load(t, args, env{"HOME": "/home/u"})
			if err != nil {
				t.Fatalf("LoadServe(%q) = %v", args, err)
			}
			if !reflect.DeepEqual(cfg.Auth, tt.want) {
				t.Errorf("Auth = %+v\nwant   %+v", cfg.Auth, tt.want)
			}
		})
	}
}

func TestLoadServeAuthErrors(t *testing.T) {
	// person is a valid identity the cases below add to or change.
	const person = "    - id: alice\n      issuer: https://idp.example.com\n      subject: alice\n      roles: [{role: owner, repositories: ['*']}]\n"
	tests := []struct {
		name    string
		file    string
		wantErr []string // substrings of the error
	}{
		// Unknown keys and wrong shapes, located by path.
		{name: "unknown top-level key", file: "auth:\n  sevice: x\n",
			wantErr: []string{`unknown key "auth.sevice"`, `did you mean "service"?`, "known keys: service, public_repositories"}},
		{name: "unknown identity key", file: "auth:\n  identities:\n" + person + "    - id: bob\n      subjet: bob\n",
			wantErr: []string{`unknown key "auth.identities[1].subjet"`, `did you mean "subject"?`}},
		{name: "unknown role binding key", file: "auth:\n  identities:\n    - id: a\n      roles: [{role: owner, repos: ['*']}]\n",
			wantErr: []string{`unknown key "auth.identities[0].roles[0].repos"`}},
		{name: "unknown claim key", file: "auth:\n  identities:\n    - claims: [{name: ref, regexp: main}]\n",
			wantErr: []string{`unknown key "auth.identities[0].claims[0].regexp"`}},
		{name: "unknown login key", file: "auth:\n  login:\n    clientid: chainctl\n",
			wantErr: []string{`unknown key "auth.login.clientid"`, `did you mean "client_id"?`, "known keys: issuer, client_id"}},
		{name: "misspelt section", file: "auht:\n  service: x\n", wantErr: []string{`unknown key "auht"`, `did you mean "auth"?`}},
		{name: "section not a mapping", file: "auth: yes\n", wantErr: []string{`auth: want a mapping of keys, got "yes"`}},
		{name: "public repositories not a list", file: "auth:\n  public_repositories: chainguard/*\n",
			wantErr: []string{`auth.public_repositories: want a list, got "chainguard/*"`}},
		{name: "identity not a mapping", file: "auth:\n  identities: [alice]\n", wantErr: []string{`auth.identities[0]: want a mapping of keys`}},
		{name: "list for a single value", file: "auth:\n  identities:\n    - subject: [a, b]\n",
			wantErr: []string{"auth.identities[0].subject: want a single value, got a list"}},
		{name: "mapping for a duration", file: "auth:\n  session_ttl: {hours: 1}\n", wantErr: []string{"auth.session_ttl: want a single value, got a mapping"}},
		{name: "wrong scalar type", file: "auth:\n  identities:\n    - allow_any_subject: maybe\n", wantErr: []string{"line 3", "maybe"}},

		// Values.
		{name: "duration without unit", file: "auth:\n  access_token_ttl: 300\n", wantErr: []string{`auth.access_token_ttl "300": want a duration such as 90s, 5m or 12h`}},
		{name: "not a duration", file: "auth:\n  session_ttl: an hour\n", wantErr: []string{`auth.session_ttl "an hour": want a duration`}},
		{name: "zero access token TTL", file: "auth:\n  access_token_ttl: 0s\n", wantErr: []string{`auth.access_token_ttl "0s": want a positive duration`}},
		{name: "zero session TTL", file: "auth:\n  session_ttl: 0\n", wantErr: []string{`auth.session_ttl "0": want a positive duration`}},
		{name: "negative max session TTL", file: "auth:\n  max_session_ttl: -1h\n", wantErr: []string{`auth.max_session_ttl "-1h": want a positive duration`}},
		{name: "negative key rotation", file: "auth:\n  key_rotation: -24h\n", wantErr: []string{`auth.key_rotation "-24h": want a positive duration, or 0`}},
		{name: "zero pull token max TTL", file: "auth:\n  pull_tokens:\n    max_ttl: 0s\n", wantErr: []string{`auth.pull_tokens.max_ttl "0s": want a positive duration`}},
		{name: "pull token max TTL under a minute", file: "auth:\n  pull_tokens:\n    max_ttl: 30s\n", wantErr: []string{"auth.pull_tokens.max_ttl (30s): want at least 1m"}},
		{name: "max session below session", file: "auth:\n  session_ttl: 24h\n",
			wantErr: []string{"auth.max_session_ttl (12h0m0s) is shorter than auth.session_ttl (24h0m0s)"}},
		{name: "bad public repository", file: "auth:\n  public_repositories: [ok, 'te*']\n",
			wantErr: []string{"auth.public_repositories[1]", `repository pattern "te*"`}},
		{name: "bad service", file: "auth:\n  service: 'a \"b\"'\n", wantErr: []string{"auth.service", "without spaces, quotes or backslashes"}},
		{name: "duplicate identity", file: "auth:\n  identities:\n" + person + person, wantErr: []string{"auth.identities", `"alice": duplicate id`}},
		{name: "identity accepting any subject", file: "auth:\n  identities:\n    - id: anyone\n      issuer: https://idp.example.com\n      roles: [{role: viewer, repositories: ['*']}]\n",
			wantErr: []string{"auth.identities", `invalid identity "anyone"`, "allow_any_subject"}},
		{name: "GitHub identity pinned by ref only", file: "auth:\n  identities:\n    - id: ci\n      issuer: https://token.actions.githubusercontent.com\n" +
			"      claims: [{name: ref, value: refs/heads/main}]\n      roles: [{role: pusher, repositories: ['acme/*']}]\n",
			wantErr: []string{`invalid identity "ci"`, "repository_owner_id"}},
		{name: "identity with http issuer", file: "auth:\n  identities:\n    - id: a\n      issuer: http://idp.example.com\n      subject: a\n      roles: [{role: viewer, repositories: ['*']}]\n",
			wantErr: []string{`invalid identity "a"`, "want https"}},
		{name: "login issuer without client id", file: "auth:\n  login:\n    issuer: https://accounts.example.com\n",
			wantErr: []string{"auth.login.issuer is set but auth.login.client_id is not"}},
		{name: "login client id without issuer", file: "auth:\n  login:\n    client_id: chainctl\n",
			wantErr: []string{"auth.login.client_id is set but auth.login.issuer is not"}},
		{name: "login issuer over http", file: "auth:\n  login: {issuer: 'http://accounts.example.com', client_id: chainctl}\n",
			wantErr: []string{`auth.login.issuer "http://accounts.example.com": want https (http is accepted only on loopback hosts`}},
		{name: "login issuer not a URL", file: "auth:\n  login: {issuer: accounts.example.com, client_id: chainctl}\n",
			wantErr: []string{"auth.login.issuer", "want an absolute https URL"}},
		{name: "login issuer with query", file: "auth:\n  login: {issuer: 'https://accounts.example.com?x=1', client_id: chainctl}\n",
			wantErr: []string{"auth.login.issuer", "no user info, query or fragment"}},
		{name: "login client id with space", file: "auth:\n  login: {issuer: 'https://accounts.example.com', client_id: 'a b'}\n",
			wantErr: []string{`auth.login.client_id "a b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--config", writeFile(t, tt.file)}
			_, err := load(t, args, env{"HOME": "/home/u"})
			if err == nil {
				t.Fatalf("LoadServe(%q) = nil error, want %q", tt.file, tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("LoadServe(%q) = %q, want it to contain %q", tt.file, err, want)
				}
			}
		})
	}
}

// TestDocumentedExamples loads every YAML example of docs/configuration.md,
// so that the documentation cannot drift from what the server accepts.
func TestDocumentedExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```yaml\n")[1:]
	if len(blocks) < 2 {
		t.Fatalf("found %d YAML examples in docs/configuration.md, want at least 2", len(blocks))
	}
	for i, b := range blocks {
		b, _, _ = strings.Cut(b, "```")
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip("examples use Unix paths")
			}
			if _, err := load(t, []string{"--config", writeFile(t, b)}, env{"HOME": "/home/u"}); err != nil {
				t.Errorf("LoadServe(example %d) = %v\n%s", i, err, b)
			}
		})
	}
}
