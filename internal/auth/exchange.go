package auth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
)

// RFC 8693 identifiers.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

type exchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Identity        string `json:"identity"`
}

// serveExchange answers POST /oauth/token: RFC 8693 token exchange of an
// upstream ID token (subject_token) for a session token of the identity
// it matches. When it matches several, the client names one with the
// "identity" parameter. The session token's "act" claim records the
// upstream issuer and subject; its lifetime is the configured default, or
// the "expires_in" the client asks for, capped by the configured maximum.
func (s *Service) serveExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.oauthError(w, r, http.StatusMethodNotAllowed, "invalid_request", "use POST", nil)
		return
	}
	if err := parseForm(w, r); err != nil {
		s.oauthError(w, r, http.StatusBadRequest, "invalid_request", err.Error(), nil)
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != grantTokenExchange {
		s.oauthError(w, r, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be "+grantTokenExchange, nil)
		return
	}
	if tt := f.Get("subject_token_type"); tt != tokenTypeIDToken && tt != tokenTypeJWT {
		s.oauthError(w, r, http.StatusBadRequest, "invalid_request", "subject_token_type must be "+tokenTypeIDToken+" or "+tokenTypeJWT, nil)
		return
	}
	raw := f.Get("subject_token")
	if raw == "" {
		s.oauthError(w, r, http.StatusBadRequest, "invalid_request", "subject_token is required", nil)
		return
	}
	ttl := s.sessionTTL
	if v := f.Get("expires_in"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs <= 0 {
			s.oauthError(w, r, http.StatusBadRequest, "invalid_request", "expires_in must be a positive number of seconds", nil)
			return
		}
		ttl = min(time.Duration(secs)*time.Second, s.maxSession)
	}
	s.maybeRefresh(r.Context())
	results, tok, err := s.matchUpstream(r.Context(), s.state.Load(), raw)
	if err != nil {
		s.credentialError(w, r, true, err)
		return
	}
	var matched []string
	for _, res := range results {
		if res.Matched && !slices.Contains(matched, res.ID) {
			matched = append(matched, res.ID)
		}
	}
	id := f.Get("identity")
	switch {
	case len(matched) == 0:
		s.log.InfoContext(r.Context(), "token matches no identity", "iss", tok.Issuer, "sub", tok.Subject)
		s.oauthError(w, r, http.StatusUnauthorized, "invalid_grant", "the token matches no identity of this registry (chainctl iam identities test explains why)", nil)
		return
	case id != "" && !slices.Contains(matched, id):
		s.oauthError(w, r, http.StatusUnauthorized, "invalid_grant", "the token does not match identity "+strconv.Quote(id), nil)
		return
	case id == "" && len(matched) > 1:
		s.oauthError(w, r, http.StatusBadRequest, "invalid_request",
			"the token matches several identities ("+strings.Join(matched, ", ")+"); choose one with the identity parameter", nil)
		return
	case id == "":
		id = matched[0]
	}
	session, err := s.MintSession(r.Context(), id, &issuer.Actor{Issuer: tok.Issuer, Subject: tok.Subject}, ttl)
	if err != nil {
		s.log.ErrorContext(r.Context(), "sign session token", "err", err)
		s.oauthError(w, r, http.StatusInternalServerError, "server_error", "internal error", nil)
		return
	}
	writeTokenJSON(w, exchangeResponse{
		AccessToken: session, IssuedTokenType: tokenTypeJWT, TokenType: "Bearer",
		ExpiresIn: int(ttl.Seconds()), Identity: id,
	})
}

// MintSession signs a session token for the identity id, as the exchange
// does after matching an upstream token: act records who it stands for.
// ttl is capped by the configured maximum. It is exported for dev mode,
// which hands its development user a session without a browser.
func (s *Service) MintSession(ctx context.Context, id string, act *issuer.Actor, ttl time.Duration) (string, error) {
	s.maybeRefresh(ctx)
	st := s.state.Load()
	if _, ok := st.rolesByID[id]; !ok {
		return "", fmt.Errorf("mint session: no identity %q", id)
	}
	return s.signer.Sign(ctx, issuer.Claims{
		Subject: id, Audience: []string{s.sessionAudience()}, Expiry: s.now().Add(min(ttl, s.maxSession)), Actor: act,
		Incarnations: st.incarnationsOf([]string{id}),
	})
}
