package policy

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRoleActions(t *testing.T) {
	tests := []struct {
		role  Role
		valid bool
		want  []string
	}{
		{RoleViewer, true, []string{"pull"}},
		{RolePusher, true, []string{"pull", "push"}},
		{RoleEditor, true, []string{"pull", "push", "delete"}},
		{RoleOwner, true, []string{"pull", "push", "delete"}},
		{"admin", false, nil},
		{"Owner", false, nil},
		{"", false, nil},
	}
	for _, tt := range tests {
		if got := tt.role.Valid(); got != tt.valid {
			t.Errorf("Role(%q).Valid() = %v, want %v", tt.role, got, tt.valid)
		}
		if got := tt.role.Actions(); !slices.Equal(got, tt.want) {
			t.Errorf("Role(%q).Actions() = %q, want %q", tt.role, got, tt.want)
		}
		for _, act := range []string{"pull", "push", "delete", "*", "frobnicate"} {
			if got, want := tt.role.Allows(act), slices.Contains(tt.want, act); got != want {
				t.Errorf("Role(%q).Allows(%q) = %v, want %v", tt.role, act, got, want)
			}
		}
	}
	if got := Roles(); !slices.Equal(got, []Role{"viewer", "pusher", "editor", "owner"}) {
		t.Errorf("Roles() = %q", got)
	}
}

func TestRepositoryPatternValidate(t *testing.T) {
	tests := []struct {
		p       RepositoryPattern
		wantErr string
	}{
		{"*", ""}, {"team/*", ""}, {"team/sub/*", ""}, {"team/app", ""}, {"a", ""}, {"a.b-c/d_e/*", ""},
		{"", "empty name"},
		{"**", "wildcard"}, {"team/**", "wildcard"}, {"te*", "wildcard"}, {"*/app", "wildcard"},
		{"team/*/app", "wildcard"}, {"team*/*", "wildcard"}, {"/*", "empty name"},
		{"Team/*", "lower-case"}, {"team/", "empty path component"}, {"team//*", "empty path component"},
		{"team/../*", "lower-case"}, {"team/?", "lower-case"}, {"team/a?b", "only lower-case"}, {"team/[ab]", "lower-case"},
		{RepositoryPattern(strings.Repeat("a", 256)), "longer than 255"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("RepositoryPattern(%q).Validate() = %v, want error containing %q", tt.p, err, tt.wantErr)
		}
	}
}

func TestRepositoryPatternMatch(t *testing.T) {
	tests := []struct {
		p     RepositoryPattern
		repo  string
		match bool
	}{
		{"*", "a", true},
		{"*", "a/b/c", true},
		{"team/app", "team/app", true},
		{"team/app", "team/app2", false},
		{"team/app", "team/app/sub", false},
		{"team/app", "team", false},
		{"team/*", "team/app", true},
		{"team/*", "team/sub/app", true},
		{"team/*", "team", false},
		{"team/*", "teamx/app", false},
		{"team/*", "team-x/app", false},
		{"team/*", "other/team/app", false},
		{"team/sub/*", "team/sub/a", true},
		{"team/sub/*", "team/subx/a", false},
		{"team/sub/*", "team/a", false},
		// Invalid patterns match nothing, even where a string comparison would.
		{"te*", "te*", false},
		{"team/*/app", "team/x/app", false},
		{"", "", false},
		{"Team/*", "Team/x", false},
	}
	for _, tt := range tests {
		if got := tt.p.Match(tt.repo); got != tt.match {
			t.Errorf("RepositoryPattern(%q).Match(%q) = %v, want %v", tt.p, tt.repo, got, tt.match)
		}
	}
}

func TestRepositoryPatternCovers(t *testing.T) {
	tests := []struct {
		p, q   RepositoryPattern
		covers bool
	}{
		{"*", "*", true},
		{"*", "team/*", true},
		{"*", "a", true},
		{"team/*", "*", false},
		{"team/*", "team/*", true},
		{"team/*", "team/sub/*", true},
		{"team/*", "team/app", true},
		{"team/*", "team", false},
		{"team/*", "teamx/*", false},
		{"team/sub/*", "team/*", false},
		{"team/app", "team/app", true},
		{"team/app", "team/app/*", false},
		{"team/app", "team/*", false},
		{"team/app", "*", false},
		{"*", "bad*", false},
		{"bad*", "a", false},
	}
	for _, tt := range tests {
		if got := tt.p.Covers(tt.q); got != tt.covers {
			t.Errorf("RepositoryPattern(%q).Covers(%q) = %v, want %v", tt.p, tt.q, got, tt.covers)
		}
	}
}

func TestRoleBindingValidate(t *testing.T) {
	tests := []struct {
		name    string
		b       RoleBinding
		wantErr string
	}{
		{"ok", RoleBinding{Role: RolePusher, Repositories: []RepositoryPattern{"team/*", "other/app"}}, ""},
		{"unknown role", RoleBinding{Role: "admin", Repositories: []RepositoryPattern{"*"}},
			`unknown role "admin" (want viewer, pusher, editor, owner)`},
		{"no role", RoleBinding{Repositories: []RepositoryPattern{"*"}}, `unknown role ""`},
		{"no repositories", RoleBinding{Role: RoleViewer}, "role viewer: no repositories"},
		{"bad pattern", RoleBinding{Role: RoleViewer, Repositories: []RepositoryPattern{"ok", "te*"}},
			`role viewer: repository pattern "te*": a wildcard may only be`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.b.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func bind(role Role, patterns ...RepositoryPattern) RoleBinding {
	return RoleBinding{Role: role, Repositories: patterns}
}

func mustScopes(t *testing.T, s string) []Access {
	t.Helper()
	as, err := ParseScopes([]string{s})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestGrant(t *testing.T) {
	tests := []struct {
		name     string
		request  string // space-separated scopes
		bindings []RoleBinding
		want     string // FormatScopes of the grant
	}{
		{name: "token for A asking for B gets nothing", request: "repository:team/b:pull",
			bindings: []RoleBinding{bind(RoleOwner, "team/a")}, want: ""},
		{name: "prefix of another name is not that name", request: "repository:team/ab:pull",
			bindings: []RoleBinding{bind(RoleOwner, "team/a")}, want: ""},
		{name: "viewer asking push gets only pull", request: "repository:team/a:pull,push",
			bindings: []RoleBinding{bind(RoleViewer, "team/a")}, want: "repository:team/a:pull"},
		{name: "viewer asking only push gets nothing", request: "repository:team/a:push",
			bindings: []RoleBinding{bind(RoleViewer, "team/a")}, want: ""},
		{name: "pusher asking delete gets nothing", request: "repository:team/a:delete",
			bindings: []RoleBinding{bind(RolePusher, "team/*")}, want: ""},
		{name: "star for a viewer", request: "repository:team/a:*",
			bindings: []RoleBinding{bind(RoleViewer, "team/*")}, want: "repository:team/a:pull"},
		{name: "star for a pusher", request: "repository:team/a:*",
			bindings: []RoleBinding{bind(RolePusher, "team/*")}, want: "repository:team/a:pull,push"},
		{name: "star for an editor", request: "repository:team/a:*",
			bindings: []RoleBinding{bind(RoleEditor, "*")}, want: "repository:team/a:pull,push,delete"},
		{name: "star with nothing allowed", request: "repository:team/a:*",
			bindings: []RoleBinding{bind(RoleOwner, "other/*")}, want: ""},
		{name: "not asked is not granted", request: "repository:team/a:pull",
			bindings: []RoleBinding{bind(RoleOwner, "*")}, want: "repository:team/a:pull"},
		{name: "canonical action order", request: "repository:team/a:delete,pull,push",
			bindings: []RoleBinding{bind(RoleOwner, "*")}, want: "repository:team/a:pull,push,delete"},
		{name: "unknown actions dropped", request: "repository:team/a:pull,frobnicate,admin",
			bindings: []RoleBinding{bind(RoleOwner, "*")}, want: "repository:team/a:pull"},
		{name: "wider than allowed: several repositories intersected",
			request:  "repository:team/a:pull,push repository:team/b:pull,push,delete repository:other/c:pull repository:team:pull",
			bindings: []RoleBinding{bind(RolePusher, "team/*")},
			want:     "repository:team/a:pull,push repository:team/b:pull,push"},
		{name: "bindings add up", request: "repository:team/app:*",
			bindings: []RoleBinding{bind(RoleViewer, "team/*"), bind(RolePusher, "team/app")},
			want:     "repository:team/app:pull,push"},
		{name: "mount: push on target, pull on source", request: "repository:dst/app:pull,push repository:src/base:pull",
			bindings: []RoleBinding{bind(RolePusher, "dst/*"), bind(RoleViewer, "src/base")},
			want:     "repository:dst/app:pull,push repository:src/base:pull"},
		{name: "mount source not readable", request: "repository:dst/app:pull,push repository:src/base:pull",
			bindings: []RoleBinding{bind(RolePusher, "dst/*")},
			want:     "repository:dst/app:pull,push"},
		{name: "class treated as repository and kept", request: "repository(plugin):team/p:pull,push",
			bindings: []RoleBinding{bind(RoleViewer, "team/*")}, want: "repository(plugin):team/p:pull"},
		{name: "duplicates merged", request: "repository:team/a:pull repository:team/a:push",
			bindings: []RoleBinding{bind(RolePusher, "team/a")}, want: "repository:team/a:pull,push"},
		{name: "no bindings", request: "repository:team/a:pull", bindings: nil, want: ""},
		{name: "unknown role grants nothing", request: "repository:team/a:pull",
			bindings: []RoleBinding{bind("admin", "*")}, want: ""},
		{name: "invalid pattern grants nothing", request: "repository:team/a:pull",
			bindings: []RoleBinding{bind(RoleOwner, "team/**"), bind(RoleOwner, "te*")}, want: ""},

		{name: "catalog for a viewer of everything", request: "registry:catalog:*",
			bindings: []RoleBinding{bind(RoleViewer, "*")}, want: "registry:catalog:*"},
		{name: "catalog refused to an owner of a prefix", request: "registry:catalog:*",
			bindings: []RoleBinding{bind(RoleOwner, "team/*")}, want: ""},
		{name: "catalog needs the star action", request: "registry:catalog:pull",
			bindings: []RoleBinding{bind(RoleOwner, "*")}, want: ""},
		{name: "catalog refused to an unknown role on *", request: "registry:catalog:*",
			bindings: []RoleBinding{bind("admin", "*")}, want: ""},
		{name: "catalog with repositories", request: "registry:catalog:* repository:team/a:push",
			bindings: []RoleBinding{bind(RoleViewer, "*"), bind(RolePusher, "team/a")},
			want:     "registry:catalog:* repository:team/a:push"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustScopes(t, tt.request)
			got := Grant(req, tt.bindings)
			if s := FormatScopes(got); s != tt.want {
				t.Errorf("Grant(%q, %v) = %q, want %q", tt.request, tt.bindings, s, tt.want)
			}
			for _, g := range got {
				if len(g.Actions) == 0 {
					t.Errorf("Grant returned %+v with no actions", g)
				}
			}
		})
	}
}

func TestGrantIgnoresMalformedRequests(t *testing.T) {
	owner := []RoleBinding{bind(RoleOwner, "*")}
	req := []Access{
		{Type: "repository", Name: "../etc", Actions: []string{"pull"}},
		{Type: "repository", Name: "", Actions: []string{"pull"}},
		{Type: "registry", Name: "", Actions: []string{""}}, // the registry's base route: not a grantable scope
		{Type: "registry", Name: "other", Actions: []string{"*"}},
		{Type: "plugin", Name: "a", Actions: []string{"pull"}},
		{Type: "repository", Name: "ok", Actions: nil},
	}
	if got := Grant(req, owner); len(got) != 0 {
		t.Errorf("Grant(malformed) = %v, want nothing", got)
	}
}

func TestGrantDoesNotAliasRequest(t *testing.T) {
	req := []Access{{Type: "repository", Name: "a", Actions: []string{"*"}}}
	got := Grant(req, []RoleBinding{bind(RolePusher, "a")})
	got[0].Actions[0] = "delete"
	if !reflect.DeepEqual(req[0].Actions, []string{"*"}) {
		t.Errorf("Grant's result aliases the request: %v", req[0].Actions)
	}
}

// TestGrantNeverMore checks every combination of requested actions and
// roles: the grant is within both the request and the role.
func TestGrantNeverMore(t *testing.T) {
	all := []string{"pull", "push", "delete", "*", "x"}
	for mask := 1; mask < 1<<len(all); mask++ {
		var asked []string
		for i, a := range all {
			if mask&(1<<i) != 0 {
				asked = append(asked, a)
			}
		}
		for _, role := range append(Roles(), "nope") {
			got := Grant([]Access{{Type: "repository", Name: "r", Actions: asked}}, []RoleBinding{bind(role, "r")})
			var granted []string
			if len(got) == 1 {
				granted = got[0].Actions
			}
			for _, act := range []string{"pull", "push", "delete"} {
				want := role.Allows(act) && (slices.Contains(asked, act) || slices.Contains(asked, "*"))
				if slices.Contains(granted, act) != want {
					t.Errorf("role %s asking %q: granted %q; %s granted = %v, want %v", role, asked, granted, act, !want, want)
				}
			}
			if len(got) > 1 || slices.Contains(granted, "*") || slices.Contains(granted, "x") {
				t.Errorf("role %s asking %q: granted %v", role, asked, got)
			}
		}
	}
}

func TestManagesAndCanGrant(t *testing.T) {
	caller := []RoleBinding{bind(RoleOwner, "team/*"), bind(RoleOwner, "solo"), bind(RoleEditor, "other/*")}
	tests := []struct {
		name    string
		want    []RoleBinding
		wantErr string
	}{
		{"within prefix", []RoleBinding{bind(RolePusher, "team/app", "team/sub/*")}, ""},
		{"the prefix itself", []RoleBinding{bind(RoleOwner, "team/*")}, ""},
		{"exact owned", []RoleBinding{bind(RoleViewer, "solo")}, ""},
		{"editor is not owner", []RoleBinding{bind(RoleViewer, "other/app")}, `role viewer on "other/app"`},
		{"wider than owned", []RoleBinding{bind(RoleViewer, "*")}, `role viewer on "*"`},
		{"the bare prefix name", []RoleBinding{bind(RoleViewer, "team")}, `role viewer on "team"`},
		{"under an exact name", []RoleBinding{bind(RoleViewer, "solo/*")}, `role viewer on "solo/*"`},
		{"one of several outside", []RoleBinding{bind(RoleViewer, "team/a"), bind(RolePusher, "team/b", "elsewhere")},
			`role pusher on "elsewhere"`},
		{"invalid binding", []RoleBinding{bind("root", "team/a")}, `unknown role "root"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanGrant(caller, tt.want)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CanGrant = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CanGrant = %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(tt.wantErr, " on ") && !errors.Is(err, ErrDenied) {
				t.Errorf("CanGrant = %v, want it to wrap ErrDenied", err)
			}
		})
	}
	if !Manages([]RoleBinding{bind(RoleOwner, "*")}, "anything/*") {
		t.Error("an owner of * does not manage anything/*")
	}
	if Manages(nil, "a") {
		t.Error("no bindings manage a")
	}
}
