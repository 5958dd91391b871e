package policy

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
)

// absent, as a value in githubToken's over, deletes a claim.
type absent struct{}

// githubToken returns the claims of a GitHub Actions token for acme/app
// (repository id 456, owner id 123) on main, changed by over; the value
// absent{} deletes a claim.
func githubToken(over map[string]any) Token {
	c := map[string]any{
		"iss": GitHubActionsIssuer, "aud": testAudience, "sub": "repo:acme/app:ref:refs/heads/main",
		"repository": "acme/app", "repository_id": "456", "repository_owner": "acme", "repository_owner_id": "123",
		"ref": "refs/heads/main", "ref_type": "branch", "event_name": "push", "exp": float64(1700000000),
	}
	for k, v := range over {
		if v == (absent{}) {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	iss, _ := c["iss"].(string)
	return Token{Issuer: iss, Claims: c}
}

func mustCompile(t *testing.T, id Identity) *Matcher {
	t.Helper()
	if id.ID == "" {
		id.ID = "test"
	}
	if id.Roles == nil {
		id.Roles = []RoleBinding{bind(RolePusher, "acme/*")}
	}
	m, err := id.Compile(testOpts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	ghPreset, err := GitHubActions("acme/app", "456", "123", "refs/heads/main")
	if err != nil {
		t.Fatal(err)
	}
	withSubject := func(s string) Identity {
		return Identity{Issuer: GitHubActionsIssuer, Subject: s}
	}
	withPattern := func(p string) Identity {
		return Identity{Issuer: GitHubActionsIssuer, SubjectPattern: p}
	}
	withClaims := func(cs ...ClaimMatch) Identity {
		return Identity{Issuer: GitHubActionsIssuer, Claims: append([]ClaimMatch{{Name: "repository_owner_id", Value: "123"}}, cs...)}
	}
	google := func(cs ...ClaimMatch) Identity {
		return Identity{Issuer: "https://accounts.google.com", Claims: cs}
	}
	googleToken := func(over map[string]any) Token {
		tok := githubToken(nil)
		tok.Issuer = "https://accounts.google.com"
		tok.Claims = map[string]any{"sub": "1234", "aud": testAudience, "email": "alice@acme.com", "email_verified": true}
		maps.Copy(tok.Claims, over)
		maps.DeleteFunc(tok.Claims, func(_ string, v any) bool { return v == (absent{}) })
		return tok
	}

	tests := []struct {
		name string
		id   Identity
		tok  Token
		want string // Result.String(): "matched" or the reasons
	}{
		{"GitHub preset matches", ghPreset, githubToken(nil), "matched"},
		{"GitHub preset refuses a recreated repository of the same name", ghPreset,
			githubToken(map[string]any{"repository_id": "789"}), `claim repository_id is "789", want "456"`},
		{"GitHub preset refuses a new owner of the same name", ghPreset,
			githubToken(map[string]any{"repository_owner_id": "999", "repository_id": "1000"}),
			`claim repository_owner_id is "999", want "123"; claim repository_id is "1000", want "456"`},
		{"GitHub preset refuses another branch", ghPreset,
			githubToken(map[string]any{"ref": "refs/heads/dev"}), `claim ref is "refs/heads/dev", want "refs/heads/main"`},
		{"GitHub preset refuses another audience", ghPreset,
			githubToken(map[string]any{"aud": "https://github.com/acme"}), `aud is "https://github.com/acme", want "registry.example.com"`},
		{"another issuer fails on that alone", ghPreset,
			githubToken(map[string]any{"iss": "https://gitlab.com", "aud": "x", "repository_id": absent{}}),
			`issuer is "https://gitlab.com", want "https://token.actions.githubusercontent.com"`},
		{"issuer compared exactly", ghPreset, githubToken(map[string]any{"iss": GitHubActionsIssuer + "/"}),
			`issuer is "https://token.actions.githubusercontent.com/", want "https://token.actions.githubusercontent.com"`},

		{"exact subject", withSubject("repo:acme/app:ref:refs/heads/main"), githubToken(nil), "matched"},
		{"exact subject mismatch", withSubject("repo:acme/app:ref:refs/heads/main"),
			githubToken(map[string]any{"sub": "repo:acme/app:pull_request"}),
			`sub is "repo:acme/app:pull_request", want "repo:acme/app:ref:refs/heads/main"`},
		{"subject missing", withSubject("x"), githubToken(map[string]any{"sub": absent{}}), `sub is missing, want "x"`},
		{"subject not a string", withSubject("x"), githubToken(map[string]any{"sub": float64(1)}), `sub is a number, want a string`},

		{"pattern matches", withPattern("repo:acme/app:.*"), githubToken(nil), "matched"},
		{"pattern anchored at the start", withPattern("repo:acme/app:.*"),
			githubToken(map[string]any{"sub": "xrepo:acme/app:ref:refs/heads/main"}),
			`sub "xrepo:acme/app:ref:refs/heads/main" does not match subject_pattern "repo:acme/app:.*"`},
		{"pattern does not stretch a name", withPattern("repo:acme/app:.*"),
			githubToken(map[string]any{"sub": "repo:acme/application:ref:refs/heads/main"}),
			`sub "repo:acme/application:ref:refs/heads/main" does not match subject_pattern "repo:acme/app:.*"`},
		{"pattern that allows longer names", withPattern("repo:acme/app.*:.*"),
			githubToken(map[string]any{"sub": "repo:acme/application:ref:refs/heads/main"}), "matched"},
		{"pattern anchored at the end", withPattern("repo:acme/app:ref:refs/heads/main"),
			githubToken(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main-old"}),
			`sub "repo:acme/app:ref:refs/heads/main-old" does not match subject_pattern "repo:acme/app:ref:refs/heads/main"`},
		{"alternation stays anchored", withPattern("repo:acme/app:ref:refs/heads/main|repo:acme/lib:.*"),
			githubToken(map[string]any{"sub": "repo:acme/app:ref:refs/heads/main:extra"}),
			`sub "repo:acme/app:ref:refs/heads/main:extra" does not match subject_pattern "repo:acme/app:ref:refs/heads/main|repo:acme/lib:.*"`},
		{"newline does not end the match", withPattern("repo:acme/app:.*"),
			githubToken(map[string]any{"sub": "repo:acme/app:x\nrepo:evil/x"}),
			`sub "repo:acme/app:x\nrepo:evil/x" does not match subject_pattern "repo:acme/app:.*"`},
		{"subject missing for a pattern", withPattern("repo:acme/app:.*"), githubToken(map[string]any{"sub": absent{}}),
			`sub is missing, want a match for subject_pattern "repo:acme/app:.*"`},

		{"claim missing", withClaims(ClaimMatch{Name: "environment", Value: "production"}), githubToken(nil),
			`claim environment is missing, want "production"`},
		{"claim missing for a pattern", withClaims(ClaimMatch{Name: "environment", Pattern: "prod.*"}), githubToken(nil),
			`claim environment is missing, want a match for pattern "prod.*"`},
		{"claim pattern mismatch", withClaims(ClaimMatch{Name: "ref", Pattern: "refs/tags/v.*"}), githubToken(nil),
			`claim ref "refs/heads/main" does not match pattern "refs/tags/v.*"`},
		{"claim pattern anchored", withClaims(ClaimMatch{Name: "ref", Pattern: "refs/heads/main"}),
			githubToken(map[string]any{"ref": "refs/heads/main2"}), `claim ref "refs/heads/main2" does not match pattern "refs/heads/main"`},
		{"claim object", withClaims(ClaimMatch{Name: "ref", Value: "x"}), githubToken(map[string]any{"ref": map[string]any{"a": "b"}}),
			`claim ref is an object, want a string, number, boolean or an array of them`},
		{"claim null", withClaims(ClaimMatch{Name: "ref", Value: "x"}), githubToken(map[string]any{"ref": nil}),
			`claim ref is null, want a string, number, boolean or an array of them`},
		{"number claim, string value", withClaims(ClaimMatch{Name: "run_number", Value: "42"}),
			githubToken(map[string]any{"run_number": float64(42)}), "matched"},
		{"json.Number claim", withClaims(ClaimMatch{Name: "run_number", Value: "42"}),
			githubToken(map[string]any{"run_number": json.Number("42")}), "matched"},
		{"large id as number", withClaims(ClaimMatch{Name: "project_id", Value: "1234567890123"}),
			githubToken(map[string]any{"project_id": float64(1234567890123)}), "matched"},
		{"number mismatch shown as a number", withClaims(ClaimMatch{Name: "run_number", Value: "42"}),
			githubToken(map[string]any{"run_number": float64(41)}), `claim run_number is 41, want "42"`},
		{"bool claim", withClaims(ClaimMatch{Name: "ref_protected", Value: "true"}),
			githubToken(map[string]any{"ref_protected": true}), "matched"},
		{"bool claim mismatch", withClaims(ClaimMatch{Name: "ref_protected", Value: "true"}),
			githubToken(map[string]any{"ref_protected": false}), `claim ref_protected is false, want "true"`},
		{"array claim contains", withClaims(ClaimMatch{Name: "groups", Value: "admins"}),
			githubToken(map[string]any{"groups": []any{"devs", "admins"}}), "matched"},
		{"array claim lacks", withClaims(ClaimMatch{Name: "groups", Value: "admins"}),
			githubToken(map[string]any{"groups": []any{"devs", float64(7)}}), `claim groups ["devs", 7] has no element equal to "admins"`},
		{"array claim pattern", withClaims(ClaimMatch{Name: "groups", Pattern: "adm.*"}),
			githubToken(map[string]any{"groups": []any{"devs"}}), `claim groups ["devs"] has no element matching pattern "adm.*"`},
		{"empty array", withClaims(ClaimMatch{Name: "groups", Value: "admins"}),
			githubToken(map[string]any{"groups": []any{}}), `claim groups [] has no element equal to "admins"`},
		{"array of objects", withClaims(ClaimMatch{Name: "groups", Value: "admins"}),
			githubToken(map[string]any{"groups": []any{map[string]any{}}}), `claim groups is an array, want a string, number, boolean or an array of them`},
		{"every failing check is reported", Identity{Issuer: GitHubActionsIssuer, Subject: "repo:acme/app:ref:refs/heads/main",
			Claims: []ClaimMatch{{Name: "repository_id", Value: "456"}, {Name: "ref", Value: "refs/heads/main"}}},
			githubToken(map[string]any{"aud": absent{}, "sub": "repo:acme/app:pull_request", "repository_id": "1", "ref": absent{}}),
			`aud is missing, want "registry.example.com"; sub is "repo:acme/app:pull_request", want "repo:acme/app:ref:refs/heads/main"; ` +
				`claim repository_id is "1", want "456"; claim ref is missing, want "refs/heads/main"`},

		{"aud array contains", ghPreset, githubToken(map[string]any{"aud": []any{"other", testAudience}}), "matched"},
		{"aud []string contains", ghPreset, githubToken(map[string]any{"aud": []string{testAudience}}), "matched"},
		{"aud array lacks", ghPreset, githubToken(map[string]any{"aud": []any{"a", "b"}}), `aud ["a", "b"] does not contain "registry.example.com"`},
		{"aud is exact, not a prefix", ghPreset, githubToken(map[string]any{"aud": testAudience + ".evil"}),
			`aud is "registry.example.com.evil", want "registry.example.com"`},
		{"aud number", ghPreset, githubToken(map[string]any{"aud": float64(1)}), `aud is a number, want a string or an array of strings`},
		{"own audience", Identity{Issuer: GitHubActionsIssuer, Subject: "repo:acme/app:ref:refs/heads/main", Audience: "sts.amazonaws.com"},
			githubToken(map[string]any{"aud": "sts.amazonaws.com"}), "matched"},

		{"email verified", google(ClaimMatch{Name: "email", Value: "alice@acme.com"}), googleToken(nil), "matched"},
		{"email verified as string", google(ClaimMatch{Name: "email", Value: "alice@acme.com"}),
			googleToken(map[string]any{"email_verified": "true"}), "matched"},
		{"email not verified", google(ClaimMatch{Name: "email", Value: "alice@acme.com"}),
			googleToken(map[string]any{"email_verified": false}),
			`claim email_verified is false, want true (an identity that matches email requires a verified address)`},
		{"email_verified missing", google(ClaimMatch{Name: "email", Pattern: `.*@acme\.com`}),
			googleToken(map[string]any{"email_verified": absent{}}),
			`claim email_verified is missing, want true (an identity that matches email requires a verified address)`},
		{"email_verified string false", google(ClaimMatch{Name: "email", Value: "alice@acme.com"}),
			googleToken(map[string]any{"email_verified": "false"}),
			`claim email_verified is "false", want true (an identity that matches email requires a verified address)`},
		{"email_verified number", google(ClaimMatch{Name: "email", Value: "alice@acme.com"}),
			googleToken(map[string]any{"email_verified": float64(1)}),
			`claim email_verified is a number, want true (an identity that matches email requires a verified address)`},
		{"email mismatch and unverified", google(ClaimMatch{Name: "email", Value: "alice@acme.com"}),
			googleToken(map[string]any{"email": "mallory@acme.com", "email_verified": false}),
			`claim email is "mallory@acme.com", want "alice@acme.com"; claim email_verified is false, want true (an identity that matches email requires a verified address)`},
		{"email_verified not required without an email match", google(ClaimMatch{Name: "hd", Value: "acme.com"}),
			googleToken(map[string]any{"hd": "acme.com", "email_verified": false}), "matched"},
		{"long values shortened", withSubject("x"), githubToken(map[string]any{"sub": strings.Repeat("é", 150)}),
			`sub is "` + strings.Repeat("é", 100) + `"…, want "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.id)
			got := m.Match(tt.tok)
			if got.String() != tt.want {
				t.Errorf("Match() = %s\nwant       %s", got, tt.want)
			}
			if got.Matched != (tt.want == "matched") || got.Matched != (len(got.Failures) == 0) {
				t.Errorf("Match().Matched = %v with %d failures", got.Matched, len(got.Failures))
			}
		})
	}
}

func TestMatchFailureFields(t *testing.T) {
	id := Identity{ID: "gh", Name: "acme/app", Issuer: GitHubActionsIssuer, Subject: "s",
		Claims: []ClaimMatch{{Name: "repository_id", Value: "456"}, {Name: "ref", Value: "r"}, {Name: "env", Value: "e"}},
		Roles:  []RoleBinding{bind(RoleViewer, "a")}}
	m := mustCompile(t, id)
	got := m.Match(githubToken(map[string]any{"aud": absent{}, "sub": float64(3), "repository_id": "1", "env": map[string]any{}}))
	want := Result{ID: "gh", Name: "acme/app", Failures: []Failure{
		{Check: CheckAudience, Kind: KindMissing, Reason: `aud is missing, want "registry.example.com"`},
		{Check: CheckSubject, Kind: KindWrongType, Reason: `sub is a number, want a string`},
		{Check: CheckClaim, Kind: KindMismatch, Claim: "repository_id", Reason: `claim repository_id is "1", want "456"`},
		{Check: CheckClaim, Kind: KindMismatch, Claim: "ref", Reason: `claim ref is "refs/heads/main", want "r"`},
		{Check: CheckClaim, Kind: KindWrongType, Claim: "env", Reason: `claim env is an object, want a string, number, boolean or an array of them`},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Match() = %+v\nwant      %+v", got, want)
	}
	b, err := json.Marshal(got.Failures[2])
	if err != nil || string(b) != `{"check":"claim","kind":"mismatch","claim":"repository_id","reason":"claim repository_id is \"1\", want \"456\""}` {
		t.Errorf("json.Marshal(Failure) = %s, %v", b, err)
	}
	b, _ = json.Marshal(m.Match(githubToken(map[string]any{"iss": "https://x"})))
	if string(b) != `{"id":"gh","name":"acme/app","matched":false,"failures":[{"check":"issuer","kind":"mismatch","reason":"issuer is \"https://x\", want \"https://token.actions.githubusercontent.com\""}]}` {
		t.Errorf("json.Marshal(Result) = %s", b)
	}
}

// An identity only matches tokens verified with its own key source, so an
// identity with its own issuer_keys cannot vouch for tokens that
// identities trusting the issuer's published keys accept, or the reverse.
func TestMatchKeySource(t *testing.T) {
	discovered := mustCompile(t, Identity{ID: "discovered", Issuer: GitHubActionsIssuer, Subject: "repo:acme/app:ref:refs/heads/main"})
	static := mustCompile(t, Identity{ID: "static", Issuer: GitHubActionsIssuer, Subject: "repo:acme/app:ref:refs/heads/main", IssuerKeys: JWKS(testKeys)})
	otherKeys := strings.Replace(testKeys, "ci-1", "ci-2", 1)

	tests := []struct {
		name string
		keys JWKS
		want []string
	}{
		{"published keys", nil, []string{"matched",
			"token was verified with the keys its issuer publishes, but this identity trusts only its issuer_keys"}},
		{"these static keys", JWKS(testKeys), []string{
			"token was verified with static issuer_keys, but this identity trusts the keys its issuer publishes", "matched"}},
		{"same keys, other formatting", JWKS(testKeysReordered), []string{
			"token was verified with static issuer_keys, but this identity trusts the keys its issuer publishes", "matched"}},
		{"other static keys", JWKS(otherKeys), []string{
			"token was verified with static issuer_keys, but this identity trusts the keys its issuer publishes",
			"token was verified with other issuer_keys than this identity's"}},
		{"garbage keys", JWKS("{"), []string{
			"token was verified with static issuer_keys, but this identity trusts the keys its issuer publishes",
			"token was verified with other issuer_keys than this identity's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := githubToken(nil)
			tok.Keys = tt.keys
			results := Match([]*Matcher{discovered, static}, tok)
			for i, r := range results {
				if r.String() != tt.want[i] {
					t.Errorf("Match()[%d] (%s) = %s, want %s", i, r.ID, r, tt.want[i])
				}
				if !r.Matched && r.Failures[0].Check != CheckIssuerKeys {
					t.Errorf("Match()[%d].Failures = %+v, want an issuer_keys failure", i, r.Failures)
				}
			}
		})
	}
}

func TestMatchAll(t *testing.T) {
	app, _ := GitHubActions("acme/app", "456", "123", "")
	app.ID, app.Roles = "app", []RoleBinding{bind(RolePusher, "acme/app")}
	lib, _ := GitHubActions("acme/lib", "457", "123", "")
	lib.ID, lib.Roles = "lib", []RoleBinding{bind(RolePusher, "acme/lib")}
	gl, _ := GitLab("acme/app", "", "", "")
	gl.ID, gl.Roles = "gitlab", []RoleBinding{bind(RoleViewer, "acme/*")}
	ms, err := CompileAll([]Identity{app, lib, gl}, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	got := Match(ms, githubToken(map[string]any{"ref": "refs/tags/v1"}))
	want := []string{"matched", `claim repository_id is "456", want "457"`,
		`issuer is "https://token.actions.githubusercontent.com", want "https://gitlab.com"`}
	if len(got) != len(want) {
		t.Fatalf("Match() returned %d results, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].String() != want[i] || got[i].ID != ms[i].Identity().ID {
			t.Errorf("Match()[%d] = %s: %s, want %s: %s", i, got[i].ID, got[i], ms[i].Identity().ID, want[i])
		}
	}
	if got := Match(nil, githubToken(nil)); len(got) != 0 {
		t.Errorf("Match(nil) = %v", got)
	}
	// A token with no claims at all fails cleanly.
	if r := ms[0].Match(Token{Issuer: GitHubActionsIssuer}); r.Matched || !strings.Contains(r.String(), "aud is missing") {
		t.Errorf("Match(no claims) = %s", r)
	}
}
