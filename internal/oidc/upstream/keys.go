package upstream

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// issuerKeys caches one issuer's keys.
type issuerKeys struct {
	mu sync.Mutex
	// static is the configured JWKS the keys were parsed from, nil for an
	// issuer whose keys are discovered.
	static []byte
	keys   []jose.JSONWebKey
	// fetchedAt is when the keys were last fetched successfully.
	fetchedAt time.Time
	// attemptedAt is when the last fetch started; it rate-limits fetches.
	attemptedAt time.Time
	lastErr     error
	inflight    *fetchCall
}

// fetchCall is one fetch, shared by every caller that wants its result.
type fetchCall struct {
	done chan struct{}
}

func (v *Verifier) entry(issuer string) *issuerKeys {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.cache[issuer]
	if !ok {
		e = &issuerKeys{}
		v.cache[issuer] = e
	}
	return e
}

// keys returns the keys of is that may verify a signature by alg with key id
// kid (any key id when kid is empty). For a discovered issuer, keys are
// fetched when none are cached, when the cache is older than keyTTL, or when
// no cached key fits; fetches of one issuer are at most one per
// refetchInterval and are shared by concurrent callers.
func (v *Verifier) keys(ctx context.Context, is Issuer, kid string, alg jose.SignatureAlgorithm) ([]jose.JSONWebKey, error) {
	e := v.entry(is.URL)
	if len(is.JWKS) > 0 {
		return e.staticKeys(is, kid, alg)
	}
	for {
		e.mu.Lock()
		if e.static != nil { // the issuer was static before; start afresh
			e.static, e.keys, e.fetchedAt, e.attemptedAt, e.lastErr = nil, nil, time.Time{}, time.Time{}, nil
		}
		now := v.now()
		fits := fittingKeys(e.keys, kid, alg)
		fresh := e.keys != nil && now.Sub(e.fetchedAt) < v.keyTTL
		if len(fits) > 0 && fresh {
			e.mu.Unlock()
			return fits, nil
		}
		if call := e.inflight; call != nil {
			e.mu.Unlock()
			select {
			case <-call.done:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: waiting for keys of %q: %w", ErrUnavailable, is.URL, ctx.Err())
			}
		}
		if !e.attemptedAt.IsZero() && now.Sub(e.attemptedAt) < v.refetchInterval {
			// Rate-limited: answer from what we have.
			lastErr := e.lastErr
			e.mu.Unlock()
			switch {
			case len(fits) > 0: // stale, and the last refresh failed
				return fits, nil
			case lastErr != nil:
				return nil, lastErr
			default:
				v.log.DebugContext(ctx, "upstream key refetch rate-limited", "issuer", is.URL, "kid", kid)
				return nil, fmt.Errorf("%w: no key of %q fits kid %q and alg %s", ErrInvalidToken, is.URL, kid, alg)
			}
		}
		call := &fetchCall{done: make(chan struct{})}
		e.inflight, e.attemptedAt = call, now
		e.mu.Unlock()
		// The fetch belongs to every waiter, not to this caller: it runs
		// detached from this caller's cancellation, bounded by fetchTimeout.
		go v.refresh(context.WithoutCancel(ctx), e, is, call)
	}
}

// refresh fetches the keys of issuer into e and ends call.
func (v *Verifier) refresh(ctx context.Context, e *issuerKeys, is Issuer, call *fetchCall) {
	issuer := is.URL
	keys, err := v.fetchKeys(ctx, is)
	e.mu.Lock()
	defer e.mu.Unlock()
	defer close(call.done)
	e.inflight = nil
	if e.static != nil {
		return // the issuer became static meanwhile
	}
	if err != nil {
		v.log.WarnContext(ctx, "fetching upstream issuer keys failed", "issuer", issuer, "error", err, "cached_keys", len(e.keys))
		e.lastErr = err
		return
	}
	v.log.DebugContext(ctx, "fetched upstream issuer keys", "issuer", issuer, "keys", len(keys))
	e.keys, e.fetchedAt, e.lastErr = keys, v.now(), nil
}

// staticKeys returns the fitting keys of a statically configured issuer,
// reparsing its JWKS only when the configuration changed.
func (e *issuerKeys) staticKeys(is Issuer, kid string, alg jose.SignatureAlgorithm) ([]jose.JSONWebKey, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.static == nil || !bytes.Equal(e.static, is.JWKS) {
		keys, err := parseKeySet(is.JWKS)
		if err != nil {
			return nil, fmt.Errorf("%w: static keys of %q: %w", ErrIssuer, is.URL, err)
		}
		e.static = append([]byte(nil), is.JWKS...)
		e.keys, e.fetchedAt, e.attemptedAt, e.lastErr = keys, time.Time{}, time.Time{}, nil
	}
	fits := fittingKeys(e.keys, kid, alg)
	if len(fits) == 0 {
		return nil, fmt.Errorf("%w: no key of %q fits kid %q and alg %s", ErrInvalidToken, is.URL, kid, alg)
	}
	return fits, nil
}

func fittingKeys(keys []jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) []jose.JSONWebKey {
	var fits []jose.JSONWebKey
	for _, k := range keys {
		if (kid == "" || k.KeyID == kid) && keyFits(k, alg) {
			fits = append(fits, k)
		}
	}
	return fits
}
