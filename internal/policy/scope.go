// Package policy is the registry's authorization model as pure logic:
// the Docker token scope grammar (one Access type, used by the registry's
// routes, the token service and the tokens' "access" claim), the
// repository-name grammar the registry enforces on every request, roles
// bound to repository patterns, the intersection of what a client asks for
// with what its roles allow, and identities — the rules that decide which
// upstream OIDC tokens the registry trusts — with matching that explains
// every mismatch.
//
// Nothing here serves HTTP, verifies signatures or touches storage: token
// verification lives in internal/oidc, and the token service that applies
// these rules (internal/auth) builds on this package.
package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Resource types of the Docker token scope grammar
// (https://distribution.github.io/distribution/spec/auth/scope/).
const (
	TypeRepository = "repository"
	TypeRegistry   = "registry"
)

// CatalogName is the one resource name of TypeRegistry: "registry:catalog:*"
// lists the repositories (GET /v2/_catalog).
const CatalogName = "catalog"

// Actions a scope can ask for. ActionAll asks for every action the caller
// is allowed; it is also the only action of "registry:catalog:*".
const (
	ActionPull   = "pull"
	ActionPush   = "push"
	ActionDelete = "delete"
	ActionAll    = "*"
)

// Limits on what a client may ask for in one token request. Real clients
// send one or two scopes (a cross-repository mount asks for two); the
// limits only keep a hostile request from growing a token without bound.
const (
	maxScopes      = 64
	maxScopeLength = 512
	maxNameLength  = 255
)

// ErrInvalidScope is wrapped by every error ParseScope and ParseScopes
// return.
var ErrInvalidScope = errors.New("invalid scope")

// Access is one resource scope: an action set on a resource, as asked for
// in a scope parameter and granted in an access token's "access" claim
// (its JSON form is the claim's element). It carries the same fields as
// registry.Access plus the resource class.
type Access struct {
	// Type is TypeRepository or TypeRegistry.
	Type string `json:"type"`
	// Class is the optional resource class, "plugin" in
	// "repository(plugin):name:pull". It is kept so that a granted scope
	// reads as it was asked for, and otherwise ignored: a classed
	// repository is authorized as the repository of that name.
	Class string `json:"class,omitempty"`
	// Name is the repository name, or CatalogName.
	Name string `json:"name"`
	// Actions are the actions asked for or granted, without duplicates.
	Actions []string `json:"actions"`
}

// String formats a as a scope, "type[(class)]:name:action[,action]",
// suitable for a WWW-Authenticate scope parameter and accepted by
// ParseScope.
func (a Access) String() string {
	var b strings.Builder
	b.WriteString(a.Type)
	if a.Class != "" {
		b.WriteString("(" + a.Class + ")")
	}
	b.WriteString(":" + a.Name + ":")
	b.WriteString(strings.Join(a.Actions, ","))
	return b.String()
}

// FormatScopes joins scopes with spaces, the form of a WWW-Authenticate
// scope parameter and of the OAuth2 scope field. Repository names and
// actions never contain '"' or '\', so the result can be quoted as is.
func FormatScopes(scopes []Access) string {
	parts := make([]string, len(scopes))
	for i, a := range scopes {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

// ParseScope parses one resource scope:
//
//	repository:<name>:<action>[,<action>...]
//	repository(<class>):<name>:<action>[,<action>...]
//	registry:catalog:*
//
// The name must be a repository name as the registry accepts it (see
// ValidRepository), so names with a host name or port are refused; every
// name the registry serves can be asked for. Actions are "*" or lower-case
// words; unknown words are kept here and dropped by Grant. Empty actions
// are skipped, duplicates removed, and the order kept. Errors wrap
// ErrInvalidScope.
func ParseScope(s string) (Access, error) {
	if len(s) > maxScopeLength {
		return Access{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidScope, maxScopeLength)
	}
	typ, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i < 0 {
		return Access{}, fmt.Errorf("%w %q: want type:name:actions", ErrInvalidScope, s)
	}
	name, actions := rest[:i], rest[i+1:]
	a := Access{Type: typ, Name: name}
	if open := strings.IndexByte(typ, '('); open >= 0 && strings.HasSuffix(typ, ")") {
		a.Type, a.Class = typ[:open], typ[open+1:len(typ)-1]
		if !isWord(a.Class) {
			return Access{}, fmt.Errorf("%w %q: resource class must be lower-case letters and digits", ErrInvalidScope, s)
		}
	}
	switch a.Type {
	case TypeRepository:
		if err := CheckRepository(name); err != nil {
			return Access{}, fmt.Errorf("%w %q: repository name: %v", ErrInvalidScope, s, err)
		}
	case TypeRegistry:
		if name != CatalogName {
			return Access{}, fmt.Errorf("%w %q: the registry resource is %q", ErrInvalidScope, s, CatalogName)
		}
	default:
		return Access{}, fmt.Errorf("%w %q: unknown resource type (want %s or %s)", ErrInvalidScope, s, TypeRepository, TypeRegistry)
	}
	for act := range strings.SplitSeq(actions, ",") {
		switch {
		case act == "":
			continue
		case act != ActionAll && !isLetters(act):
			return Access{}, fmt.Errorf("%w %q: action %q must be * or lower-case letters", ErrInvalidScope, s, act)
		}
		if !slices.Contains(a.Actions, act) {
			a.Actions = append(a.Actions, act)
		}
	}
	if len(a.Actions) == 0 {
		return Access{}, fmt.Errorf("%w %q: no actions", ErrInvalidScope, s)
	}
	return a, nil
}

// ParseScopes parses the scope parameters of a token request. Each
// parameter may hold several scopes separated by spaces (the OAuth2 form);
// empty parameters are ignored. Scopes naming the same resource (type,
// class and name) are merged into one, in the order first seen, with the
// union of their actions. It fails on the first invalid scope, or when
// there are more than 64 scopes after merging; errors wrap
// ErrInvalidScope.
func ParseScopes(params []string) ([]Access, error) {
	var out []Access
	for _, p := range params {
		for s := range strings.FieldsSeq(p) {
			a, err := ParseScope(s)
			if err != nil {
				return nil, err
			}
			out = mergeScope(out, a)
			if len(out) > maxScopes {
				return nil, fmt.Errorf("%w: more than %d scopes", ErrInvalidScope, maxScopes)
			}
		}
	}
	return out, nil
}

// mergeScopes merges accesses to the same resource, as ParseScopes does.
// It never modifies the slices of its input.
func mergeScopes(as []Access) []Access {
	var out []Access
	for _, a := range as {
		out = mergeScope(out, a)
	}
	return out
}

func mergeScope(out []Access, a Access) []Access {
	i := slices.IndexFunc(out, func(b Access) bool {
		return b.Type == a.Type && b.Class == a.Class && b.Name == a.Name
	})
	if i < 0 {
		i = len(out)
		out = append(out, Access{Type: a.Type, Class: a.Class, Name: a.Name})
	}
	for _, act := range a.Actions {
		if !slices.Contains(out[i].Actions, act) {
			out[i].Actions = append(out[i].Actions, act)
		}
	}
	return out
}

// ValidRepository reports whether name is a repository name the registry
// accepts: at most 255 bytes matching the distribution-spec grammar
//
//	[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//
// internal/registry checks every request's name with it before it
// consults its Authorizer.
func ValidRepository(name string) bool { return CheckRepository(name) == nil }

// CheckRepository is ValidRepository with the reason a name is refused.
// It is hand-written rather than a regexp because the registry runs it on
// every request.
func CheckRepository(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if len(name) > maxNameLength {
		return fmt.Errorf("longer than %d characters", maxNameLength)
	}
	for comp := range strings.SplitSeq(name, "/") {
		if err := checkComponent(comp); err != nil {
			return err
		}
	}
	return nil
}

func checkComponent(c string) error {
	if c == "" {
		return errors.New("empty path component")
	}
	if !isAlnum(c[0]) || !isAlnum(c[len(c)-1]) {
		return errors.New("path components must start and end with a lower-case letter or digit")
	}
	for i := 0; i < len(c); {
		if isAlnum(c[i]) {
			i++
			continue
		}
		// A separator: ".", "_", "__" or a run of "-"; the check above
		// guarantees an alphanumeric character somewhere after it.
		j := i + 1
		switch c[i] {
		case '.':
		case '_':
			if c[j] == '_' {
				j++
			}
		case '-':
			for c[j] == '-' {
				j++
			}
		default:
			return errors.New("only lower-case letters, digits, '.', '_', '__', '-' and '/' are allowed")
		}
		if !isAlnum(c[j]) {
			return errors.New("separators must be followed by a lower-case letter or digit")
		}
		i = j
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// isWord reports whether s is a non-empty run of [a-z0-9].
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// isLetters reports whether s is a non-empty run of [a-z].
func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
