package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Identity is a rule for trusting upstream OIDC tokens: tokens from Issuer,
// for Audience, whose subject and claims match, act with the identity's
// roles. Its JSON form is both an element of the server configuration's
// auth.identities list (YAML) and the body of /api/v1/identities.
//
// Every configured condition must hold (they are ANDed). An identity that
// would accept any subject of its issuer is refused unless AllowAnySubject
// is set; see Validate.
type Identity struct {
	// ID names the identity in session tokens and the API: 1–64 of
	// [a-z0-9._-], starting and ending with a letter or digit.
	ID string `json:"id" yaml:"id"`
	// Name is an optional description for people: at most 128 letters,
	// digits, spaces and ._-/@:+()#,'& characters.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Issuer is the exact "iss" of accepted tokens: an https URL, or an
	// http URL on a loopback host (127.0.0.0/8, ::1, localhost).
	Issuer string `json:"issuer" yaml:"issuer"`
	// IssuerKeys, if set, are the issuer's public keys, for CI systems
	// whose issuer the registry cannot reach; the issuer is then never
	// fetched. Without them the keys are discovered from the issuer.
	IssuerKeys JWKS `json:"issuer_keys,omitempty" yaml:"issuer_keys,omitempty"`
	// Subject, if set, is the exact "sub" of accepted tokens.
	Subject string `json:"subject,omitempty" yaml:"subject,omitempty"`
	// SubjectPattern, if set, is a regular expression (RE2 syntax) the
	// whole "sub" must match: it is compiled as ^(?:pattern)$.
	SubjectPattern string `json:"subject_pattern,omitempty" yaml:"subject_pattern,omitempty"`
	// Audience is the value the token's "aud" must contain; empty means
	// the default, the registry's service name (IdentityOptions.Audience).
	Audience string `json:"audience,omitempty" yaml:"audience,omitempty"`
	// Claims are further conditions on the token's claims.
	Claims []ClaimMatch `json:"claims,omitempty" yaml:"claims,omitempty"`
	// AllowAnySubject accepts an identity that pins no subject: every
	// principal the issuer issues tokens to gets its roles.
	AllowAnySubject bool `json:"allow_any_subject,omitempty" yaml:"allow_any_subject,omitempty"`
	// Roles are what a token matching the identity may do.
	Roles []RoleBinding `json:"roles" yaml:"roles"`
}

// ClaimMatch is a condition on one top-level claim of a token: it must
// equal Value, or wholly match the regular expression Pattern (compiled as
// ^(?:pattern)$); exactly one of the two is set.
//
// A string claim is compared as is. A number or boolean claim is compared
// through its JSON text ("123", "true"), so Value "123" matches both the
// string "123" and the number 123. An array claim matches if any of its
// string, number or boolean elements does (so "groups" can be tested for
// membership). Objects and null never match.
//
// Matching "email" also requires the token's "email_verified" to be true
// (the boolean, or the string "true" some providers send): an unverified
// address says nothing about who holds the token.
type ClaimMatch struct {
	Name    string `json:"name" yaml:"name"`
	Value   string `json:"value,omitempty" yaml:"value,omitempty"`
	Pattern string `json:"pattern,omitempty" yaml:"pattern,omitempty"`
}

// IdentityOptions are the registry settings an identity is checked
// against.
type IdentityOptions struct {
	// Audience is the default audience: the registry's service name.
	Audience string
}

// Well-known issuers, used by the presets.
const (
	GitHubActionsIssuer = "https://token.actions.githubusercontent.com"
	GitLabIssuer        = "https://gitlab.com"
)

// ErrInvalidIdentity is wrapped by every error Validate, Compile and
// CompileAll return for a bad identity.
var ErrInvalidIdentity = errors.New("invalid identity")

// Limits on identity fields and key sets.
const (
	maxIDLength      = 64
	maxNameRunes     = 128
	maxFieldLength   = 1024
	maxClaimName     = 128
	maxJWKSSize      = 64 << 10
	maxClaimsPerRule = 32
)

// Validate returns nil if id can be used, or an error wrapping
// ErrInvalidIdentity that lists every problem. It refuses:
//   - an ID or Name outside their character sets;
//   - an issuer that is not https (http only on loopback hosts), or that
//     has user info, a query or a fragment;
//   - IssuerKeys that are not a JWKS of public EC, RSA or OKP keys;
//   - both Subject and SubjectPattern, or a pattern that does not compile;
//   - no audience when opts has no default;
//   - claim matches without a name, with both or neither of value and
//     pattern, or on iss, sub or aud (which have their own fields);
//   - no role binding, or an invalid one;
//   - unless AllowAnySubject, an identity that pins no principal: no
//     Subject, no SubjectPattern that rejects strangers' subjects, and no
//     claim match that names the principal. A pattern "rejects strangers"
//     if it matches none of a fixed set of subjects in the formats of
//     common issuers (GitHub, GitLab, Kubernetes, e-mail, numeric and
//     UUID subjects) that belong to nobody, so ".*", ".+", "^.*$", "\S+"
//     and "repo:.*" are refused. For GitHub Actions only repository,
//     repository_id, repository_owner, repository_owner_id, enterprise and
//     enterprise_id name the principal (ref or environment alone would
//     accept every repository's main branch); for gitlab.com only
//     project_path, project_id, namespace_path and namespace_id; for other
//     issuers any claim except protocol claims (email_verified, azp, amr,
//     acr, nonce, times...).
func (id Identity) Validate(opts IdentityOptions) error {
	_, err := id.Compile(opts)
	return err
}

// Compile validates id as Validate does and prepares it for matching.
// The Matcher keeps its own copy of id.
func (id Identity) Compile(opts IdentityOptions) (*Matcher, error) {
	id = id.clone()
	m := &Matcher{id: id, audience: id.Audience}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if err := checkID(id.ID); err != nil {
		add("id: %v", err)
	}
	if err := checkName(id.Name); err != nil {
		add("name: %v", err)
	}
	if err := checkIssuer(id.Issuer); err != nil {
		add("issuer: %v", err)
	}
	if len(id.IssuerKeys) > 0 {
		keys, err := id.IssuerKeys.check()
		if err != nil {
			add("issuer_keys: %v", err)
		}
		m.keys = keys
	}
	switch {
	case id.Subject != "" && id.SubjectPattern != "":
		add("set subject or subject_pattern, not both")
	case len(id.Subject) > maxFieldLength:
		add("subject: longer than %d bytes", maxFieldLength)
	case id.SubjectPattern != "":
		re, err := compileAnchored(id.SubjectPattern)
		if err != nil {
			add("subject_pattern: %v", err)
		}
		m.subject = re
	}
	if m.audience == "" {
		m.audience = opts.Audience
	}
	if m.audience == "" {
		add("audience: not set, and the registry has no service name to default to")
	} else if len(m.audience) > maxFieldLength || strings.ContainsFunc(m.audience, unicode.IsControl) {
		add("audience: longer than %d bytes or has control characters", maxFieldLength)
	}
	if len(id.Claims) > maxClaimsPerRule {
		add("claims: more than %d", maxClaimsPerRule)
	}
	for i, c := range id.Claims {
		cm, err := compileClaim(c)
		if err != nil {
			add("claims[%d]: %v", i, err)
			continue
		}
		m.claims = append(m.claims, cm)
		if c.Name == "email" {
			m.emailVerified = true
		}
	}
	if len(id.Roles) == 0 {
		add("roles: at least one role binding is required")
	}
	for i, b := range id.Roles {
		if err := b.Validate(); err != nil {
			add("roles[%d]: %v", i, err)
		}
	}
	if len(problems) == 0 && !id.AllowAnySubject {
		if why := m.strangersAccepted(); why != "" {
			add("%s; pin the principal with subject, subject_pattern or claims, or set allow_any_subject to accept every principal of %s on purpose", why, id.Issuer)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w %q: %s", ErrInvalidIdentity, id.ID, strings.Join(problems, "; "))
	}
	return m, nil
}

// CompileAll compiles every identity, as a configuration file or a store
// holds them, and refuses duplicate IDs. The error joins the problems of
// every bad identity.
func CompileAll(ids []Identity, opts IdentityOptions) ([]*Matcher, error) {
	var errs []error
	var out []*Matcher
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id.ID] {
			errs = append(errs, fmt.Errorf("%w %q: duplicate id", ErrInvalidIdentity, id.ID))
			continue
		}
		seen[id.ID] = true
		m, err := id.Compile(opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (id Identity) clone() Identity {
	id.IssuerKeys = slices.Clone(id.IssuerKeys)
	id.Claims = slices.Clone(id.Claims)
	id.Roles = slices.Clone(id.Roles)
	for i := range id.Roles {
		id.Roles[i].Repositories = slices.Clone(id.Roles[i].Repositories)
	}
	return id
}

// compileAnchored compiles pattern to match whole strings only. The
// pattern must compile on its own first: "a)|(.*" would otherwise close
// the anchoring group and become ^(?:a)|(.*)$, which matches anything.
func compileAnchored(pattern string) (*regexp.Regexp, error) {
	if len(pattern) > maxFieldLength {
		return nil, fmt.Errorf("longer than %d bytes", maxFieldLength)
	}
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + pattern + ")$")
}

func compileClaim(c ClaimMatch) (claimMatcher, error) {
	cm := claimMatcher{ClaimMatch: c}
	switch {
	case c.Name == "" || len(c.Name) > maxClaimName:
		return cm, fmt.Errorf("name: want 1 to %d bytes", maxClaimName)
	case strings.ContainsFunc(c.Name, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' || r == '\\' }):
		return cm, fmt.Errorf("name %q: only printable ASCII without spaces, quotes or backslashes", c.Name)
	case c.Name == "iss" || c.Name == "sub" || c.Name == "aud":
		return cm, fmt.Errorf("claim %s: use the identity's %s field", c.Name, map[string]string{"iss": "issuer", "sub": "subject or subject_pattern", "aud": "audience"}[c.Name])
	case (c.Value == "") == (c.Pattern == ""):
		return cm, fmt.Errorf("claim %s: set exactly one of value and pattern", c.Name)
	case len(c.Value) > maxFieldLength:
		return cm, fmt.Errorf("claim %s: value longer than %d bytes", c.Name, maxFieldLength)
	case c.Pattern != "":
		re, err := compileAnchored(c.Pattern)
		if err != nil {
			return cm, fmt.Errorf("claim %s: pattern: %v", c.Name, err)
		}
		cm.re = re
	}
	return cm, nil
}

// checkID enforces the ID character set.
func checkID(s string) error {
	if s == "" || len(s) > maxIDLength {
		return fmt.Errorf("want 1 to %d characters", maxIDLength)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		sep := c == '.' || c == '_' || c == '-'
		if !isAlnum(c) && !(sep && i > 0 && i < len(s)-1) {
			return fmt.Errorf("%q: only a-z, 0-9 and inner '.', '_', '-' are allowed", s)
		}
	}
	return nil
}

// checkName enforces the Name character set.
func checkName(s string) error {
	if utf8.RuneCountInString(s) > maxNameRunes {
		return fmt.Errorf("longer than %d characters", maxNameRunes)
	}
	if strings.TrimSpace(s) != s {
		return errors.New("leading or trailing space")
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" ._-/@:+()#,'&", r) {
			return fmt.Errorf("%q: character %q is not allowed", s, r)
		}
	}
	return nil
}

// checkIssuer accepts https URLs, and http URLs whose host is loopback.
func checkIssuer(s string) error {
	if s == "" {
		return errors.New("required")
	}
	if len(s) > maxFieldLength || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%q: too long, or has spaces or control characters", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q: want an absolute https URL", s)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%q: an issuer has no user info, query or fragment", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q: want https (http is accepted only on loopback hosts)", s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// strangersAccepted returns why m would accept tokens of principals its
// author does not control, or "" if it pins one (see Validate).
func (m *Matcher) strangersAccepted() string {
	if m.id.Subject != "" {
		return ""
	}
	why := "no subject, subject_pattern or principal claim is set"
	if m.subject != nil {
		p, ok := firstMatch(m.subject, strangerSubjects())
		if !ok {
			return ""
		}
		why = fmt.Sprintf("subject_pattern %q matches %q, a subject of an unrelated principal", m.id.SubjectPattern, p)
	}
	principal := principalClaims(m.id.Issuer)
	for _, c := range m.claims {
		if principal != nil && !slices.Contains(principal, c.Name) || principal == nil && protocolClaim(c.Name) {
			continue
		}
		if c.re == nil {
			return ""
		}
		if _, ok := firstMatch(c.re, strangerValues()); !ok {
			return ""
		}
	}
	if principal != nil {
		why += fmt.Sprintf(" (claims that name the principal for this issuer: %s)", strings.Join(principal, ", "))
	}
	return why
}

func firstMatch(re *regexp.Regexp, probes []string) (string, bool) {
	for _, p := range probes {
		if re.MatchString(p) {
			return p, true
		}
	}
	return "", false
}

// strangerSubjects are subjects, in the formats of common issuers, of
// principals nobody configuring a registry controls. A subject pattern
// that matches one accepts strangers.
func strangerSubjects() []string {
	const x = "chainctl-probe-7f3a"
	const uuid = "00000000-0000-4000-8000-00000000f7a3"
	return []string{
		x,
		"987654321012345678901",
		uuid,
		x + "@example.invalid",
		x + "@gmail.com",
		"repo:" + x + "/" + x + ":ref:refs/heads/main",
		"repo:" + x + "/" + x + ":environment:production",
		"repo:" + x + "/" + x + ":pull_request",
		"project_path:" + x + "/" + x + ":ref_type:branch:ref:main",
		"system:serviceaccount:" + x + ":default",
		"organization:" + x + ":pipeline:" + x + ":ref:refs/heads/main:commit:0123456789abcdef:step:build",
		"org/" + uuid + "/project/" + uuid + "/user/" + uuid,
		"auth0|" + x,
	}
}

// strangerValues are claim values of principals nobody configuring a
// registry controls; a claim pattern that matches one pins nothing.
func strangerValues() []string {
	const x = "chainctl-probe-7f3a"
	return []string{x, x + "/" + x, "987654321012", "00000000-0000-4000-8000-00000000f7a3",
		x + "@example.invalid", x + "@gmail.com"}
}

// principalClaims names the claims that pin a principal for issuers whose
// tokens are well known, or nil for other issuers.
func principalClaims(issuer string) []string {
	switch {
	case issuer == GitHubActionsIssuer || strings.HasPrefix(issuer, GitHubActionsIssuer+"/"):
		return []string{"repository", "repository_id", "repository_owner", "repository_owner_id", "enterprise", "enterprise_id"}
	case issuer == GitLabIssuer:
		return []string{"project_path", "project_id", "namespace_path", "namespace_id"}
	}
	return nil
}

// protocolClaim reports whether a claim describes the token rather than
// its holder, and so pins no principal.
func protocolClaim(name string) bool {
	switch name {
	case "email_verified", "azp", "amr", "acr", "auth_time", "nonce", "at_hash", "c_hash", "exp", "iat", "nbf", "jti":
		return true
	}
	return false
}
