package registry

import (
	"context"
	"net/http"

	"github.com/chainctl/chainctl/internal/events"
)

// TagHistory tells where a tag has pointed (events.Log).
type TagHistory interface {
	// TagHistory returns every digest tag of repo was pushed to point
	// at, newest first.
	TagHistory(ctx context.Context, repo, tag string) ([]events.TagMove, error)
}

// WithTagHistory serves GET /v2/<name>/_chainctl/history/<tag> from h,
// authorized as a pull of <name>. Without it the route is not found.
func WithTagHistory(h TagHistory) Option { return func(r *registry) { r.history = h } }

// historyBody is the answer of the history route.
type historyBody struct {
	Name    string           `json:"name"`
	Tag     string           `json:"tag"`
	History []events.TagMove `json:"history"`
}

// getHistory answers every digest the tag has pointed at, when it moved
// and who moved it, newest first, from the push events: as far back as
// the event log keeps them (events.retention). A tag never pushed within
// it has an empty history, whether or not it exists now.
func (rg *registry) getHistory(w http.ResponseWriter, r *http.Request, rt route) error {
	if !validTag(rt.ref) {
		return errTagInvalid(rt.ref)
	}
	moves, err := rg.history.TagHistory(r.Context(), rt.name, rt.ref)
	if err != nil {
		return err
	}
	return writeJSON(w, r, "application/json", historyBody{Name: rt.name, Tag: rt.ref, History: moves})
}
