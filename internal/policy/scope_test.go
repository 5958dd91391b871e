package policy

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Access
		wantErr string
	}{
		{name: "pull", in: "repository:library/alpine:pull",
			want: Access{Type: "repository", Name: "library/alpine", Actions: []string{"pull"}}},
		{name: "pull push", in: "repository:a/b/c:pull,push",
			want: Access{Type: "repository", Name: "a/b/c", Actions: []string{"pull", "push"}}},
		{name: "order kept, duplicates dropped", in: "repository:a:push,pull,push",
			want: Access{Type: "repository", Name: "a", Actions: []string{"push", "pull"}}},
		{name: "empty actions skipped", in: "repository:a:,pull,,",
			want: Access{Type: "repository", Name: "a", Actions: []string{"pull"}}},
		{name: "star", in: "repository:a:*", want: Access{Type: "repository", Name: "a", Actions: []string{"*"}}},
		{name: "unknown action kept", in: "repository:a:pull,frobnicate",
			want: Access{Type: "repository", Name: "a", Actions: []string{"pull", "frobnicate"}}},
		{name: "class", in: "repository(plugin):team/plugin:pull",
			want: Access{Type: "repository", Class: "plugin", Name: "team/plugin", Actions: []string{"pull"}}},
		{name: "catalog", in: "registry:catalog:*", want: Access{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		{name: "separators", in: "repository:a.b_c__d---e/f:delete",
			want: Access{Type: "repository", Name: "a.b_c__d---e/f", Actions: []string{"delete"}}},

		{name: "empty", in: "", wantErr: "want type:name:actions"},
		{name: "two parts", in: "repository:a", wantErr: "want type:name:actions"},
		{name: "no actions", in: "repository:a:", wantErr: "no actions"},
		{name: "only commas", in: "repository:a:,,", wantErr: "no actions"},
		{name: "empty name", in: "repository::pull", wantErr: "empty name"},
		{name: "upper case name", in: "repository:Library/alpine:pull", wantErr: "repository name"},
		{name: "host and port", in: "repository:localhost:5000/a:pull", wantErr: "repository name"},
		{name: "dot dot", in: "repository:a/../b:pull", wantErr: "repository name"},
		{name: "leading slash", in: "repository:/a:pull", wantErr: "repository name"},
		{name: "trailing slash", in: "repository:a/:pull", wantErr: "repository name"},
		{name: "long name", in: "repository:" + strings.Repeat("a", 256) + ":pull", wantErr: "longer than 255"},
		{name: "too long", in: "repository:a:" + strings.Repeat("pull,", 120), wantErr: "longer than 512"},
		{name: "unknown type", in: "plugin:a:pull", wantErr: "unknown resource type"},
		{name: "type case", in: "Repository:a:pull", wantErr: "unknown resource type"},
		{name: "empty class", in: "repository():a:pull", wantErr: "resource class"},
		{name: "bad class", in: "repository(Plug-in):a:pull", wantErr: "resource class"},
		{name: "unclosed class", in: "repository(plugin:a:pull", wantErr: "unknown resource type"},
		{name: "registry other name", in: "registry:everything:*", wantErr: `the registry resource is "catalog"`},
		{name: "action upper case", in: "repository:a:Pull", wantErr: `action "Pull"`},
		{name: "action star inside", in: "repository:a:pu*", wantErr: `action "pu*"`},
		{name: "action space", in: "repository:a:pull push", wantErr: `action "pull push"`},
		{name: "wildcard name", in: "repository:team/*:pull", wantErr: "repository name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScope(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidScope) {
					t.Fatalf("ParseScope(%q) = %+v, %v, want error containing %q wrapping ErrInvalidScope", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseScope(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseScope(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name    string
		params  []string
		want    string // FormatScopes of the result
		wantErr string
	}{
		{name: "none", params: nil, want: ""},
		{name: "empty params", params: []string{"", " "}, want: ""},
		{name: "one", params: []string{"repository:a:pull"}, want: "repository:a:pull"},
		{name: "mount: two repositories", params: []string{"repository:dst:pull,push", "repository:src:pull"},
			want: "repository:dst:pull,push repository:src:pull"},
		{name: "space separated (OAuth2)", params: []string{"repository:a:pull repository:b:push"},
			want: "repository:a:pull repository:b:push"},
		{name: "duplicates merged in first-seen order", params: []string{"repository:a:pull", "repository:b:pull", "repository:a:push,pull"},
			want: "repository:a:pull,push repository:b:pull"},
		{name: "class kept apart", params: []string{"repository:a:pull", "repository(plugin):a:push"},
			want: "repository:a:pull repository(plugin):a:push"},
		{name: "catalog", params: []string{"registry:catalog:*", "registry:catalog:*"}, want: "registry:catalog:*"},
		{name: "one bad spoils all", params: []string{"repository:a:pull", "repository:B:pull"}, wantErr: "repository name"},
		{name: "too many", params: []string{manyScopes(65)}, wantErr: "more than 64 scopes"},
		{name: "many duplicates are fine", params: []string{strings.Repeat("repository:a:pull ", 200)}, want: "repository:a:pull"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScopes(tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidScope) {
					t.Fatalf("ParseScopes(%q) = %v, %v, want error containing %q", tt.params, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseScopes(%q) error: %v", tt.params, err)
			}
			if s := FormatScopes(got); s != tt.want {
				t.Errorf("ParseScopes(%q) = %q, want %q", tt.params, s, tt.want)
			}
		})
	}
}

func manyScopes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "repository:r%d:pull ", i)
	}
	return b.String()
}

func TestAccessString(t *testing.T) {
	tests := []struct {
		a    Access
		want string
	}{
		{Access{Type: "repository", Name: "a/b", Actions: []string{"pull", "push"}}, "repository:a/b:pull,push"},
		{Access{Type: "repository", Class: "plugin", Name: "a", Actions: []string{"pull"}}, "repository(plugin):a:pull"},
		{Access{Type: "registry", Name: "catalog", Actions: []string{"*"}}, "registry:catalog:*"},
		{Access{Type: "registry"}, "registry::"}, // the registry's base-route check
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
	both := []Access{tests[0].a, tests[2].a}
	if got, want := FormatScopes(both), "repository:a/b:pull,push registry:catalog:*"; got != want {
		t.Errorf("FormatScopes = %q, want %q", got, want)
	}
}

// specName is the distribution-spec repository name grammar, the
// reference ValidRepository and internal/registry's validateName follow.
const specName = `^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`

func specValid(re *regexp.Regexp, name string) bool {
	return len(name) <= 255 && re.MatchString(name)
}

// repositoryNameCases are the names internal/registry's FuzzRepositoryName
// seeds with and more; the expectations are what its validateName
// answers.
var repositoryNameCases = []struct {
	name  string
	valid bool
}{
	{"library/alpine", true}, {"a", true}, {"a/b/c", true}, {"a__b", true}, {"a--b", true}, {"a---b", true},
	{"a.b", true}, {"a_b", true}, {"0", true}, {"a0/9z", true}, {"a.b-c_d__e/f", true},
	{strings.Repeat("a", 255), true}, {strings.Repeat("a/", 127) + "a", true},
	{"", false}, {"A", false}, {"a/", false}, {"/a", false}, {"a//b", false}, {"a_.b", false},
	{"a___b", false}, {"-a", false}, {"a-", false}, {"..", false}, {"a/../b", false}, {"a..b", false},
	{strings.Repeat("a", 256), false}, {"ä", false}, {"a b", false}, {"a\x00b", false}, {"a:b", false},
	{"a/.b", false}, {"a._b", false}, {"_a", false}, {"a_", false}, {".a", false}, {"a.", false},
	{"*", false}, {"a/*", false}, {"a.-b", false}, {"a-.b", false}, {"a__-b", false},
}

func TestValidRepository(t *testing.T) {
	re := regexp.MustCompile(specName)
	for _, tt := range repositoryNameCases {
		if got := ValidRepository(tt.name); got != tt.valid {
			t.Errorf("ValidRepository(%q) = %v, want %v", tt.name, got, tt.valid)
		}
		if spec := specValid(re, tt.name); spec != tt.valid {
			t.Errorf("spec grammar says %q valid = %v, table says %v", tt.name, spec, tt.valid)
		}
	}
}

// The seed corpora below run as ordinary tests; `go test -fuzz FuzzX`
// explores beyond them.

// FuzzValidRepository checks ValidRepository against the spec grammar.
func FuzzValidRepository(f *testing.F) {
	for _, tt := range repositoryNameCases {
		f.Add(tt.name)
	}
	re := regexp.MustCompile(specName)
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := ValidRepository(name), specValid(re, name); got != want {
			t.Fatalf("ValidRepository(%q) = %v, spec grammar says %v", name, got, want)
		}
	})
}

// FuzzParseScope checks that an accepted scope is well-formed and
// survives formatting and parsing again unchanged.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{
		"repository:library/alpine:pull", "repository:a:pull,push", "repository:a:*", "repository:a:pull,*,push",
		"repository(plugin):a/b:pull", "registry:catalog:*", "registry:catalog:pull", "repository:a:",
		"repository:localhost:5000/a:pull", "repository:a:b:c:pull", "repository::pull", "repository(:a:pull",
		"repository():a:pull", "repository(a)(b):c:pull", ":::", "repository:a:,,pull,,", "repository:A:pull",
		"repository:a/../b:pull", "repository:a\x00:pull", "repository:a:pull\n", "repository:ä:pull",
		"repository:" + strings.Repeat("a", 255) + ":pull", "repository:a:" + strings.Repeat("x", 600),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseScope(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidScope) {
				t.Fatalf("ParseScope(%q) error %v does not wrap ErrInvalidScope", s, err)
			}
			return
		}
		switch a.Type {
		case TypeRepository:
			if !ValidRepository(a.Name) {
				t.Fatalf("ParseScope(%q) accepted repository name %q", s, a.Name)
			}
		case TypeRegistry:
			if a.Name != CatalogName || a.Class != "" && !isWord(a.Class) {
				t.Fatalf("ParseScope(%q) accepted registry resource %+v", s, a)
			}
		default:
			t.Fatalf("ParseScope(%q) accepted type %q", s, a.Type)
		}
		if len(a.Actions) == 0 {
			t.Fatalf("ParseScope(%q) returned no actions", s)
		}
		seen := map[string]bool{}
		for _, act := range a.Actions {
			if seen[act] || act != ActionAll && !isLetters(act) {
				t.Fatalf("ParseScope(%q) returned action %q in %q", s, act, a.Actions)
			}
			seen[act] = true
		}
		if strings.ContainsAny(a.String(), " \"\\") {
			t.Fatalf("ParseScope(%q).String() = %q cannot be quoted in WWW-Authenticate", s, a.String())
		}
		again, err := ParseScope(a.String())
		if err != nil || !reflect.DeepEqual(again, a) {
			t.Fatalf("ParseScope(%q) = %+v; reparsing %q = %+v, %v", s, a, a.String(), again, err)
		}
		// Whatever was parsed, Grant never returns more than asked.
		for _, g := range Grant([]Access{a}, []RoleBinding{{Role: RoleOwner, Repositories: []RepositoryPattern{"*"}}}) {
			for _, act := range g.Actions {
				if !seen[act] && !seen[ActionAll] {
					t.Fatalf("Grant(%+v) granted %q", a, act)
				}
			}
		}
	})
}
