package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGitHubActions(t *testing.T) {
	tests := []struct {
		name                           string
		repository, repoID, owner, ref string
		want                           []ClaimMatch
		wantErr                        string
	}{
		{name: "with ref", repository: "acme/app", repoID: "456", owner: "123", ref: "refs/heads/main",
			want: []ClaimMatch{{Name: "repository_owner_id", Value: "123"}, {Name: "repository_id", Value: "456"}, {Name: "ref", Value: "refs/heads/main"}}},
		{name: "any ref", repository: "Acme-Corp/my.app_2", repoID: "456", owner: "123",
			want: []ClaimMatch{{Name: "repository_owner_id", Value: "123"}, {Name: "repository_id", Value: "456"}}},
		{name: "tag ref", repository: "acme/app", repoID: "1", owner: "2", ref: "refs/tags/v1.0",
			want: []ClaimMatch{{Name: "repository_owner_id", Value: "2"}, {Name: "repository_id", Value: "1"}, {Name: "ref", Value: "refs/tags/v1.0"}}},

		{name: "no slash", repository: "acme", repoID: "1", owner: "2", wantErr: `repository "acme": want OWNER/REPO`},
		{name: "too many slashes", repository: "acme/app/x", repoID: "1", owner: "2", wantErr: "want OWNER/REPO"},
		{name: "owner with dot", repository: "ac.me/app", repoID: "1", owner: "2", wantErr: "want OWNER/REPO"},
		{name: "owner with leading dash", repository: "-acme/app", repoID: "1", owner: "2", wantErr: "want OWNER/REPO"},
		{name: "repository ..", repository: "acme/..", repoID: "1", owner: "2", wantErr: "want OWNER/REPO"},
		{name: "repository id not numeric", repository: "acme/app", repoID: "acme/app", owner: "2",
			wantErr: `repository id "acme/app": want the numeric id (gh api repos/acme/app --jq .id)`},
		{name: "owner id empty", repository: "acme/app", repoID: "1", owner: "",
			wantErr: `owner id "": want the numeric id (gh api users/acme --jq .id)`},
		{name: "leading zero", repository: "acme/app", repoID: "0123", owner: "2", wantErr: "repository id"},
		{name: "negative", repository: "acme/app", repoID: "1", owner: "-2", wantErr: "owner id"},
		{name: "short ref", repository: "acme/app", repoID: "1", owner: "2", ref: "main",
			wantErr: `ref "main": want a full ref such as refs/heads/main`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := GitHubActions(tt.repository, tt.repoID, tt.owner, tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidIdentity) {
					t.Fatalf("GitHubActions = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Issuer != GitHubActionsIssuer || id.Name != tt.repository || id.Subject != "" || id.SubjectPattern != "" || id.Audience != "" {
				t.Errorf("GitHubActions = %+v", id)
			}
			if !reflect.DeepEqual(id.Claims, tt.want) {
				t.Errorf("GitHubActions claims = %+v, want %+v", id.Claims, tt.want)
			}
			// Complete with an ID and roles, it is a valid identity: the
			// numeric ids pin the principal.
			id.ID, id.Roles = "gh", []RoleBinding{bind(RolePusher, "acme/*")}
			if err := id.Validate(testOpts); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
	id, err := GitHubActions("acme/app", "1", "2", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Validate(testOpts); err == nil || !strings.Contains(err.Error(), "id:") || !strings.Contains(err.Error(), "roles:") {
		t.Errorf("preset without ID and roles: Validate() = %v, want id and roles problems", err)
	}
}

func TestGitLab(t *testing.T) {
	tests := []struct {
		name                       string
		path, refType, ref, issuer string
		wantIssuer                 string
		want                       []ClaimMatch
		wantErr                    string
	}{
		{name: "branch", path: "acme/app", refType: "branch", ref: "main", wantIssuer: GitLabIssuer,
			want: []ClaimMatch{{Name: "project_path", Value: "acme/app"}, {Name: "ref_type", Value: "branch"}, {Name: "ref", Value: "main"}}},
		{name: "any tag, subgroup, self-managed", path: "acme/platform/App.x", refType: "tag", issuer: "https://gitlab.acme.com",
			wantIssuer: "https://gitlab.acme.com",
			want:       []ClaimMatch{{Name: "project_path", Value: "acme/platform/App.x"}, {Name: "ref_type", Value: "tag"}}},
		{name: "any ref", path: "acme/app", wantIssuer: GitLabIssuer, want: []ClaimMatch{{Name: "project_path", Value: "acme/app"}}},

		{name: "one component", path: "app", wantErr: `project path "app": want GROUP/[SUBGROUP/...]PROJECT`},
		{name: "empty component", path: "acme//app", wantErr: "project path"},
		{name: "dot dot", path: "acme/../app", wantErr: "project path"},
		{name: "bad ref type", path: "acme/app", refType: "commit", ref: "x", wantErr: `ref type "commit": want branch or tag`},
		{name: "ref without type", path: "acme/app", ref: "main", wantErr: `ref "main" needs a ref type`},
		{name: "full ref", path: "acme/app", refType: "branch", ref: "refs/heads/main",
			wantErr: `ref "refs/heads/main": GitLab's ref claim is the bare name, e.g. main`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := GitLab(tt.path, tt.refType, tt.ref, tt.issuer)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidIdentity) {
					t.Fatalf("GitLab = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Issuer != tt.wantIssuer || id.Name != tt.path || !reflect.DeepEqual(id.Claims, tt.want) {
				t.Errorf("GitLab = %+v, want issuer %s, claims %+v", id, tt.wantIssuer, tt.want)
			}
			id.ID, id.Roles = "gl", []RoleBinding{bind(RoleViewer, "acme/*")}
			if err := id.Validate(testOpts); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}

	id, _ := GitLab("acme/app", "branch", "main", "")
	m := mustCompile(t, id)
	tok := Token{Issuer: GitLabIssuer, Claims: map[string]any{
		"aud": testAudience, "sub": "project_path:acme/app:ref_type:branch:ref:main",
		"project_path": "acme/app", "project_id": "42", "ref_type": "branch", "ref": "main",
	}}
	if r := m.Match(tok); !r.Matched {
		t.Errorf("GitLab preset on its own token: %s", r)
	}
	tok.Claims["ref_type"], tok.Claims["ref"] = "tag", "main"
	if r := m.Match(tok); r.String() != `claim ref_type is "tag", want "branch"` {
		t.Errorf("GitLab preset on a tag named main: %s", r)
	}
}

// FuzzMatch feeds hostile claim values to a compiled identity: matching
// never panics, and explanations stay valid UTF-8 of bounded size.
func FuzzMatch(f *testing.F) {
	f.Add("repo:acme/app:ref:refs/heads/main", "456", "refs/heads/main", "alice@acme.com")
	f.Add("", "", "", "")
	f.Add(strings.Repeat("\xff", 300), "\x00", strings.Repeat("é", 500), "\n")
	id := Identity{ID: "fz", Issuer: GitHubActionsIssuer, SubjectPattern: "repo:acme/.*",
		Claims: []ClaimMatch{{Name: "repository_id", Value: "456"}, {Name: "ref", Pattern: "refs/heads/.*"}, {Name: "email", Value: "alice@acme.com"}},
		Roles:  []RoleBinding{bind(RoleViewer, "acme/*")}}
	m, err := id.Compile(testOpts)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sub, repoID, ref, email string) {
		tok := Token{Issuer: GitHubActionsIssuer, Claims: map[string]any{
			"aud": []any{sub, testAudience}, "sub": sub, "repository_id": repoID, "ref": []any{ref, ref},
			"email": email, "email_verified": true,
		}}
		r := m.Match(tok)
		if r.Matched != (len(r.Failures) == 0) {
			t.Fatalf("Matched = %v with failures %v", r.Matched, r.Failures)
		}
		if r.Matched && (repoID != "456" || email != "alice@acme.com" || !strings.HasPrefix(sub, "repo:acme/")) {
			t.Fatalf("matched sub %q repository_id %q email %q", sub, repoID, email)
		}
		for _, fl := range r.Failures {
			if !utf8.ValidString(fl.Reason) || len(fl.Reason) > 12000 {
				t.Fatalf("reason of %d bytes, valid UTF-8 %v: %q", len(fl.Reason), utf8.ValidString(fl.Reason), fl.Reason)
			}
		}
	})
}
