package apiv1

import (
	"net/http"
	"strings"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/policy"
)

// identities serves /api/v1/identities (rest is what follows it):
//
//	GET    /api/v1/identities          the identities the caller manages
//	POST   /api/v1/identities          create one (201)
//	GET    /api/v1/identities/{id}     one of them
//	DELETE /api/v1/identities/{id}     delete one created through the API (204)
//	POST   /api/v1/identities/test     which identities an upstream token matches, and why not
func (a *api) identities(w http.ResponseWriter, r *http.Request, caller *auth.Caller, rest string) error {
	ctx := r.Context()
	switch {
	case rest == "":
		switch r.Method {
		case http.MethodGet:
			return writeJSON(w, http.StatusOK, map[string]any{"identities": a.ids.Identities(ctx, caller)})
		case http.MethodPost:
			var id policy.Identity
			if err := decodeJSON(w, r, &id); err != nil {
				return err
			}
			v, err := a.ids.CreateIdentity(ctx, caller, id)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusCreated, v)
		}
		return methodNotAllowed(w, "GET, POST")
	case rest == "test" && r.Method == http.MethodPost:
		return a.testToken(w, r, caller)
	case strings.Contains(rest, "/"):
		return notFound(r)
	}
	switch r.Method {
	case http.MethodGet:
		v, err := a.ids.Identity(ctx, caller, rest)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	case http.MethodDelete:
		if err := a.ids.DeleteIdentity(ctx, caller, rest); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(w, "GET, DELETE")
}

// testRequest is the body of POST /api/v1/identities/test.
type testRequest struct {
	Token string `json:"token"`
}

func (a *api) testToken(w http.ResponseWriter, r *http.Request, caller *auth.Caller) error {
	var req testRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return errorf(http.StatusBadRequest, codeInvalid, "token is required")
	}
	ans := a.ids.TestToken(r.Context(), caller, req.Token)
	if ans.Error == "" && len(ans.Results) == 0 {
		// Verified, but the caller sees no identity: an empty list, not none.
		return writeJSON(w, http.StatusOK, map[string]any{"issuer": ans.Issuer, "subject": ans.Subject, "results": []policy.Result{}})
	}
	return writeJSON(w, http.StatusOK, ans)
}
