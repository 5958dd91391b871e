package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/policy"
)

// An identity's incarnation tells it apart from every other identity ever
// known under the same id. Session and access tokens name the incarnation
// of each identity they were issued to (the "inc" claim), and are honoured
// only while that incarnation exists: deleting identity gamma and creating
// gamma again, for another subject, must not revive the old gamma's tokens.
//
//   - An identity created through the API gets a random incarnation when it
//     is created, kept in the store beside it.
//   - A configured identity's incarnation is a fingerprint of what it
//     accepts (issuer, keys, subject, audience, claims): editing who it
//     admits in the configuration makes a new incarnation, while renaming it
//     or changing its roles (re-checked on every request anyway) does not.

// newIncarnation returns a fresh random incarnation for an identity
// created through the API.
func newIncarnation() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// configuredIncarnation is the incarnation of a configured identity: the
// fingerprint of its matching conditions.
func configuredIncarnation(id policy.Identity) string {
	b, _ := json.Marshal(struct {
		Issuer, IssuerKeys, Subject, SubjectPattern, Audience string
		Claims                                                []policy.ClaimMatch
		AllowAnySubject                                       bool
	}{id.Issuer, string(id.IssuerKeys), id.Subject, id.SubjectPattern, id.Audience, id.Claims, id.AllowAnySubject})
	sum := sha256.Sum256(b)
	return "c" + hex.EncodeToString(sum[:15])
}

// currentIncarnations reports whether every identity in ids exists now as
// the incarnation claimed names, and the claim names no other.
func (c *compiled) currentIncarnations(ids []string, claimed map[string]string) bool {
	if len(ids) == 0 || len(claimed) != len(ids) {
		return false
	}
	for _, id := range ids {
		inc, ok := c.incarnation[id]
		if !ok || inc == "" || claimed[id] != inc {
			return false
		}
	}
	return true
}

// incarnationsOf returns the incarnations of ids as they are in c, for a
// token's "inc" claim.
func (c *compiled) incarnationsOf(ids []string) map[string]string {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		out[id] = c.incarnation[id]
	}
	return out
}

// sessionIdentity checks a verified session token against the identities
// as they are now: its identity must exist as the incarnation it was
// issued to. It returns that identity's role bindings.
func (c *compiled) sessionIdentity(claims *issuer.Claims) ([]policy.RoleBinding, bool) {
	roles, ok := c.rolesByID[claims.Subject]
	if !ok || !c.currentIncarnations([]string{claims.Subject}, claims.Incarnations) {
		return nil, false
	}
	return roles, true
}
