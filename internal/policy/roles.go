package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Role is a named set of permissions on repositories. The roles nest:
// each includes everything the one before it allows.
type Role string

// The roles.
const (
	// RoleViewer may pull.
	RoleViewer Role = "viewer"
	// RolePusher may pull and push.
	RolePusher Role = "pusher"
	// RoleEditor may pull, push and delete.
	RoleEditor Role = "editor"
	// RoleOwner may pull, push and delete, and manage the identities, pull
	// tokens and event subscriptions of its repositories (see Manages and
	// CanGrant).
	RoleOwner Role = "owner"
)

// Roles returns every role, from least to most privileged.
func Roles() []Role { return []Role{RoleViewer, RolePusher, RoleEditor, RoleOwner} }

// Valid reports whether r is one of the four roles. Role names are exact
// and lower-case.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Actions returns the registry actions r allows, in the order pull, push,
// delete; none for an unknown role.
func (r Role) Actions() []string {
	switch r {
	case RoleViewer:
		return []string{ActionPull}
	case RolePusher:
		return []string{ActionPull, ActionPush}
	case RoleEditor, RoleOwner:
		return []string{ActionPull, ActionPush, ActionDelete}
	}
	return nil
}

// Allows reports whether r allows the registry action (pull, push or
// delete). "*" and unknown actions are never allowed by themselves.
func (r Role) Allows(action string) bool { return slices.Contains(r.Actions(), action) }

// RepositoryPattern selects repositories for a role binding or a public
// repository list. Three forms are accepted:
//
//	team/app   exactly the repository team/app
//	team/*     every repository under team/, at any depth (team/app,
//	           team/sub/app), but not team itself
//	*          every repository
//
// The part before "/*" must be a valid repository name; no other
// wildcards are accepted ("te*", "*/app", "team/*/app" and "team/**" are
// refused by Validate), so a pattern can never be read two ways.
type RepositoryPattern string

// PatternAll is the pattern that matches every repository.
const PatternAll RepositoryPattern = "*"

// Validate returns an error if p is not one of the three forms.
func (p RepositoryPattern) Validate() error {
	_, _, err := p.parse()
	return err
}

// parse splits p into its exact name or its prefix ("team/" for
// "team/*"); all is set for "*".
func (p RepositoryPattern) parse() (name string, all bool, err error) {
	s := string(p)
	if s == string(PatternAll) {
		return "", true, nil
	}
	base, prefix := strings.CutSuffix(s, "/*")
	if err := CheckRepository(base); err != nil {
		if strings.Contains(base, "*") {
			return "", false, fmt.Errorf("repository pattern %q: a wildcard may only be a whole final path component (team/*) or the whole pattern (*)", s)
		}
		return "", false, fmt.Errorf("repository pattern %q: %v", s, err)
	}
	if prefix {
		return base + "/", false, nil
	}
	return base, false, nil
}

// isPrefix reports whether a parsed name is the prefix form.
func isPrefix(name string) bool { return strings.HasSuffix(name, "/") }

// Match reports whether p selects the repository repo. An invalid pattern
// matches nothing.
func (p RepositoryPattern) Match(repo string) bool { return p.Compile().Match(repo) }

// PatternMatcher is a repository pattern parsed (and checked) once, for a
// caller that matches it on every request.
type PatternMatcher struct {
	name    string
	all, ok bool
}

// Compile parses p for PatternMatcher.Match.
func (p RepositoryPattern) Compile() PatternMatcher {
	name, all, err := p.parse()
	return PatternMatcher{name: name, all: all, ok: err == nil}
}

// Match is RepositoryPattern.Match of the pattern m was parsed from.
func (m PatternMatcher) Match(repo string) bool {
	switch {
	case !m.ok:
		return false
	case m.all:
		return true
	case isPrefix(m.name):
		return strings.HasPrefix(repo, m.name)
	}
	return repo == m.name
}

// Covers reports whether every repository q selects is also selected by
// p: "*" covers everything, "team/*" covers "team/app" and "team/sub/*",
// an exact name covers only itself. It is false if either is invalid.
func (p RepositoryPattern) Covers(q RepositoryPattern) bool {
	pn, pall, perr := p.parse()
	qn, qall, qerr := q.parse()
	switch {
	case perr != nil || qerr != nil:
		return false
	case pall:
		return true
	case qall:
		return false
	case isPrefix(pn):
		return strings.HasPrefix(qn, pn) // "team/" prefixes "team/x" and "team/sub/", not "team"
	}
	return pn == qn
}

// RoleBinding grants a role on the repositories its patterns select. Its
// JSON and YAML form is {role: pusher, repositories: ["team/*"]}.
type RoleBinding struct {
	Role         Role                `json:"role" yaml:"role"`
	Repositories []RepositoryPattern `json:"repositories" yaml:"repositories"`
}

// Validate returns an error if the role is unknown, there are no
// repository patterns, or a pattern is invalid.
func (b RoleBinding) Validate() error {
	if !b.Role.Valid() {
		return fmt.Errorf("unknown role %q (want %s)", b.Role, joinRoles())
	}
	if len(b.Repositories) == 0 {
		return fmt.Errorf("role %s: no repositories", b.Role)
	}
	for _, p := range b.Repositories {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("role %s: %w", b.Role, err)
		}
	}
	return nil
}

func joinRoles() string {
	var names []string
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// matches reports whether b applies to repo.
func (b RoleBinding) matches(repo string) bool {
	return slices.ContainsFunc(b.Repositories, func(p RepositoryPattern) bool { return p.Match(repo) })
}

// Grant decides what a token may do: for each requested access it returns
// the actions that both were requested and are allowed by bindings —
// never an action that was not asked for, never one no binding allows.
// Requests for the same resource are merged first (see ParseScopes).
//
//   - Repository scopes (any resource class) get the union of the actions
//     of the roles bound to a pattern that matches the name, intersected
//     with the request; "*" asks for all of them and is answered with the
//     explicit list. Actions come out in the order pull, push, delete.
//     Names that are not valid repository names get nothing.
//   - "registry:catalog:*" is granted, as "*", only to bindings that
//     include a valid role on the pattern "*": the catalog lists every
//     repository, so only someone who may already read every repository
//     may list them.
//   - Unknown actions, unknown resource types and bindings with unknown
//     roles or invalid patterns grant nothing.
//
// Scopes left with no action are omitted, so a request for repositories
// the bindings do not cover yields an empty result. Anonymous access to
// public repositories is Grant with a viewer binding on the public
// patterns. The registry's base-route check (type registry, empty name,
// from GET /v2/) is not a scope and gets nothing here: any authenticated
// caller passes it.
func Grant(requested []Access, bindings []RoleBinding) []Access {
	var out []Access
	for _, a := range mergeScopes(requested) {
		var granted []string
		switch {
		case a.Type == TypeRepository && ValidRepository(a.Name):
			asked := func(act string) bool { return slices.Contains(a.Actions, act) || slices.Contains(a.Actions, ActionAll) }
			for _, act := range []string{ActionPull, ActionPush, ActionDelete} {
				if asked(act) && allows(bindings, a.Name, act) {
					granted = append(granted, act)
				}
			}
		case a.Type == TypeRegistry && a.Name == CatalogName:
			if slices.Contains(a.Actions, ActionAll) && bindsAll(bindings) {
				granted = []string{ActionAll}
			}
		}
		if len(granted) > 0 {
			out = append(out, Access{Type: a.Type, Class: a.Class, Name: a.Name, Actions: granted})
		}
	}
	return out
}

// allows reports whether some binding that applies to repo allows action.
func allows(bindings []RoleBinding, repo, action string) bool {
	return slices.ContainsFunc(bindings, func(b RoleBinding) bool { return b.Role.Allows(action) && b.matches(repo) })
}

// AllowsAccess reports whether bindings allow action on the resource of
// type typ named name, as Grant would grant it.
func AllowsAccess(bindings []RoleBinding, typ, name, action string) bool {
	switch {
	case typ == TypeRepository:
		return allows(bindings, name, action)
	case typ == TypeRegistry && name == CatalogName:
		return action == ActionAll && bindsAll(bindings)
	}
	return false
}

// bindsAll reports whether some binding gives a valid role on "*".
func bindsAll(bindings []RoleBinding) bool {
	return slices.ContainsFunc(bindings, func(b RoleBinding) bool {
		return b.Role.Valid() && slices.Contains(b.Repositories, PatternAll)
	})
}

// ErrDenied is wrapped by errors that refuse a management operation.
var ErrDenied = errors.New("permission denied")

// Manages reports whether bindings make their holder an owner of every
// repository p selects: an owner binding has a pattern that covers p. An
// owner manages the identities, pull tokens and event subscriptions on
// the repositories it manages.
func Manages(bindings []RoleBinding, p RepositoryPattern) bool {
	return slices.ContainsFunc(bindings, func(b RoleBinding) bool {
		return b.Role == RoleOwner && slices.ContainsFunc(b.Repositories, func(q RepositoryPattern) bool { return q.Covers(p) })
	})
}

// CanGrant returns nil if a caller holding the bindings caller may create
// (or change) something that holds the bindings want — an identity's
// roles, a pull token's repositories — that is, if caller Manages every
// pattern of want. Any role, owner included, may be handed out within the
// caller's repositories. It returns an error wrapping ErrDenied naming
// the first pattern outside them, or an error for an invalid binding in
// want.
func CanGrant(caller, want []RoleBinding) error {
	for _, b := range want {
		if err := b.Validate(); err != nil {
			return err
		}
		for _, p := range b.Repositories {
			if !Manages(caller, p) {
				return fmt.Errorf("%w: role %s on %q: the caller is not an owner of those repositories", ErrDenied, b.Role, p)
			}
		}
	}
	return nil
}
