package apiv1

import (
	"context"
	"net/http"

	"github.com/chainctl/chainctl/internal/auth"
)

// PullTokens is what the pull-tokens resource needs: auth.Service's pull
// token operations.
type PullTokens interface {
	CreatePullToken(ctx context.Context, caller *auth.Caller, req auth.PullTokenRequest) (auth.PullTokenView, error)
	PullTokens(ctx context.Context, caller *auth.Caller, expired bool) ([]auth.PullTokenView, error)
	PullToken(ctx context.Context, caller *auth.Caller, id string) (auth.PullTokenView, error)
	RevokePullToken(ctx context.Context, caller *auth.Caller, id string) error
}

// WithPullTokens serves /api/v1/pull-tokens over pt.
func WithPullTokens(pt PullTokens) Option { return func(a *api) { a.pts = pt } }

// pullTokens serves /api/v1/pull-tokens (rest is what follows it):
//
//	GET    /api/v1/pull-tokens[?expired=true]  the live tokens the caller owns (and the expired ones)
//	POST   /api/v1/pull-tokens                 create one (201); the answer holds the secret, once
//	GET    /api/v1/pull-tokens/{id}            one of them
//	DELETE /api/v1/pull-tokens/{id}            revoke one (204)
func (a *api) pullTokens(w http.ResponseWriter, r *http.Request, caller *auth.Caller, rest string) error {
	if a.pts == nil {
		return notFound(r)
	}
	ctx := r.Context()
	return serveCollection(w, r, rest, collection{
		list: func() (any, error) {
			expired, err := boolParam(r.URL.Query(), "expired")
			if err != nil {
				return nil, err
			}
			list, err := a.pts.PullTokens(ctx, caller, expired)
			return map[string]any{"pull_tokens": list}, err
		},
		create: func() (any, error) {
			var req auth.PullTokenRequest
			if err := decodeJSON(w, r, &req); err != nil {
				return nil, err
			}
			return a.pts.CreatePullToken(ctx, caller, req)
		},
		get:    func(id string) (any, error) { return a.pts.PullToken(ctx, caller, id) },
		remove: func(id string) error { return a.pts.RevokePullToken(ctx, caller, id) },
	})
}
