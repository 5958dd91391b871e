// Package principal names who a request acts as: the registry identities
// its token was issued to (each as the incarnation it was then), the
// upstream issuer and subject they act for (a CI job, a person), or no one
// (anonymous). The token service finds it; the registry puts it in the
// request's context, where whatever must name the actor (an upload's
// owner, a log line, later an event or an audit row) reads it.
package principal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
)

// Identity is a registry identity as a token names it.
type Identity struct {
	ID          string
	Incarnation string
}

// Principal is who a request acts as. The zero Principal is anonymous.
type Principal struct {
	// Identities are the registry identities acting, in the order the
	// token names them; none for anonymous.
	Identities []Identity
	// Issuer and Subject are the upstream principal the identities act
	// for (RFC 8693 "act"), when known.
	Issuer, Subject string
	// PullToken is the id of the pull token acting, when a pull token's
	// access token was sent; it names no identity.
	PullToken string
}

// Anonymous reports whether p names no one.
func (p Principal) Anonymous() bool {
	return len(p.Identities) == 0 && p.Subject == "" && p.PullToken == ""
}

// IDs returns the ids of p's identities.
func (p Principal) IDs() []string {
	out := make([]string, len(p.Identities))
	for i, id := range p.Identities {
		out[i] = id.ID
	}
	return out
}

// Key is a fixed-length string that is the same for the same principal
// and differs for any other: the identities and their incarnations and the
// upstream issuer and subject all count. Records that belong to a
// principal (an upload session) keep it. Anonymous is "".
func (p Principal) Key() string {
	if p.Anonymous() {
		return ""
	}
	var b strings.Builder
	for _, id := range p.Identities {
		b.WriteString(id.ID)
		b.WriteByte('@')
		b.WriteString(id.Incarnation)
		b.WriteByte(' ')
	}
	// NUL cannot appear in a URL or a JSON string an issuer or subject
	// came from, so the parts cannot run into each other.
	b.WriteByte(0)
	b.WriteString(p.Issuer)
	b.WriteByte(0)
	b.WriteString(p.Subject)
	b.WriteByte(0)
	b.WriteString(p.PullToken)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// String names p for people: "identity team-ci (https://token.actions...
// repo:acme/app:ref:refs/heads/main)", or "anonymous".
func (p Principal) String() string {
	if p.Anonymous() {
		return "anonymous"
	}
	if p.PullToken != "" {
		return "pull token " + p.PullToken
	}
	s := "identity " + strings.Join(p.IDs(), " ")
	if p.Subject != "" {
		s += " (" + p.Issuer + " " + p.Subject + ")"
	}
	return s
}

// LogValue implements slog.LogValuer.
func (p Principal) LogValue() slog.Value {
	if p.Anonymous() {
		return slog.StringValue("anonymous")
	}
	if p.PullToken != "" {
		return slog.GroupValue(slog.String("pull_token", p.PullToken))
	}
	return slog.GroupValue(
		slog.String("identity", strings.Join(p.IDs(), " ")),
		slog.String("iss", p.Issuer),
		slog.String("sub", p.Subject),
	)
}

type contextKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, contextKey{}, p)
}

// FromContext returns the principal ctx carries, and whether it carries
// one.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(contextKey{}).(Principal)
	return p, ok
}
