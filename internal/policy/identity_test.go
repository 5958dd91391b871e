package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const testAudience = "registry.example.com"

var testOpts = IdentityOptions{Audience: testAudience}

// testKeys is a public EC key set, as a CI system would publish it, in
// canonical form (compact, members sorted).
const testKeys = `{"keys":[{"alg":"ES256","crv":"P-256","kid":"ci-1","kty":"EC","use":"sig",` +
	`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`

// testKeysReordered is testKeys as someone might write it by hand.
const testKeysReordered = `{ "keys": [ { "kty": "EC", "crv": "P-256", "kid": "ci-1", "use": "sig", "alg": "ES256",
  "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" } ] }`

// base is a valid identity the cases below change one thing of.
func base() Identity {
	return Identity{
		ID:      "ci-app",
		Name:    "acme/app on main",
		Issuer:  GitHubActionsIssuer,
		Subject: "repo:acme/app:ref:refs/heads/main",
		Roles:   []RoleBinding{bind(RolePusher, "acme/*")},
	}
}

func TestIdentityValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Identity)
		opts    *IdentityOptions
		wantErr []string // substrings; nil means valid
	}{
		{name: "valid", change: func(*Identity) {}},
		{name: "subject pattern", change: func(id *Identity) { id.Subject, id.SubjectPattern = "", "repo:acme/app:.*" }},
		{name: "own audience without default", change: func(id *Identity) { id.Audience = "sts.example" }, opts: &IdentityOptions{}},
		{name: "static keys", change: func(id *Identity) { id.IssuerKeys = JWKS(testKeys) }},
		{name: "static keys as written", change: func(id *Identity) { id.IssuerKeys = JWKS(testKeysReordered) }},
		{name: "loopback http 127.0.0.1", change: func(id *Identity) { id.Issuer = "http://127.0.0.1:5556/dex" }},
		{name: "loopback http 127.1.2.3", change: func(id *Identity) { id.Issuer = "http://127.1.2.3" }},
		{name: "loopback http ::1", change: func(id *Identity) { id.Issuer = "http://[::1]:8080" }},
		{name: "loopback http localhost", change: func(id *Identity) { id.Issuer = "http://localhost:9000/" }},
		{name: "https with path", change: func(id *Identity) { id.Issuer = "https://gitlab.example.com/sub/" }},
		{name: "allow any subject", change: func(id *Identity) { id.Subject, id.AllowAnySubject = "", true }},
		{name: "id charset", change: func(id *Identity) { id.ID = "a.b_c-9" }},
		{name: "empty name", change: func(id *Identity) { id.Name = "" }},
		{name: "unicode name", change: func(id *Identity) { id.Name = "Équipe (prod) #1, Jo's & co" }},

		{name: "no id", change: func(id *Identity) { id.ID = "" }, wantErr: []string{"id: want 1 to 64 characters"}},
		{name: "upper-case id", change: func(id *Identity) { id.ID = "CI" }, wantErr: []string{`id: "CI": only a-z`}},
		{name: "id with leading dash", change: func(id *Identity) { id.ID = "-ci" }, wantErr: []string{"only a-z"}},
		{name: "id with slash", change: func(id *Identity) { id.ID = "a/b" }, wantErr: []string{"only a-z"}},
		{name: "long id", change: func(id *Identity) { id.ID = strings.Repeat("a", 65) }, wantErr: []string{"want 1 to 64"}},
		{name: "name with newline", change: func(id *Identity) { id.Name = "a\nb" }, wantErr: []string{`name: "a\nb": character '\n'`}},
		{name: "name with quote", change: func(id *Identity) { id.Name = `a"b` }, wantErr: []string{"character '\"'"}},
		{name: "name with space around", change: func(id *Identity) { id.Name = " a" }, wantErr: []string{"leading or trailing space"}},
		{name: "long name", change: func(id *Identity) { id.Name = strings.Repeat("é", 129) }, wantErr: []string{"longer than 128"}},

		{name: "no issuer", change: func(id *Identity) { id.Issuer = "" }, wantErr: []string{"issuer: required"}},
		{name: "http issuer", change: func(id *Identity) { id.Issuer = "http://issuer.example.com" },
			wantErr: []string{"want https (http is accepted only on loopback hosts)"}},
		{name: "http on private address", change: func(id *Identity) { id.Issuer = "http://10.0.0.1" }, wantErr: []string{"want https"}},
		{name: "http on 0.0.0.0", change: func(id *Identity) { id.Issuer = "http://0.0.0.0" }, wantErr: []string{"want https"}},
		{name: "http on localhost lookalike", change: func(id *Identity) { id.Issuer = "http://localhost.evil.example" }, wantErr: []string{"want https"}},
		{name: "http on 127 name", change: func(id *Identity) { id.Issuer = "http://127.0.0.1.nip.io" }, wantErr: []string{"want https"}},
		{name: "other scheme", change: func(id *Identity) { id.Issuer = "ftp://issuer.example.com" }, wantErr: []string{"want https"}},
		{name: "no scheme", change: func(id *Identity) { id.Issuer = "issuer.example.com" }, wantErr: []string{"want an absolute https URL"}},
		{name: "user info", change: func(id *Identity) { id.Issuer = "https://u:p@issuer.example.com" }, wantErr: []string{"no user info"}},
		{name: "query", change: func(id *Identity) { id.Issuer = "https://issuer.example.com/?a=b" }, wantErr: []string{"query"}},
		{name: "fragment", change: func(id *Identity) { id.Issuer = "https://issuer.example.com/#x" }, wantErr: []string{"fragment"}},
		{name: "space", change: func(id *Identity) { id.Issuer = "https://issuer.example.com/ x" }, wantErr: []string{"spaces"}},

		{name: "keys not a set", change: func(id *Identity) { id.IssuerKeys = JWKS(`{"kty":"EC"}`) }, wantErr: []string{"issuer_keys: no keys"}},
		{name: "keys not JSON", change: func(id *Identity) { id.IssuerKeys = JWKS(`{`) }, wantErr: []string{"issuer_keys:"}},
		{name: "keys an array", change: func(id *Identity) { id.IssuerKeys = JWKS(`[]`) }, wantErr: []string{`issuer_keys: want {"keys": [...]}`}},
		{name: "symmetric key", change: func(id *Identity) { id.IssuerKeys = JWKS(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) },
			wantErr: []string{`keys[0]: kty "oct": want EC, RSA or OKP`}},
		{name: "private key", change: func(id *Identity) {
			id.IssuerKeys = JWKS(`{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"secret"}]}`)
		}, wantErr: []string{`keys[0]: has private member "d"`}},

		{name: "subject and pattern", change: func(id *Identity) { id.SubjectPattern = "x" }, wantErr: []string{"set subject or subject_pattern, not both"}},
		{name: "bad pattern", change: func(id *Identity) { id.Subject, id.SubjectPattern = "", "repo:(acme" },
			wantErr: []string{"subject_pattern: error parsing regexp"}},
		{name: "pattern cannot escape its anchors", change: func(id *Identity) {
			id.Subject, id.SubjectPattern = "", "repo:acme/app:.*)|(x"
			id.Claims = []ClaimMatch{{Name: "repository_owner_id", Value: "123"}}
		}, wantErr: []string{"subject_pattern: error parsing regexp: unexpected )"}},
		{name: "pattern cannot quote away its anchors", change: func(id *Identity) {
			id.Subject, id.SubjectPattern = "", `repo:acme/app:\Q`
			id.Claims = []ClaimMatch{{Name: "repository_owner_id", Value: "123"}}
		}, wantErr: []string{"subject_pattern: error parsing regexp: missing closing )"}},
		{name: "claim pattern cannot escape its anchors", change: func(id *Identity) {
			id.Claims = []ClaimMatch{{Name: "ref", Pattern: "refs/heads/main)|(.*"}}
		}, wantErr: []string{"claims[0]: claim ref: pattern: error parsing regexp: unexpected )"}},
		{name: "no audience at all", change: func(*Identity) {}, opts: &IdentityOptions{}, wantErr: []string{"audience: not set"}},
		{name: "audience control char", change: func(id *Identity) { id.Audience = "a\x00" }, wantErr: []string{"audience: longer than"}},

		{name: "claim without name", change: func(id *Identity) { id.Claims = []ClaimMatch{{Value: "x"}} }, wantErr: []string{"claims[0]: name: want 1 to 128"}},
		{name: "claim with space", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "a b", Value: "x"}} }, wantErr: []string{"only printable ASCII"}},
		{name: "claim neither", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "ref"}} },
			wantErr: []string{"claims[0]: claim ref: set exactly one of value and pattern"}},
		{name: "claim both", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "ref", Value: "a", Pattern: "a"}} },
			wantErr: []string{"set exactly one"}},
		{name: "claim bad pattern", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "ref", Pattern: "("}} },
			wantErr: []string{"claims[0]: claim ref: pattern: error parsing regexp"}},
		{name: "claim sub", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "sub", Value: "x"}} },
			wantErr: []string{"claim sub: use the identity's subject or subject_pattern field"}},
		{name: "claim iss", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "iss", Value: "x"}} }, wantErr: []string{"issuer field"}},
		{name: "claim aud", change: func(id *Identity) { id.Claims = []ClaimMatch{{Name: "aud", Value: "x"}} }, wantErr: []string{"audience field"}},

		{name: "no roles", change: func(id *Identity) { id.Roles = nil }, wantErr: []string{"roles: at least one role binding is required"}},
		{name: "bad role", change: func(id *Identity) { id.Roles = []RoleBinding{bind("admin", "*")} }, wantErr: []string{`roles[0]: unknown role "admin"`}},
		{name: "bad pattern in role", change: func(id *Identity) { id.Roles = []RoleBinding{bind(RoleViewer, "a"), bind(RoleViewer, "a/*/b")} },
			wantErr: []string{`roles[1]: role viewer: repository pattern "a/*/b"`}},
		{name: "all problems listed", change: func(id *Identity) { id.ID, id.Issuer, id.Roles = "X", "http://x", nil },
			wantErr: []string{"id:", "issuer:", "roles:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := base()
			tt.change(&id)
			opts := testOpts
			if tt.opts != nil {
				opts = *tt.opts
			}
			err := id.Validate(opts)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil, want error containing %q", want)
	}
	if !errors.Is(err, ErrInvalidIdentity) {
		t.Errorf("Validate() = %v, does not wrap ErrInvalidIdentity", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, want it to contain %q", err, w)
		}
	}
}

func TestIdentityValidateAnySubject(t *testing.T) {
	gh := func(change func(*Identity)) Identity {
		id := base()
		id.Subject = ""
		change(&id)
		return id
	}
	other := func(change func(*Identity)) Identity {
		id := base()
		id.Issuer, id.Subject = "https://accounts.google.com", ""
		change(&id)
		return id
	}
	const refused = "allow_any_subject"
	tests := []struct {
		name    string
		id      Identity
		wantErr []string
	}{
		{"nothing pins the subject", gh(func(*Identity) {}), []string{"no subject, subject_pattern or principal claim is set", refused}},
		{"dot star", gh(func(id *Identity) { id.SubjectPattern = ".*" }), []string{`subject_pattern ".*" matches "chainctl-probe-7f3a"`}},
		{"dot plus", gh(func(id *Identity) { id.SubjectPattern = ".+" }), []string{refused}},
		{"anchored dot star", gh(func(id *Identity) { id.SubjectPattern = "^.*$" }), []string{refused}},
		{"dot-all", gh(func(id *Identity) { id.SubjectPattern = `(?s).*` }), []string{refused}},
		{"non-space", gh(func(id *Identity) { id.SubjectPattern = `\S+` }), []string{refused}},
		{"any repository", gh(func(id *Identity) { id.SubjectPattern = "repo:.*" }), []string{`matches "repo:chainctl-probe-7f3a/`}},
		{"any repository's main", gh(func(id *Identity) { id.SubjectPattern = "repo:.*:ref:refs/heads/main" }), []string{refused}},
		{"alternation with a catch-all", gh(func(id *Identity) { id.SubjectPattern = "repo:acme/app:.*|.*" }), []string{refused}},
		{"ref alone pins nobody on GitHub", gh(func(id *Identity) { id.Claims = []ClaimMatch{{Name: "ref", Value: "refs/heads/main"}} }),
			[]string{"claims that name the principal for this issuer: repository, repository_id"}},
		{"environment alone pins nobody on GitHub", gh(func(id *Identity) {
			id.SubjectPattern = ".*"
			id.Claims = []ClaimMatch{{Name: "environment", Value: "production"}}
		}), []string{refused}},
		{"owner id pattern matching any number", gh(func(id *Identity) {
			id.Claims = []ClaimMatch{{Name: "repository_owner_id", Pattern: `\d+`}}
		}), []string{refused}},
		{"GitLab ref alone", Identity{ID: "gl", Issuer: GitLabIssuer, Claims: []ClaimMatch{{Name: "ref", Value: "main"}},
			Roles: []RoleBinding{bind(RoleViewer, "a")}}, []string{"project_path, project_id"}},
		{"any gmail address", other(func(id *Identity) {
			id.Claims = []ClaimMatch{{Name: "email", Pattern: `.*@gmail\.com`}}
		}), []string{refused}},
		{"numeric subject of anyone", other(func(id *Identity) { id.SubjectPattern = `[0-9]+` }), []string{refused}},
		{"email_verified alone", other(func(id *Identity) { id.Claims = []ClaimMatch{{Name: "email_verified", Value: "true"}} }), []string{refused}},
		{"azp alone", other(func(id *Identity) { id.Claims = []ClaimMatch{{Name: "azp", Value: "client"}} }), []string{refused}},

		{"exact subject", gh(func(id *Identity) { id.Subject = "repo:acme/app:ref:refs/heads/main" }), nil},
		{"owner's repositories", gh(func(id *Identity) { id.SubjectPattern = "repo:acme/.*" }), nil},
		{"catch-all subject, pinned owner", gh(func(id *Identity) {
			id.SubjectPattern = ".*"
			id.Claims = []ClaimMatch{{Name: "repository_owner_id", Value: "123"}}
		}), nil},
		{"repository id", gh(func(id *Identity) { id.Claims = []ClaimMatch{{Name: "repository_id", Value: "456"}} }), nil},
		{"repository name pattern in an owner", gh(func(id *Identity) {
			id.Claims = []ClaimMatch{{Name: "repository", Pattern: "acme/(app|lib)"}}
		}), nil},
		{"GitHub enterprise issuer", gh(func(id *Identity) {
			id.Issuer = GitHubActionsIssuer + "/acme-corp"
			id.Claims = []ClaimMatch{{Name: "enterprise", Value: "acme-corp"}}
		}), nil},
		{"GitHub enterprise issuer, ref only", gh(func(id *Identity) {
			id.Issuer = GitHubActionsIssuer + "/acme-corp"
			id.Claims = []ClaimMatch{{Name: "ref", Value: "refs/heads/main"}}
		}), []string{refused}},
		{"Kubernetes namespace", other(func(id *Identity) {
			id.Issuer = "https://kubernetes.default.svc"
			id.SubjectPattern = "system:serviceaccount:build:.*"
		}), nil},
		{"company e-mail domain", other(func(id *Identity) { id.Claims = []ClaimMatch{{Name: "email", Pattern: `.*@acme\.com`}} }), nil},
		{"hosted domain", other(func(id *Identity) { id.Claims = []ClaimMatch{{Name: "hd", Value: "acme.com"}} }), nil},
		{"allowed on purpose", gh(func(id *Identity) { id.SubjectPattern, id.AllowAnySubject = ".*", true }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.id.Validate(testOpts), tt.wantErr)
		})
	}
}

func TestCompileAll(t *testing.T) {
	a, b := base(), base()
	b.ID = "other"
	ms, err := CompileAll([]Identity{a, b}, testOpts)
	if err != nil || len(ms) != 2 || ms[1].Identity().ID != "other" {
		t.Fatalf("CompileAll = %v, %v", ms, err)
	}
	bad := base()
	bad.ID, bad.Roles = "bad", nil
	_, err = CompileAll([]Identity{a, bad, a}, testOpts)
	checkErr(t, err, []string{`"bad": roles:`, `"ci-app": duplicate id`})
}

func TestMatcherOwnsItsIdentity(t *testing.T) {
	id := base()
	id.Claims = []ClaimMatch{{Name: "repository_owner_id", Value: "1"}}
	m, err := id.Compile(testOpts)
	if err != nil {
		t.Fatal(err)
	}
	id.Claims[0].Value = "2"
	id.Roles[0].Repositories[0] = "*"
	got := m.Identity()
	if got.Claims[0].Value != "1" || got.Roles[0].Repositories[0] != "acme/*" {
		t.Errorf("changing the compiled Identity changed the Matcher: %+v", got)
	}
	got.Roles[0].Role = RoleOwner
	if m.Identity().Roles[0].Role != RolePusher {
		t.Error("changing Identity()'s result changed the Matcher")
	}
	if m.Audience() != testAudience {
		t.Errorf("Audience() = %q, want the default %q", m.Audience(), testAudience)
	}
	id = base()
	id.Audience = "own"
	if m, _ := id.Compile(testOpts); m.Audience() != "own" {
		t.Errorf("Audience() = %q, want own", m.Audience())
	}
}

// The config file (YAML, auth.identities) and the API (JSON) share one
// representation with snake_case keys.
const identityJSON = `{
  "id": "ci-app",
  "name": "acme/app",
  "issuer": "https://token.actions.githubusercontent.com",
  "issuer_keys": ` + testKeys + `,
  "subject_pattern": "repo:acme/app:.*",
  "audience": "registry.example.com",
  "claims": [{"name": "repository_owner_id", "value": "123"}, {"name": "ref", "pattern": "refs/heads/(main|release-.*)"}],
  "allow_any_subject": true,
  "roles": [{"role": "pusher", "repositories": ["team/*"]}, {"role": "viewer", "repositories": ["*"]}]
}`

const identityYAML = `
id: ci-app
name: acme/app
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
subject_pattern: "repo:acme/app:.*"
audience: registry.example.com
claims:
  - name: repository_owner_id
    value: "123"
  - name: ref
    pattern: refs/heads/(main|release-.*)
allow_any_subject: true
roles:
  - role: pusher
    repositories: ["team/*"]
  - role: viewer
    repositories: ["*"]
`

func wantDecoded() Identity {
	return Identity{
		ID: "ci-app", Name: "acme/app", Issuer: GitHubActionsIssuer, IssuerKeys: JWKS(testKeys),
		SubjectPattern: "repo:acme/app:.*", Audience: testAudience,
		Claims:          []ClaimMatch{{Name: "repository_owner_id", Value: "123"}, {Name: "ref", Pattern: "refs/heads/(main|release-.*)"}},
		AllowAnySubject: true,
		Roles:           []RoleBinding{bind(RolePusher, "team/*"), bind(RoleViewer, "*")},
	}
}

func TestIdentityJSON(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(identityJSON))
	dec.DisallowUnknownFields()
	var id Identity
	if err := dec.Decode(&id); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(id, wantDecoded()) {
		t.Fatalf("decoded %+v\nwant %+v", id, wantDecoded())
	}
	if err := id.Validate(testOpts); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"subject_pattern":`, `"allow_any_subject":true`, `"issuer_keys":{"keys":[{`, `"roles":[{"role":"pusher","repositories":["team/*"]}`} {
		if !bytes.Contains(out, []byte(key)) {
			t.Errorf("json.Marshal = %s, want it to contain %s", out, key)
		}
	}
	var again Identity
	if err := json.Unmarshal(out, &again); err != nil || !reflect.DeepEqual(again, id) {
		t.Errorf("JSON round trip = %+v, %v", again, err)
	}
	// Empty optional fields are left out.
	minimal, _ := json.Marshal(Identity{ID: "x"})
	if got := string(minimal); got != `{"id":"x","issuer":"","roles":null}` {
		t.Errorf("json.Marshal(minimal) = %s", got)
	}
	// A misspelt key is an error for a strict decoder.
	dec = json.NewDecoder(strings.NewReader(`{"id":"x","subjectPattern":"y"}`))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&id); err == nil {
		t.Error("decoding subjectPattern succeeded, want unknown field error")
	}
}

func TestIdentityYAML(t *testing.T) {
	dec := yaml.NewDecoder(strings.NewReader(identityYAML))
	dec.KnownFields(true)
	var id Identity
	if err := dec.Decode(&id); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(id, wantDecoded()) {
		t.Fatalf("decoded %+v\nwant %+v", id, wantDecoded())
	}
	out, err := yaml.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"subject_pattern: repo:acme/app:.*", "allow_any_subject: true", "issuer_keys:\n    keys:\n"} {
		if !strings.Contains(string(out), key) {
			t.Errorf("yaml.Marshal =\n%s\nwant it to contain %q", out, key)
		}
	}
	var again Identity
	if err := yaml.Unmarshal(out, &again); err != nil || !reflect.DeepEqual(again, id) {
		t.Errorf("YAML round trip = %+v, %v", again, err)
	}
	// A misspelt key is an error for a strict decoder.
	dec = yaml.NewDecoder(strings.NewReader("id: x\nallow_any_subjects: true\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&id); err == nil {
		t.Error("decoding allow_any_subjects succeeded, want unknown field error")
	}
}

func TestJWKSForms(t *testing.T) {
	quoted, _ := json.Marshal(testKeys)
	tests := []struct {
		name    string
		json    string
		yaml    string
		wantErr string
	}{
		{name: "object", json: `{"issuer_keys": ` + testKeys + `}`, yaml: "issuer_keys: " + testKeys},
		{name: "string of JSON", json: `{"issuer_keys": ` + string(quoted) + `}`, yaml: "issuer_keys: '" + testKeys + "'"},
		{name: "reordered and indented", json: `{"issuer_keys": ` + testKeysReordered + `}`,
			yaml: "issuer_keys: |\n  " + strings.ReplaceAll(testKeysReordered, "\n", "\n  ")},
		{name: "trailing data", json: `{"issuer_keys": "{} {}"}`, yaml: "issuer_keys: '{} {}'", wantErr: "data after the JSON value"},
		{name: "array", json: `{"issuer_keys": []}`, yaml: "issuer_keys: []", wantErr: "want a JSON object"},
		{name: "string not JSON", json: `{"issuer_keys": "nope"}`, yaml: "issuer_keys: nope", wantErr: "issuer_keys:"},
		{name: "number", json: `{"issuer_keys": 1}`, yaml: "issuer_keys: 1", wantErr: "issuer_keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fromJSON, fromYAML Identity
			errJ := json.Unmarshal([]byte(tt.json), &fromJSON)
			errY := yaml.Unmarshal([]byte(tt.yaml), &fromYAML)
			if tt.wantErr != "" {
				for _, err := range []error{errJ, errY} {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("decode = %v, want error containing %q", err, tt.wantErr)
					}
				}
				return
			}
			if errJ != nil || errY != nil {
				t.Fatalf("decode: %v, %v", errJ, errY)
			}
			if string(fromJSON.IssuerKeys) != testKeys {
				t.Errorf("JSON decoded %s, want %s", fromJSON.IssuerKeys, testKeys)
			}
			if string(fromYAML.IssuerKeys) != testKeys {
				t.Errorf("YAML decoded %s, want %s", fromYAML.IssuerKeys, testKeys)
			}
		})
	}
	var id Identity
	if err := json.Unmarshal([]byte(`{"issuer_keys": null}`), &id); err != nil || id.IssuerKeys != nil {
		t.Errorf("null issuer_keys = %q, %v", id.IssuerKeys, err)
	}
}
