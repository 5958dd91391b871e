package apiv1

import (
	"net/http"

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
	if rest == "test" && r.Method == http.MethodPost {
		return a.testToken(w, r, caller)
	}
	ctx := r.Context()
	return serveCollection(w, r, rest, collection{
		list: func() (any, error) {
			return map[string]any{"identities": a.ids.Identities(ctx, caller)}, nil
		},
		create: func() (any, error) {
			var id policy.Identity
			if err := decodeJSON(w, r, &id); err != nil {
				return nil, err
			}
			return a.ids.CreateIdentity(ctx, caller, id)
		},
		get:    func(id string) (any, error) { return a.ids.Identity(ctx, caller, id) },
		remove: func(id string) error { return a.ids.DeleteIdentity(ctx, caller, id) },
	})
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
