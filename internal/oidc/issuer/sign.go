package issuer

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sign returns c as a JWT (RFC 7519) signed with the newest active key:
// ES256, with "kid" and "typ": "JWT" in the header.
//
// c.Issuer must be empty (it is set to the issuer URL) or the issuer URL.
// c.Audience must not be empty. c.Expiry is required, must be in the
// future and no later than the max token lifetime from now, which is what
// lets a retired key be deleted safely. A zero c.IssuedAt is now, a zero
// c.NotBefore is c.IssuedAt, and an empty c.ID is a random one. Times are
// truncated to whole seconds.
func (i *Issuer) Sign(ctx context.Context, c Claims) (string, error) {
	now := i.now()
	switch {
	case c.Issuer != "" && c.Issuer != i.url:
		return "", fmt.Errorf("sign: issuer %q is not %q", c.Issuer, i.url)
	case len(c.Audience) == 0 || c.Audience[0] == "":
		return "", errors.New("sign: no audience")
	case c.Expiry.IsZero():
		return "", errors.New("sign: no expiry")
	case !c.Expiry.After(now):
		return "", fmt.Errorf("sign: expiry %v is not after now", c.Expiry)
	case c.Expiry.Sub(now) > i.maxLifetime:
		return "", fmt.Errorf("sign: lifetime %v exceeds the maximum %v", c.Expiry.Sub(now).Round(time.Second), i.maxLifetime)
	}
	c.Issuer = i.url
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt
	}
	if c.ID == "" {
		c.ID = rand.Text()
	}

	k, err := i.signingKey(ctx)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	// The claims are marshaled once and signed as they are: go-jose's
	// jwt builder would marshal them, decode them into a map and marshal
	// that again, which cost as much as the signature itself. Every
	// access token and every event delivery is signed here.
	payload, err := json.Marshal(c.wire())
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.id, err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.id, err)
	}
	return raw, nil
}

// signingKey returns the newest active key, reloading the keys when they
// are older than refreshAfter. It fails when they could not be reloaded
// for staleLimit: the key may have been retired by another replica, and
// a retired key must stop signing in time for its deletion.
func (i *Issuer) signingKey(ctx context.Context) (*key, error) {
	ks := i.fresh(ctx)
	if age := i.now().Sub(ks.loaded); age >= staleLimit {
		return nil, fmt.Errorf("signing keys not reloaded for %v", age.Round(time.Second))
	}
	if ks.signing == nil {
		// Another replica retired every key (an operator, say): make one.
		i.mu.Lock()
		defer i.mu.Unlock()
		var err error
		if ks, err = i.maintain(ctx); err != nil {
			return nil, err
		}
	}
	return ks.signing, nil
}
