package tokencache

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Kinds of Entry.
const (
	// KindSession is a short-lived registry session token obtained by
	// login or token exchange; it always has an Expiry.
	KindSession = "session"
	// KindStored is a credential handed to the helper's store (docker
	// login, oras login), e.g. a pull token; it may have no Expiry.
	KindStored = "stored"
)

// Entry is one host's cached credential.
type Entry struct {
	Kind     string    `json:"kind"`
	Token    string    `json:"token"`
	Identity string    `json:"identity,omitempty"`
	Username string    `json:"username,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
	Issued   time.Time `json:"issued,omitzero"`
}

func (e Entry) validate() error {
	switch e.Kind {
	case KindSession:
		if e.Expiry.IsZero() {
			return errors.New("session entry without expiry")
		}
	case KindStored:
	default:
		return fmt.Errorf("unknown entry kind %q", e.Kind)
	}
	if e.Token == "" {
		return errors.New("entry without token")
	}
	return nil
}

// UsableAt reports whether e may be handed out at now: it has a token and
// at least minLife of life left. An entry without expiry is usable only if
// it is KindStored. A negative minLife counts as zero.
func (e Entry) UsableAt(now time.Time, minLife time.Duration) bool {
	if e.Token == "" {
		return false
	}
	if e.Kind != KindSession && e.Kind != KindStored {
		return false
	}
	if e.Expiry.IsZero() {
		return e.Kind == KindStored
	}
	if minLife < 0 {
		minLife = 0
	}
	return e.Expiry.Sub(now) >= minLife
}

// redacted is what the formatting methods show instead of the token.
func (e Entry) redacted() string {
	tok := ""
	if e.Token != "" {
		tok = "REDACTED"
	}
	return fmt.Sprintf("{Kind:%s Token:%s Identity:%s Username:%s Expiry:%s Issued:%s}",
		e.Kind, tok, e.Identity, e.Username, e.Expiry.Format(time.RFC3339), e.Issued.Format(time.RFC3339))
}

// String hides the token.
func (e Entry) String() string { return e.redacted() }

// GoString hides the token from %#v.
func (e Entry) GoString() string { return "tokencache.Entry" + e.redacted() }

// LogValue hides the token from log/slog.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", e.Kind),
		slog.Bool("token_set", e.Token != ""),
		slog.String("identity", e.Identity),
		slog.String("username", e.Username),
		slog.Time("expiry", e.Expiry),
		slog.Time("issued", e.Issued),
	)
}
