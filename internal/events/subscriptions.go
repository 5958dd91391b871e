package events

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/chainctl/chainctl/internal/egress"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

// The management operations on subscriptions, which /api/v1/subscriptions
// (internal/apiv1) serves: only an owner of every repository pattern a
// subscription names may create it, see it and delete it.

// ErrorKind classifies why an operation refused.
type ErrorKind int

// The kinds of refusal.
const (
	KindForbidden ErrorKind = iota + 1
	KindNotFound
	KindInvalid
)

// Refusal is a refusal of a management operation, for people.
type Refusal struct {
	Kind    ErrorKind
	Message string
}

func (e *Refusal) Error() string { return e.Message }

func refuse(kind ErrorKind, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Owner is who asks: an identity with the role bindings it has now.
type Owner struct {
	ID       string
	Bindings []policy.RoleBinding
}

// SubscriptionRequest is what a caller asks a new subscription to be.
type SubscriptionRequest struct {
	Sink         string   `json:"sink"`
	Types        []string `json:"types"`
	Repositories []string `json:"repositories"`
	Description  string   `json:"description"`
}

// SubscriptionView is a subscription as the API shows it, with the
// health of its deliveries.
type SubscriptionView struct {
	ID             string   `json:"id"`
	Sink           string   `json:"sink"`
	Types          []string `json:"types"`
	Repositories   []string `json:"repositories"`
	Description    string   `json:"description,omitempty"`
	Creator        string   `json:"creator"`
	Created        string   `json:"created"`
	Disabled       bool     `json:"disabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	Health         Health   `json:"health"`
}

// Health sums up a subscription's deliveries.
type Health struct {
	LastSuccess string `json:"last_success,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	LastErrorAt string `json:"last_error_at,omitempty"`
	Pending     int64  `json:"pending"`
	Failed      int64  `json:"failed"`
}

// SubscriptionRefresh is how often the set of subscriptions events are
// matched against is read again.
const SubscriptionRefresh = time.Second

const (
	maxSubscriptionPatterns = 64
	maxSink                 = 2048
	maxSubscriptionDesc     = 1000
)

// Subscriptions are the subscriptions: their management operations, and
// the set events are matched against (Matching), read again from the
// store every SubscriptionRefresh by Refresh.
type Subscriptions struct {
	st            SubscriptionStore
	allowPrivate  bool
	allowLoopback bool
	now           func() time.Time

	set      atomic.Pointer[[]matcher]
	mu       sync.Mutex
	version  int64
	loaded   bool
	lastRead atomic.Int64
}

// matcher is a subscription as events are matched against it.
type matcher struct {
	id       string
	types    []string
	patterns []policy.RepositoryPattern
}

// NewSubscriptions returns the subscriptions kept in st. allowPrivate lets
// sinks be http:// and on any address (events.allow_private_sinks, or
// --dev for loopback); otherwise a sink must be https:// on a public
// address, checked here and again at each connection.
func NewSubscriptions(st SubscriptionStore, allowPrivate bool, opts ...SubscriptionsOption) *Subscriptions {
	s := &Subscriptions{st: st, allowPrivate: allowPrivate, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.set.Store(&[]matcher{})
	return s
}

// SubscriptionsOption configures NewSubscriptions.
type SubscriptionsOption func(*Subscriptions)

// WithSubscriptionsClock sets the clock subscriptions are created and
// redelivered by (tests).
func WithSubscriptionsClock(now func() time.Time) SubscriptionsOption {
	return func(s *Subscriptions) { s.now = now }
}

// AllowLoopbackSinks lets sinks be http:// or https:// on loopback
// (--dev: a receiver on the developer's machine, `chainctl events
// listen`), and nothing else private.
func (s *Subscriptions) AllowLoopbackSinks() { s.allowLoopback = true }

// Matching returns the ids of the enabled subscriptions that take an event
// of type typ about repository repo, as of the last Refresh.
func (s *Subscriptions) Matching(typ, repo string) []string {
	var out []string
	for _, m := range *s.set.Load() {
		if m.matches(typ, repo) {
			out = append(out, m.id)
		}
	}
	return out
}

// Refresh reads the subscriptions again if their version changed, or
// always with force.
func (s *Subscriptions) Refresh(ctx context.Context, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastRead.Store(s.now().UnixNano())
	v, err := s.st.SubscriptionsVersion(ctx)
	if err != nil {
		return err
	}
	if s.loaded && v == s.version && !force {
		return nil
	}
	list, err := s.st.ListSubscriptions(ctx)
	if err != nil {
		return err
	}
	set := make([]matcher, 0, len(list))
	for _, sub := range list {
		if sub.Disabled.IsZero() {
			set = append(set, matcherOf(sub))
		}
	}
	s.set.Store(&set)
	s.version, s.loaded = v, true
	return nil
}

// RefreshDue reports whether SubscriptionRefresh has passed since the
// last Refresh.
func (s *Subscriptions) RefreshDue() bool {
	return s.now().UnixNano()-s.lastRead.Load() >= int64(SubscriptionRefresh)
}

// Create makes a subscription for the caller, who must own every pattern
// it names.
func (s *Subscriptions) Create(ctx context.Context, caller Owner, req SubscriptionRequest) (SubscriptionView, error) {
	if err := s.checkSink(req.Sink); err != nil {
		return SubscriptionView{}, err
	}
	types, err := eventTypes(req.Types)
	if err != nil {
		return SubscriptionView{}, err
	}
	switch {
	case len(req.Description) > maxSubscriptionDesc || strings.ContainsFunc(req.Description, unicode.IsControl):
		return SubscriptionView{}, refuse(KindInvalid, "description must be at most %d printable characters", maxSubscriptionDesc)
	case len(req.Repositories) == 0:
		return SubscriptionView{}, refuse(KindInvalid, "repositories is required: the repository patterns whose events to deliver (\"acme/app\", \"acme/*\")")
	case len(req.Repositories) > maxSubscriptionPatterns:
		return SubscriptionView{}, refuse(KindInvalid, "a subscription names at most %d repository patterns", maxSubscriptionPatterns)
	}
	repos := slices.Compact(slices.Sorted(slices.Values(req.Repositories)))
	var patterns []policy.RepositoryPattern
	for _, r := range repos {
		p := policy.RepositoryPattern(r)
		if err := p.Validate(); err != nil {
			return SubscriptionView{}, refuse(KindInvalid, "repository pattern %q: %v", r, err)
		}
		patterns = append(patterns, p)
	}
	if err := policy.CanGrant(caller.Bindings, []policy.RoleBinding{{Role: policy.RoleViewer, Repositories: patterns}}); err != nil {
		return SubscriptionView{}, refuse(KindForbidden, "only an owner of every repository a subscription names may create it: %s",
			strings.TrimPrefix(err.Error(), policy.ErrDenied.Error()+": "))
	}
	sub := store.Subscription{ID: newSubscriptionID(), Sink: req.Sink, Types: types, Repositories: repos,
		Description: req.Description, Creator: caller.ID, Created: s.now()}
	if err := s.st.PutSubscription(ctx, sub); err != nil {
		return SubscriptionView{}, err
	}
	if err := s.Refresh(ctx, true); err != nil {
		return SubscriptionView{}, err
	}
	return s.view(ctx, sub)
}

// checkSink refuses a sink the registry must not post to: anything but
// https:// on a name or public address, unless private sinks are allowed.
func (s *Subscriptions) checkSink(sink string) error {
	if sink == "" || len(sink) > maxSink {
		return refuse(KindInvalid, "sink is required: the https:// URL events are posted to (at most %d bytes)", maxSink)
	}
	u, err := url.Parse(sink)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "" {
		return refuse(KindInvalid, "sink %q: want an absolute http(s) URL without user info or fragment", sink)
	}
	loopback := s.allowLoopback && (isLoopbackHost(u.Hostname()) || strings.EqualFold(u.Hostname(), "localhost"))
	if s.allowPrivate || loopback {
		if u.Scheme != "https" && u.Scheme != "http" {
			return refuse(KindInvalid, "sink %q: scheme must be https or http", sink)
		}
		return nil
	}
	if err := egress.CheckURL(sink, true); err != nil {
		msg := err.Error()
		if errors.Is(err, egress.ErrNotPublic) || isLoopbackHost(u.Hostname()) {
			msg += " (sinks must be public https:// URLs; loopback is allowed in --dev, private addresses with events.allow_private_sinks)"
		}
		return refuse(KindInvalid, "%s", msg)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// eventTypes resolves the types a request names: "push", "pull" or the
// full type names; none means both.
func eventTypes(names []string) ([]string, error) {
	if len(names) == 0 {
		return []string{TypePull, TypePush}, nil
	}
	var out []string
	for _, n := range names {
		switch n {
		case "push", TypePush:
			out = append(out, TypePush)
		case "pull", TypePull:
			out = append(out, TypePull)
		default:
			return nil, refuse(KindInvalid, "event type %q: want push or pull", n)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out))), nil
}

// List returns the subscriptions the caller owns every pattern of.
func (s *Subscriptions) List(ctx context.Context, caller Owner) ([]SubscriptionView, error) {
	list, err := s.st.ListSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := []SubscriptionView{}
	for _, sub := range list {
		if owns(caller, sub) {
			v, err := s.view(ctx, sub)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// Get returns one subscription the caller owns every pattern of.
func (s *Subscriptions) Get(ctx context.Context, caller Owner, id string) (SubscriptionView, error) {
	sub, err := s.owned(ctx, caller, id)
	if err != nil {
		return SubscriptionView{}, err
	}
	return s.view(ctx, *sub)
}

// Delete removes a subscription the caller owns every pattern of, with
// its pending deliveries.
func (s *Subscriptions) Delete(ctx context.Context, caller Owner, id string) error {
	if _, err := s.owned(ctx, caller, id); err != nil {
		return err
	}
	if err := s.st.DeleteSubscription(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return refuse(KindNotFound, "no subscription %q", id)
		}
		return err
	}
	return s.Refresh(ctx, true)
}

func (s *Subscriptions) owned(ctx context.Context, caller Owner, id string) (*store.Subscription, error) {
	sub, err := s.st.GetSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !owns(caller, *sub) {
		return nil, refuse(KindNotFound, "no subscription %q", id)
	}
	return sub, err
}

func owns(caller Owner, sub store.Subscription) bool {
	return len(sub.Repositories) > 0 && !slices.ContainsFunc(sub.Repositories, func(r string) bool {
		return !policy.Manages(caller.Bindings, policy.RepositoryPattern(r))
	})
}

func (s *Subscriptions) view(ctx context.Context, sub store.Subscription) (SubscriptionView, error) {
	h, err := s.st.SubscriptionHealth(ctx, sub.ID)
	if err != nil {
		return SubscriptionView{}, err
	}
	v := SubscriptionView{
		ID: sub.ID, Sink: sub.Sink, Repositories: sub.Repositories, Description: sub.Description,
		Creator: sub.Creator, Created: sub.Created.UTC().Format(time.RFC3339),
		Disabled: !sub.Disabled.IsZero(), DisabledReason: sub.DisabledReason,
		Health: Health{LastError: h.LastError, Pending: h.Pending, Failed: h.Failed},
	}
	for _, t := range sub.Types {
		v.Types = append(v.Types, ShortType(t))
	}
	if !h.LastSuccess.IsZero() {
		v.Health.LastSuccess = h.LastSuccess.UTC().Format(time.RFC3339)
	}
	if !h.LastErrorAt.IsZero() {
		v.Health.LastErrorAt = h.LastErrorAt.UTC().Format(time.RFC3339)
	}
	return v, nil
}

// newSubscriptionID returns "sub-" and 20 lower-case base32 characters.
func newSubscriptionID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "sub-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
}
