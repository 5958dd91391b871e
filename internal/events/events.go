// Package events turns what the registry serves into events: every push
// and every pull, succeeded or failed, as a CloudEvent of type
// dev.chainctl.registry.push.v1 or dev.chainctl.registry.pull.v1, kept in
// the metadata store's event log.
//
// A push's event is written in the transaction of the write it reports
// (Recorder.Push returns the store.TxFunc that does it): an acknowledged
// push always has its event, and a push that did not commit never has one.
// Pulls and failures must not slow the request path: Recorder.Record
// queues them and Recorder.Run writes them in batches, so a crash can lose
// the last batch of pull and failure events, never a push event.
package events

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/principal"
)

// The event types.
const (
	TypePush = "dev.chainctl.registry.push.v1"
	TypePull = "dev.chainctl.registry.pull.v1"
)

// What an event is about.
const (
	KindManifest = "manifest"
	KindBlob     = "blob"
)

// Data is an event's data, as JSON in the CloudEvent.
type Data struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	MediaType  string `json:"media_type,omitempty"`
	// Type is KindManifest or KindBlob.
	Type string `json:"type"`
	// Method is the HTTP method of the request.
	Method string `json:"method"`
	// When is when the request was served.
	When       time.Time `json:"when"`
	RemoteAddr string    `json:"remote_addr,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	Actor      Actor     `json:"actor"`
	// Previous is the digest the tag pointed at before a push moved it.
	Previous string `json:"previous,omitempty"`
	// Error is set when the request failed.
	Error *Error `json:"error,omitempty"`
}

// Actor is who acted: registry identities and the upstream issuer and
// subject they acted for, a pull token, or no one (anonymous).
type Actor struct {
	Identities []string `json:"identities,omitempty"`
	Issuer     string   `json:"issuer,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	PullToken  string   `json:"pull_token,omitempty"`
	Anonymous  bool     `json:"anonymous,omitempty"`
}

// ActorOf is the actor of a request's principal.
func ActorOf(p principal.Principal) Actor {
	if p.Anonymous() {
		return Actor{Anonymous: true}
	}
	return Actor{Identities: p.IDs(), Issuer: p.Issuer, Subject: p.Subject, PullToken: p.PullToken}
}

// Key names the actor in one string, for queries of the event log:
// "pull-token:<id>", "identity:<id>[ <id>...]" or "anonymous".
func (a Actor) Key() string {
	switch {
	case a.PullToken != "":
		return "pull-token:" + a.PullToken
	case len(a.Identities) > 0:
		return "identity:" + strings.Join(a.Identities, " ")
	}
	return "anonymous"
}

// Error is a failed request's answer.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// subject is the CloudEvents subject of d: repository:tag, or
// repository@digest.
func (d *Data) subject() string {
	switch {
	case d.Tag != "":
		return d.Repository + ":" + d.Tag
	case d.Digest != "":
		return d.Repository + "@" + d.Digest
	}
	return d.Repository
}

// newID returns a new id for an event that happened at: 32 hex digits,
// the first 12 at in Unix milliseconds and the rest 80 random bits. Ids
// that grow with time keep the event log's unique index appending at its
// end rather than writing all over it, which a busy registry's thousands
// of pulls a second feel. The event's own time, not the time the id is
// made (a blob pull's event is recorded when its response has ended), so
// that an id says when to look for its event.
func newID(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
