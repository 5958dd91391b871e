package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Matcher is a compiled Identity (see Identity.Compile). It is immutable
// and safe for concurrent use.
type Matcher struct {
	id            Identity
	audience      string         // the effective audience
	keys          []byte         // compact IssuerKeys, nil when keys are discovered
	subject       *regexp.Regexp // the anchored SubjectPattern, or nil
	claims        []claimMatcher
	emailVerified bool // an email claim is matched, so email_verified must be true
}

type claimMatcher struct {
	ClaimMatch
	re *regexp.Regexp // the anchored Pattern, or nil for Value
}

// Identity returns a copy of the identity m was compiled from.
func (m *Matcher) Identity() Identity { return m.id.clone() }

// ID returns the id of the identity m matches for.
func (m *Matcher) ID() string { return m.id.ID }

// Audience returns the audience tokens must carry: the identity's own, or
// the default it was compiled with.
func (m *Matcher) Audience() string { return m.audience }

// Token is an upstream OIDC token whose signature, expiry and issuer the
// caller has already verified (internal/oidc/upstream does that).
type Token struct {
	// Issuer is the token's "iss", the issuer whose keys verified it.
	Issuer string
	// Keys is the static key set (an identity's IssuerKeys) that verified
	// the signature, or nil when the keys the issuer publishes did. An
	// identity only matches tokens verified by its own key source: without
	// this, anyone allowed to create an identity with issuer_keys for a
	// well-known issuer could sign tokens that other identities of that
	// issuer accept.
	Keys JWKS
	// Claims are the token's claims as decoded from JSON: strings, bools,
	// float64 or json.Number, []any, map[string]any, nil.
	Claims map[string]any
}

// Check names the part of an identity that a token failed.
type Check string

// The checks, in the order Match runs them.
const (
	CheckIssuer     Check = "issuer"
	CheckIssuerKeys Check = "issuer_keys"
	CheckAudience   Check = "audience"
	CheckSubject    Check = "subject"
	CheckClaim      Check = "claim"
)

// FailureKind says how a check failed.
type FailureKind string

// The failure kinds.
const (
	// KindMismatch: the value is there, with the right type, and differs.
	KindMismatch FailureKind = "mismatch"
	// KindMissing: the token lacks the claim.
	KindMissing FailureKind = "missing"
	// KindWrongType: the claim has a type that can never match.
	KindWrongType FailureKind = "wrong_type"
)

// Failure is one failed check, with a reason written for the person
// configuring federation, e.g. `claim repository_id is "123", want "456"`.
type Failure struct {
	Check  Check       `json:"check"`
	Kind   FailureKind `json:"kind"`
	Claim  string      `json:"claim,omitempty"` // the claim, for CheckClaim
	Reason string      `json:"reason"`
}

// Result says whether a token matched one identity, and if not, why.
type Result struct {
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	Matched  bool      `json:"matched"`
	Failures []Failure `json:"failures,omitempty"`
}

// String returns "matched" or the reasons of the failures joined by "; ".
func (r Result) String() string {
	if r.Matched {
		return "matched"
	}
	reasons := make([]string, len(r.Failures))
	for i, f := range r.Failures {
		reasons[i] = f.Reason
	}
	return strings.Join(reasons, "; ")
}

// Match tests tok against each matcher and returns one Result per
// matcher, in order. The caller picks among the matched ones (the token
// exchange takes the one the client names); "chainctl iam identities
// test" shows them all.
func Match(ms []*Matcher, tok Token) []Result {
	keys := compactKeys(tok.Keys)
	out := make([]Result, len(ms))
	for i, m := range ms {
		out[i] = m.match(tok, keys)
	}
	return out
}

// Match tests tok against m. A token from another issuer, or verified by
// another key source, fails on that alone; otherwise every failing check
// is reported.
func (m *Matcher) Match(tok Token) Result { return m.match(tok, compactKeys(tok.Keys)) }

func (m *Matcher) match(tok Token, keys []byte) Result {
	r := Result{ID: m.id.ID, Name: m.id.Name}
	fail := func(c Check, k FailureKind, claim, format string, args ...any) {
		r.Failures = append(r.Failures, Failure{Check: c, Kind: k, Claim: claim, Reason: fmt.Sprintf(format, args...)})
	}
	switch {
	case tok.Issuer != m.id.Issuer:
		fail(CheckIssuer, KindMismatch, "", "issuer is %s, want %s", quote(tok.Issuer), quote(m.id.Issuer))
	case m.keys == nil && keys != nil:
		fail(CheckIssuerKeys, KindMismatch, "", "token was verified with static issuer_keys, but this identity trusts the keys its issuer publishes")
	case m.keys != nil && keys == nil:
		fail(CheckIssuerKeys, KindMismatch, "", "token was verified with the keys its issuer publishes, but this identity trusts only its issuer_keys")
	case !bytes.Equal(m.keys, keys):
		fail(CheckIssuerKeys, KindMismatch, "", "token was verified with other issuer_keys than this identity's")
	}
	if len(r.Failures) > 0 {
		return r
	}

	if k, reason := m.checkAudience(tok.Claims); reason != "" {
		fail(CheckAudience, k, "", "%s", reason)
	}
	if k, reason := m.checkSubject(tok.Claims); reason != "" {
		fail(CheckSubject, k, "", "%s", reason)
	}
	for _, c := range m.claims {
		if k, reason := c.check(tok.Claims); reason != "" {
			fail(CheckClaim, k, c.Name, "%s", reason)
		}
	}
	if m.emailVerified {
		if k, reason := checkEmailVerified(tok.Claims); reason != "" {
			fail(CheckClaim, k, "email_verified", "%s", reason)
		}
	}
	r.Matched = len(r.Failures) == 0
	return r
}

// compactKeys returns the canonical form of a token's key set, nil for
// none. A key set that is not JSON stays as it is, and so equals no
// identity's.
func compactKeys(k JWKS) []byte {
	if len(k) == 0 {
		return nil
	}
	c, err := canonicalJSON(k)
	if err != nil {
		return k
	}
	return c
}

// checkAudience requires "aud", a string or an array of strings, to
// contain the audience exactly.
func (m *Matcher) checkAudience(claims map[string]any) (FailureKind, string) {
	v, ok := claims["aud"]
	if !ok {
		return KindMissing, fmt.Sprintf("aud is missing, want %s", quote(m.audience))
	}
	switch v := v.(type) {
	case string:
		if v == m.audience {
			return "", ""
		}
		return KindMismatch, fmt.Sprintf("aud is %s, want %s", quote(v), quote(m.audience))
	case []any, []string:
		elems, _ := asArray(v)
		for _, e := range elems {
			if s, ok := e.(string); ok && s == m.audience {
				return "", ""
			}
		}
		return KindMismatch, fmt.Sprintf("aud %s does not contain %s", describe(v), quote(m.audience))
	}
	return KindWrongType, fmt.Sprintf("aud is %s, want a string or an array of strings", typeName(v))
}

// checkSubject applies Subject or SubjectPattern to "sub".
func (m *Matcher) checkSubject(claims map[string]any) (FailureKind, string) {
	if m.id.Subject == "" && m.subject == nil {
		return "", ""
	}
	want := quote(m.id.Subject)
	if m.subject != nil {
		want = "a match for subject_pattern " + quote(m.id.SubjectPattern)
	}
	v, ok := claims["sub"]
	if !ok {
		return KindMissing, "sub is missing, want " + want
	}
	s, ok := v.(string)
	switch {
	case !ok:
		return KindWrongType, fmt.Sprintf("sub is %s, want a string", typeName(v))
	case m.subject != nil && !m.subject.MatchString(s):
		return KindMismatch, fmt.Sprintf("sub %s does not match subject_pattern %s", quote(s), quote(m.id.SubjectPattern))
	case m.subject == nil && s != m.id.Subject:
		return KindMismatch, fmt.Sprintf("sub is %s, want %s", quote(s), want)
	}
	return "", ""
}

// check applies one claim match (see ClaimMatch).
func (c claimMatcher) check(claims map[string]any) (FailureKind, string) {
	want := quote(c.Value)
	if c.re != nil {
		want = "a match for pattern " + quote(c.Pattern)
	}
	v, ok := claims[c.Name]
	if !ok {
		return KindMissing, fmt.Sprintf("claim %s is missing, want %s", c.Name, want)
	}
	if s, ok := scalarText(v); ok {
		if c.matches(s) {
			return "", ""
		}
		if c.re != nil {
			return KindMismatch, fmt.Sprintf("claim %s %s does not match pattern %s", c.Name, describe(v), quote(c.Pattern))
		}
		return KindMismatch, fmt.Sprintf("claim %s is %s, want %s", c.Name, describe(v), want)
	}
	if elems, ok := asArray(v); ok {
		scalars := 0
		for _, e := range elems {
			if s, ok := scalarText(e); ok {
				scalars++
				if c.matches(s) {
					return "", ""
				}
			}
		}
		if scalars > 0 || len(elems) == 0 {
			if c.re != nil {
				return KindMismatch, fmt.Sprintf("claim %s %s has no element matching pattern %s", c.Name, describe(v), quote(c.Pattern))
			}
			return KindMismatch, fmt.Sprintf("claim %s %s has no element equal to %s", c.Name, describe(v), want)
		}
	}
	return KindWrongType, fmt.Sprintf("claim %s is %s, want a string, number, boolean or an array of them", c.Name, typeName(v))
}

func (c claimMatcher) matches(s string) bool {
	if c.re != nil {
		return c.re.MatchString(s)
	}
	return s == c.Value
}

// checkEmailVerified requires "email_verified" to be true, or "true".
func checkEmailVerified(claims map[string]any) (FailureKind, string) {
	const why = " (an identity that matches email requires a verified address)"
	v, ok := claims["email_verified"]
	switch v := v.(type) {
	case bool:
		if v {
			return "", ""
		}
	case string:
		if v == "true" {
			return "", ""
		}
	default:
		if !ok {
			return KindMissing, "claim email_verified is missing, want true" + why
		}
		return KindWrongType, fmt.Sprintf("claim email_verified is %s, want true%s", typeName(v), why)
	}
	return KindMismatch, fmt.Sprintf("claim email_verified is %s, want true%s", describe(v), why)
}

// scalarText returns the text a string, number or boolean claim is
// compared as: the string itself, or its JSON text. Integral numbers
// decoded as float64 are written without exponent or fraction (1e6 reads
// "1000000"), as they appeared in the token.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		if f, err := v.Float64(); err == nil && isIntegral(f) {
			return strconv.FormatInt(int64(f), 10), true
		}
		return v.String(), true
	case float64:
		if isIntegral(v) {
			return strconv.FormatInt(int64(v), 10), true
		}
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

// isIntegral reports whether f is a whole number that int64 holds exactly.
func isIntegral(f float64) bool { return f == math.Trunc(f) && math.Abs(f) < 1<<53 }

// asArray returns the elements of a []any or []string.
func asArray(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Bounds on how much of a claim value a reason shows.
const (
	maxShownBytes    = 200
	maxShownElements = 10
)

// describe renders a claim value for a reason: strings quoted, numbers and
// booleans as JSON, arrays as ["a", "b"], long ones shortened.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	if s, ok := scalarText(v); ok {
		return s
	}
	if elems, ok := asArray(v); ok {
		parts := make([]string, 0, min(len(elems), maxShownElements+1))
		for i, e := range elems {
			if i == maxShownElements {
				parts = append(parts, fmt.Sprintf("… %d more", len(elems)-i))
				break
			}
			parts = append(parts, describe(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return typeName(v)
}

// typeName names a claim value's JSON type with an article.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any, []string:
		return "an array"
	case map[string]any:
		return "an object"
	}
	if _, ok := scalarText(v); ok {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// quote quotes s as Go does, shortened to maxShownBytes on a rune
// boundary so that a hostile token cannot flood the output.
func quote(s string) string {
	if len(s) <= maxShownBytes {
		return strconv.Quote(s)
	}
	cut := maxShownBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
