package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/oidc/issuer"
	"github.com/chainctl/chainctl/internal/policy"
)

// maxFormSize bounds a token request body; a request is a few hundred
// bytes plus one token.
const maxFormSize = 64 << 10

// tokenResponse is the Docker token endpoint's answer; token and
// access_token carry the same value, for old and new clients.
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope,omitempty"`
}

// serveToken answers GET /token (Docker token authentication) and POST
// /token (its OAuth2 variant). The credential is the password of HTTP
// Basic authentication on GET, or the password (grant_type=password) or
// refresh token (grant_type=refresh_token, which docker sends for a
// credential helper's identity token) on POST. It may be a session token
// of ours or an upstream ID token that an identity accepts; none means
// anonymous. The access token granted is what was asked for intersected
// with what the caller's roles (and the public repositories) allow.
func (s *Service) serveToken(w http.ResponseWriter, r *http.Request) {
	var service, user, cred string
	var scopes []string
	oauth := r.Method == http.MethodPost
	switch r.Method {
	case http.MethodGet:
		// A query that does not parse would otherwise lose its scopes
		// silently and get a token for nothing.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			s.oauthError(w, r, http.StatusBadRequest, "invalid_request", "malformed query: "+err.Error(), nil)
			return
		}
		service, scopes = q.Get("service"), q["scope"]
		if user, cred, err = basicCredentials(r); err != nil {
			s.credentialError(w, r, oauth, err)
			return
		}
	case http.MethodPost:
		if err := parseForm(w, r); err != nil {
			s.oauthError(w, r, http.StatusBadRequest, "invalid_request", err.Error(), nil)
			return
		}
		service, scopes = r.PostForm.Get("service"), strings.Fields(r.PostForm.Get("scope"))
		gt := r.PostForm.Get("grant_type")
		switch gt {
		case "password":
			user, cred = r.PostForm.Get("username"), r.PostForm.Get("password")
		case "refresh_token":
			cred = r.PostForm.Get("refresh_token")
		default:
			s.oauthError(w, r, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password or refresh_token", nil)
			return
		}
		// The OAuth2 variant always carries a credential: an empty one is
		// refused like a wrong one, never taken for anonymous.
		if cred == "" {
			s.credentialError(w, r, oauth, fmt.Errorf("%w: grant_type=%s without a credential", errBadCredentials, gt))
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		s.oauthError(w, r, http.StatusMethodNotAllowed, "invalid_request", "use GET or POST", nil)
		return
	}
	if service != "" && service != s.service {
		s.oauthError(w, r, http.StatusBadRequest, "invalid_request", fmt.Sprintf("this registry is service %q", s.service), nil)
		return
	}
	requested, err := policy.ParseScopes(scopes)
	if err != nil {
		s.oauthError(w, r, http.StatusBadRequest, "invalid_scope", err.Error(), nil)
		return
	}
	s.maybeRefresh(r.Context())
	var p *authenticated
	if isPullTokenCredential(user, cred) {
		if s.pullTokenLimited(w, r, user) {
			return
		}
		if p, err = s.authenticatePullToken(r.Context(), user, cred); errors.Is(err, errBadCredentials) {
			s.pullTokenFailed(r, user)
		}
	} else {
		p, err = s.authenticate(r.Context(), cred)
	}
	if err != nil {
		s.credentialError(w, r, oauth, err)
		return
	}
	bindings := p.bindings
	if p.pullToken == "" {
		// Public repositories are anyone's to pull; a pull token's grant
		// is its own patterns, nothing more.
		bindings = append(slices.Clone(p.bindings), s.publicBindings()...)
	}
	granted := policy.Grant(requested, bindings)
	tok, exp, err := s.mintAccess(r.Context(), p, granted)
	if err != nil {
		s.log.ErrorContext(r.Context(), "sign access token", "err", err)
		s.oauthError(w, r, http.StatusInternalServerError, "server_error", "internal error", nil)
		return
	}
	now := s.now()
	writeTokenJSON(w, tokenResponse{
		Token: tok, AccessToken: tok, ExpiresIn: int(exp.Sub(now).Seconds()),
		IssuedAt: now.UTC().Format(time.RFC3339), Scope: policy.FormatScopes(granted),
	})
}

// basicCredentials returns the username and password of the request's
// HTTP Basic credentials (RFC 7617), or "" when it sent no Authorization
// header: the only anonymous request. A header that is there but does not parse — not
// Basic, bad base64, no colon, an empty password, several headers — is an
// error, answered like a wrong credential rather than with an anonymous
// token, so a client with broken credentials learns it at once.
func basicCredentials(r *http.Request) (user, password string, err error) {
	h := r.Header.Values("Authorization")
	switch {
	case len(h) == 0:
		return "", "", nil
	case len(h) > 1:
		return "", "", fmt.Errorf("%w: several Authorization headers", errBadCredentials)
	case len(h[0]) > maxAuthorizationHeader:
		return "", "", fmt.Errorf("%w: Authorization header of %d bytes", errBadCredentials, len(h[0]))
	}
	user, pw, ok := r.BasicAuth()
	if !ok {
		// Nothing of the header is logged: any of it may be a secret.
		if scheme, _, _ := strings.Cut(h[0], " "); !strings.EqualFold(scheme, "Basic") {
			return "", "", fmt.Errorf("%w: an Authorization header that is not Basic", errBadCredentials)
		}
		return "", "", fmt.Errorf("%w: malformed Basic credentials", errBadCredentials)
	}
	if pw == "" {
		return "", "", fmt.Errorf("%w: Basic credentials without a password", errBadCredentials)
	}
	return user, pw, nil
}

// mintAccess signs an access token granting exactly granted. A pull
// token's names it, and expires with it at the latest.
func (s *Service) mintAccess(ctx context.Context, p *authenticated, granted []policy.Access) (string, time.Time, error) {
	sub := "anonymous"
	if len(p.identities) > 0 {
		sub = strings.Join(p.identities, " ")
	}
	exp := s.now().Add(s.accessTTL)
	if p.pullToken != "" {
		sub = p.pullToken
		if p.notAfter.Before(exp) {
			exp = p.notAfter
		}
	}
	access := make([]policy.Access, 0, len(granted))
	for _, g := range granted {
		access = append(access, policy.Access{Type: g.Type, Name: g.Name, Actions: g.Actions})
	}
	tok, err := s.signer.Sign(ctx, issuer.Claims{
		Subject: sub, Audience: []string{s.service}, Expiry: exp, Access: access, Actor: p.actor,
		Incarnations: p.incarnations, PullToken: p.pullToken,
	})
	return tok, exp, err
}

// credentialError answers a refused credential: 401, or 503 when an
// upstream issuer could not be reached or the store failed. The cause is
// logged, not sent.
func (s *Service) credentialError(w http.ResponseWriter, r *http.Request, oauth bool, err error) {
	if errors.Is(err, errStoreFailure) {
		s.log.ErrorContext(r.Context(), "check credentials", "err", err)
		w.Header().Set("Retry-After", "10")
		s.oauthError(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", "the registry could not check the credentials; try again", nil)
		return
	}
	if errors.Is(err, errUnavailable) {
		s.log.WarnContext(r.Context(), "upstream issuer unavailable", "err", err)
		w.Header().Set("Retry-After", "10")
		s.oauthError(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", "the token's issuer could not be reached; try again", nil)
		return
	}
	s.log.InfoContext(r.Context(), "refused credentials", "err", err)
	h := http.Header{}
	if !oauth {
		h.Set("Www-Authenticate", `Basic realm="`+s.service+`"`)
	}
	s.oauthError(w, r, http.StatusUnauthorized, "invalid_grant", "invalid credentials", h)
}

// oauthError writes an RFC 6749 §5.2 error, plus the Docker "errors"
// array that docker and containerd print.
func (s *Service) oauthError(w http.ResponseWriter, r *http.Request, status int, code, desc string, h http.Header) {
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	dockerCode := "UNKNOWN"
	switch status {
	case http.StatusUnauthorized:
		dockerCode = "UNAUTHORIZED"
	case http.StatusTooManyRequests:
		dockerCode = "TOOMANYREQUESTS"
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": code, "error_description": desc,
		"errors": []map[string]string{{"code": dockerCode, "message": desc}},
	})
}

func writeTokenJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// parseForm reads an application/x-www-form-urlencoded body of bounded size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		return errors.New("the body must be a form of at most 64 KiB")
	}
	return nil
}
