package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/egress"
	"github.com/chainctl/chainctl/internal/oidc/upstream"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
)

// APIPrefix is where the management API is mounted.
const APIPrefix = "/api/v1/"

// maxAPIBody bounds a request body: an identity with its key set, or one
// token.
const maxAPIBody = 64 << 10

// Error codes of the management API.
const (
	codeUnauthorized = "unauthorized"
	codeForbidden    = "forbidden"
	codeNotFound     = "not_found"
	codeInvalid      = "invalid"
	codeConflict     = "conflict"
)

// apiError is an answer of the management API other than success:
// {"error": code, "message": message}. The message is for people and
// never holds internal detail; anything that is not an *apiError is
// answered 500 "internal error" and logged.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func apiErrorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// apiCaller is who a management request comes from: the identity of its
// session token.
type apiCaller struct {
	id       string
	bindings []policy.RoleBinding
}

// apiIdentity is an identity as the API shows it: the identity's own
// fields, where it comes from ("config" or "api") and, for those created
// through the API, when and by whom.
type apiIdentity struct {
	policy.Identity
	Source    string `json:"source"`
	Created   string `json:"created,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

// Sources of identities.
const (
	sourceConfig = "config"
	sourceAPI    = "api"
)

// apiHandler serves /api/v1/identities:
//
//	GET    /api/v1/identities          the identities the caller manages
//	POST   /api/v1/identities          create one (201)
//	GET    /api/v1/identities/{id}     one of them
//	DELETE /api/v1/identities/{id}     delete one created through the API (204)
//	POST   /api/v1/identities/test     which identities an upstream token matches, and why not
//
// Every request needs "Authorization: Bearer <session token>". A caller
// sees and deletes only identities all of whose role bindings it Manages,
// and creates only identities whose roles it CanGrant.
func (s *Service) apiHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.serveAPI(w, r); err != nil {
			s.writeAPIError(w, r, err)
		}
	})
}

func (s *Service) serveAPI(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	s.maybeRefresh(ctx)
	caller, err := s.apiCaller(r)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(r.URL.Path, APIPrefix+"identities")
	switch {
	case !ok || (rest != "" && rest[0] != '/'):
		return apiErrorf(http.StatusNotFound, codeNotFound, "no API endpoint %s", r.URL.Path)
	case rest == "" || rest == "/":
		switch r.Method {
		case http.MethodGet:
			return s.listIdentities(w, caller)
		case http.MethodPost:
			return s.createIdentity(w, r, caller)
		}
		return methodNotAllowed(w, "GET, POST")
	case rest == "/test" && r.Method == http.MethodPost:
		return s.testIdentities(w, r, caller)
	}
	id := rest[1:]
	if strings.Contains(id, "/") {
		return apiErrorf(http.StatusNotFound, codeNotFound, "no API endpoint %s", r.URL.Path)
	}
	switch r.Method {
	case http.MethodGet:
		return s.getIdentity(ctx, w, caller, id)
	case http.MethodDelete:
		return s.deleteIdentity(ctx, w, caller, id)
	}
	return methodNotAllowed(w, "GET, DELETE")
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return apiErrorf(http.StatusMethodNotAllowed, codeInvalid, "use %s", allow)
}

// apiCaller authenticates a management request by its session token.
func (s *Service) apiCaller(r *http.Request) (*apiCaller, error) {
	raw, present, err := bearer(r)
	if err != nil || !present {
		return nil, apiErrorf(http.StatusUnauthorized, codeUnauthorized,
			"a session token is required as \"Authorization: Bearer <token>\" (run chainctl auth login)")
	}
	c, err := s.signer.Verify(r.Context(), raw, s.sessionAudience())
	if err != nil {
		s.log.InfoContext(r.Context(), "refused API session token", "err", err)
		return nil, apiErrorf(http.StatusUnauthorized, codeUnauthorized, "the session token is invalid or expired (run chainctl auth login)")
	}
	roles, ok := s.state.Load().sessionIdentity(c)
	if !ok {
		return nil, apiErrorf(http.StatusUnauthorized, codeUnauthorized, "the session's identity %q no longer exists (run chainctl auth login)", c.Subject)
	}
	return &apiCaller{id: c.Subject, bindings: roles}, nil
}

// visible reports whether the caller manages every repository pattern of
// roles, and so may see, and delete, an identity holding them.
func (c *apiCaller) visible(roles []policy.RoleBinding) bool {
	return len(roles) > 0 && policy.CanGrant(c.bindings, roles) == nil
}

// owner reports whether the caller is an owner of anything: only owners
// manage identities.
func (c *apiCaller) owner() bool {
	return slices.ContainsFunc(c.bindings, func(b policy.RoleBinding) bool { return b.Role == policy.RoleOwner })
}

func (s *Service) describe(st *compiled, m *policy.Matcher) apiIdentity {
	out := apiIdentity{Identity: m.Identity(), Source: sourceConfig}
	if meta, ok := st.stored[m.ID()]; ok {
		out.Source, out.CreatedBy = sourceAPI, meta.CreatedBy
		out.Created = meta.Created.UTC().Format(time.RFC3339)
	}
	return out
}

func (s *Service) listIdentities(w http.ResponseWriter, caller *apiCaller) error {
	st := s.state.Load()
	out := []apiIdentity{}
	for _, m := range st.matchers {
		if caller.visible(m.Identity().Roles) {
			out = append(out, s.describe(st, m))
		}
	}
	return writeAPIJSON(w, http.StatusOK, map[string]any{"identities": out})
}

// lookup finds the identity id among those the caller may see. An
// identity unknown here may be another replica's recent creation, so the
// store is checked before answering not found.
func (s *Service) lookup(ctx context.Context, caller *apiCaller, id string) (*compiled, *policy.Matcher, error) {
	find := func(st *compiled) *policy.Matcher {
		i := slices.IndexFunc(st.matchers, func(m *policy.Matcher) bool { return m.ID() == id })
		if i < 0 {
			return nil
		}
		return st.matchers[i]
	}
	st := s.state.Load()
	m := find(st)
	if m == nil && s.idStore != nil {
		if err := s.RefreshIdentities(ctx); err != nil {
			return nil, nil, err
		}
		st = s.state.Load()
		m = find(st)
	}
	if m == nil || !caller.visible(m.Identity().Roles) {
		return nil, nil, apiErrorf(http.StatusNotFound, codeNotFound, "no identity %q that you manage", id)
	}
	return st, m, nil
}

func (s *Service) getIdentity(ctx context.Context, w http.ResponseWriter, caller *apiCaller, id string) error {
	st, m, err := s.lookup(ctx, caller, id)
	if err != nil {
		return err
	}
	return writeAPIJSON(w, http.StatusOK, s.describe(st, m))
}

func (s *Service) createIdentity(w http.ResponseWriter, r *http.Request, caller *apiCaller) error {
	ctx := r.Context()
	if !caller.owner() {
		return apiErrorf(http.StatusForbidden, codeForbidden, "only owners of repositories may create identities")
	}
	var id policy.Identity
	if err := decodeJSON(w, r, &id); err != nil {
		return err
	}
	if id.ID == "" {
		id.ID = newIdentityID()
	}
	if err := id.Validate(policy.IdentityOptions{Audience: s.service}); err != nil {
		return apiErrorf(http.StatusBadRequest, codeInvalid, "%v", err)
	}
	if len(id.IssuerKeys) > 0 {
		if _, err := s.newStatic(upstream.Issuer{URL: id.Issuer, JWKS: []byte(id.IssuerKeys)}); err != nil {
			return apiErrorf(http.StatusBadRequest, codeInvalid, "issuer_keys: %v", err)
		}
	} else if s.discovery == nil {
		return apiErrorf(http.StatusBadRequest, codeInvalid, "issuer %s: this registry does not discover issuer keys; set issuer_keys", id.Issuer)
	} else if err := publicIssuer(id.Issuer); err != nil {
		return apiErrorf(http.StatusBadRequest, codeInvalid, "%v", err)
	}
	if err := policy.CanGrant(caller.bindings, id.Roles); err != nil {
		return apiErrorf(http.StatusForbidden, codeForbidden, "%v", err)
	}
	if slices.ContainsFunc(s.identities, func(c policy.Identity) bool { return c.ID == id.ID }) {
		return apiErrorf(http.StatusConflict, codeConflict, "identity %q is defined in the server configuration", id.ID)
	}
	if s.idStore == nil {
		return apiErrorf(http.StatusConflict, codeConflict, "this registry has no identity store: identities are defined in the server configuration only")
	}
	doc, err := json.Marshal(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.idStore.PutIdentity(ctx, store.StoredIdentity{ID: id.ID, Document: doc, Created: s.now().UTC(), CreatedBy: caller.id, Incarnation: newIncarnation()})
	if errors.Is(err, store.ErrExists) {
		return apiErrorf(http.StatusConflict, codeConflict, "identity %q already exists", id.ID)
	}
	if err != nil {
		return err
	}
	if err := s.reloadLocked(ctx, true); err != nil {
		return err
	}
	st := s.state.Load()
	i := slices.IndexFunc(st.matchers, func(m *policy.Matcher) bool { return m.ID() == id.ID })
	if i < 0 {
		return fmt.Errorf("identity %s was stored but did not compile", id.ID)
	}
	s.log.InfoContext(ctx, "created identity", "identity", id.ID, "by", caller.id)
	return writeAPIJSON(w, http.StatusCreated, s.describe(st, st.matchers[i]))
}

func (s *Service) deleteIdentity(ctx context.Context, w http.ResponseWriter, caller *apiCaller, id string) error {
	if !caller.owner() {
		return apiErrorf(http.StatusForbidden, codeForbidden, "only owners of repositories may delete identities")
	}
	st, m, err := s.lookup(ctx, caller, id)
	if err != nil {
		return err
	}
	if _, ok := st.stored[id]; !ok {
		return apiErrorf(http.StatusConflict, codeConflict, "identity %q is defined in the server configuration; remove it there", id)
	}
	if err := policy.CanGrant(caller.bindings, m.Identity().Roles); err != nil {
		return apiErrorf(http.StatusForbidden, codeForbidden, "%v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.idStore.DeleteIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apiErrorf(http.StatusNotFound, codeNotFound, "no identity %q that you manage", id)
	}
	if err != nil {
		return err
	}
	if err := s.reloadLocked(ctx, true); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "deleted identity", "identity", id, "by", caller.id)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testRequest is the body of POST /api/v1/identities/test.
type testRequest struct {
	Token string `json:"token"`
}

// testAnswer says which identities a token matches. Error is set, and
// Results empty, when the token could not be verified at all.
type testAnswer struct {
	Issuer  string          `json:"issuer,omitempty"`
	Subject string          `json:"subject,omitempty"`
	Results []policy.Result `json:"results,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// testIdentities verifies an upstream token and matches it against every
// identity the caller can see, explaining each mismatch. The token is
// verified with the audience it carries, so that an audience an identity
// does not accept shows as that identity's failure rather than as an
// unverifiable token.
func (s *Service) testIdentities(w http.ResponseWriter, r *http.Request, caller *apiCaller) error {
	var req testRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return apiErrorf(http.StatusBadRequest, codeInvalid, "token is required")
	}
	ans := s.diagnose(r.Context(), caller, strings.TrimSpace(req.Token))
	if ans.Error == "" && ans.Results == nil {
		// Verified, but the caller sees no identity: an empty list, not none.
		return writeAPIJSON(w, http.StatusOK, map[string]any{"issuer": ans.Issuer, "subject": ans.Subject, "results": []policy.Result{}})
	}
	return writeAPIJSON(w, http.StatusOK, ans)
}

func (s *Service) diagnose(ctx context.Context, caller *apiCaller, raw string) testAnswer {
	if len(raw) > upstream.MaxTokenSize {
		return testAnswer{Error: fmt.Sprintf("the token is larger than %d bytes", upstream.MaxTokenSize)}
	}
	iss, aud, err := peekClaims(raw)
	if err != nil {
		return testAnswer{Error: "the token cannot be read: " + err.Error()}
	}
	st := s.state.Load()
	var visible []*policy.Matcher
	var sources []*keySource
	for _, m := range st.matchers {
		if !caller.visible(m.Identity().Roles) {
			continue
		}
		visible = append(visible, m)
		if src := st.sourceOf[m.ID()]; m.Identity().Issuer == iss && !slices.Contains(sources, src) {
			sources = append(sources, src)
		}
	}
	if len(sources) == 0 {
		return testAnswer{Error: fmt.Sprintf("issuer %q is not configured by any identity you can see", iss)}
	}
	if aud == "" {
		return testAnswer{Error: "the token has no aud claim"}
	}
	verified := map[*keySource]*upstream.Token{}
	causes := map[*keySource]string{}
	var first *keySource
	var why []string
	for _, src := range sources {
		tok, err := src.verifier.Verify(ctx, raw, upstream.Expectation{Issuers: []string{iss}, Audience: aud})
		if err != nil {
			causes[src] = keySourceName(src, iss) + ": " + err.Error()
			why = append(why, causes[src])
			continue
		}
		verified[src] = tok
		if first == nil {
			first = src
		}
	}
	if first == nil {
		return testAnswer{Error: "the token does not verify: " + strings.Join(why, "; ")}
	}
	ans := testAnswer{Issuer: verified[first].Issuer, Subject: verified[first].Subject}
	for _, m := range visible {
		src := st.sourceOf[m.ID()]
		if tok, ok := verified[src]; ok {
			ans.Results = append(ans.Results, m.Match(policy.Token{Issuer: tok.Issuer, Keys: src.keys, Claims: tok.Claims}))
			continue
		}
		if cause, ok := causes[src]; ok {
			ans.Results = append(ans.Results, policy.Result{ID: m.ID(), Name: m.Identity().Name, Failures: []policy.Failure{{
				Check: policy.CheckIssuerKeys, Kind: policy.KindMismatch, Reason: "the token does not verify " + cause}}})
			continue
		}
		tok := verified[first]
		ans.Results = append(ans.Results, m.Match(policy.Token{Issuer: tok.Issuer, Keys: first.keys, Claims: tok.Claims}))
	}
	return ans
}

// keySourceName names where a key source's keys come from, for
// diagnoses.
func keySourceName(src *keySource, iss string) string {
	if len(src.keys) > 0 {
		var ids []string
		for _, m := range src.matchers {
			ids = append(ids, m.ID())
		}
		return "with the issuer_keys of identity " + strings.Join(ids, ", ")
	}
	return "with the keys " + iss + " publishes"
}

// peekClaims reads iss and the first aud of a compact JWS without
// verifying it: only to choose which keys to verify with and to explain
// failures, never to trust.
func peekClaims(raw string) (iss, aud string, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", "", errors.New("not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", errors.New("the payload is not base64url")
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", "", errors.New("the payload is not a JSON object")
	}
	if c.Iss == "" {
		return "", "", errors.New("the token has no iss claim")
	}
	var one string
	var many []string
	switch {
	case json.Unmarshal(c.Aud, &one) == nil:
		aud = one
	case json.Unmarshal(c.Aud, &many) == nil && len(many) > 0:
		aud = many[0]
	}
	return c.Iss, aud, nil
}

// newIdentityID makes an id for an identity created without one: "id-"
// and ten random base32 characters.
func newIdentityID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "id-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// decodeJSON reads a JSON request body of at most maxAPIBody bytes into
// dst, refusing other content types, unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return apiErrorf(http.StatusUnsupportedMediaType, codeInvalid, "Content-Type must be application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return apiErrorf(http.StatusRequestEntityTooLarge, codeInvalid, "the body is larger than %d KiB", maxAPIBody>>10)
	case err != nil:
		return apiErrorf(http.StatusBadRequest, codeInvalid, "the body is not valid: %v", err)
	}
	return nil
}

func writeAPIJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// writeAPIError renders err as {"error": code, "message": text}.
func (s *Service) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "identities API", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &apiError{status: http.StatusInternalServerError, code: "internal", message: "internal error"}
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("Www-Authenticate", `Bearer realm="`+s.service+`"`)
	}
	_ = writeAPIJSON(w, e.status, map[string]string{"error": e.code, "message": e.message})
}

// publicIssuer refuses, for identities created through the API, a
// discovered issuer the registry should not be made to fetch from: one
// that egress.CheckURL refuses (not https; a localhost name; a literal
// loopback, private, link-local, CGNAT, unspecified or other non-public
// address). The server configuration may name such issuers (a development
// provider, an IdP on the operator's network); an owner of a few
// repositories must not point the server at its internal network. Where a
// host name resolves is checked when the keys are fetched
// (upstream.Issuer.PublicOnly).
func publicIssuer(issuer string) error {
	err := egress.CheckURL(issuer, true)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, egress.ErrNotPublic):
		return fmt.Errorf("issuer: %w; a loopback, private, link-local or other non-public issuer can only be configured in the server configuration, or the identity must carry issuer_keys", err)
	default:
		return fmt.Errorf("issuer: %w; identities created through the API must name a public https issuer, or carry issuer_keys", err)
	}
}
