package apiv1

import (
	"context"
	"net/http"

	"github.com/chainctl/chainctl/internal/auth"
	"github.com/chainctl/chainctl/internal/events"
)

// Subscriptions is what the subscriptions resource needs:
// events.Subscriptions' operations.
type Subscriptions interface {
	Create(ctx context.Context, caller events.Owner, req events.SubscriptionRequest) (events.SubscriptionView, error)
	List(ctx context.Context, caller events.Owner) ([]events.SubscriptionView, error)
	Get(ctx context.Context, caller events.Owner, id string) (events.SubscriptionView, error)
	Delete(ctx context.Context, caller events.Owner, id string) error
	Deliveries(ctx context.Context, caller events.Owner, id string, failedOnly bool, limit int, cursor string) (events.DeliveryPage, error)
	Redeliver(ctx context.Context, caller events.Owner, id string, req events.RedeliverRequest) (events.RedeliverResult, error)
	Enable(ctx context.Context, caller events.Owner, id string) (events.SubscriptionView, error)
}

// WithSubscriptions serves /api/v1/subscriptions over subs.
func WithSubscriptions(subs Subscriptions) Option { return func(a *api) { a.subs = subs } }

// subscriptions serves /api/v1/subscriptions (rest is what follows it):
//
//	GET    /api/v1/subscriptions        the caller's subscriptions, with their delivery health
//	POST   /api/v1/subscriptions        create one (201)
//	GET    /api/v1/subscriptions/{id}   one of them
//	DELETE /api/v1/subscriptions/{id}   delete one and its pending deliveries (204)
//	GET    /api/v1/subscriptions/{id}/deliveries?failed=true&limit=&cursor=
//	                                    a page of its deliveries, newest event first
//	POST   /api/v1/subscriptions/{id}/redeliver  {"event"} or {"since", "failed"}:
//	                                    queue events again, with their ids
//	POST   /api/v1/subscriptions/{id}/enable     deliver to it again after a 410
func (a *api) subscriptions(w http.ResponseWriter, r *http.Request, caller *auth.Caller, rest string) error {
	if a.subs == nil {
		return notFound(r)
	}
	ctx, owner := r.Context(), events.Owner{ID: caller.ID, Bindings: caller.Bindings}
	return serveCollection(w, r, rest, collection{
		list: func() (any, error) {
			list, err := a.subs.List(ctx, owner)
			return map[string]any{"subscriptions": list}, err
		},
		create: func() (any, error) {
			var req events.SubscriptionRequest
			if err := decodeJSON(w, r, &req); err != nil {
				return nil, err
			}
			return a.subs.Create(ctx, owner, req)
		},
		get:    func(id string) (any, error) { return a.subs.Get(ctx, owner, id) },
		remove: func(id string) error { return a.subs.Delete(ctx, owner, id) },
		actions: map[string]action{
			"deliveries": {http.MethodGet, func(id string) (any, error) {
				q := r.URL.Query()
				failed, err := boolParam(q, "failed")
				if err != nil {
					return nil, err
				}
				limit, err := intParam(q, "limit")
				if err != nil {
					return nil, err
				}
				return a.subs.Deliveries(ctx, owner, id, failed, limit, q.Get("cursor"))
			}},
			"redeliver": {http.MethodPost, func(id string) (any, error) {
				var req events.RedeliverRequest
				if err := decodeJSON(w, r, &req); err != nil {
					return nil, err
				}
				return a.subs.Redeliver(ctx, owner, id, req)
			}},
			"enable": {http.MethodPost, func(id string) (any, error) { return a.subs.Enable(ctx, owner, id) }},
		},
	})
}
