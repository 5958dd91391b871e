package registry

import (
	"net"
	"net/http"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/principal"
	"github.com/chainctl/chainctl/internal/store"
)

// Events records pushes and pulls as events (events.Recorder). A push's
// event is written in the transaction of the write it reports (Push); pull
// and failure events are recorded off the request path (Record).
type Events interface {
	Push(d events.Data) store.TxFunc
	Record(typ string, d events.Data)
	// BlobPulls reports whether blob GETs are recorded too.
	BlobPulls() bool
}

// WithEvents records every push and pull, succeeded or failed, in ev.
func WithEvents(ev Events) Option { return func(r *registry) { r.events = ev } }

// eventData is what every event of r on rt says: repository, kind,
// method, time, client and actor (the principal in r's context).
func (rg *registry) eventData(r *http.Request, rt route, kind string) events.Data {
	p, _ := principal.FromContext(r.Context())
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	return events.Data{
		Repository: rt.name, Type: kind, Method: r.Method, When: rg.now().UTC(),
		RemoteAddr: addr, UserAgent: r.UserAgent(), Actor: events.ActorOf(p),
	}
}

// pushManifestEvent is the TxFunc recording the push of m (tag, if any),
// or none without events.
func (rg *registry) pushManifestEvent(r *http.Request, rt route, m *store.Manifest, tag string) []store.TxFunc {
	if rg.events == nil {
		return nil
	}
	d := rg.eventData(r, rt, events.KindManifest)
	d.Tag, d.Digest, d.MediaType = tag, m.Digest.String(), m.MediaType
	return []store.TxFunc{rg.events.Push(d)}
}

// pushBlobEvent is the TxFunc recording a blob upload's completion (or a
// mount) into repo, or none without events.
func (rg *registry) pushBlobEvent(r *http.Request, repo string, dgst digest.Digest) []store.TxFunc {
	if rg.events == nil {
		return nil
	}
	d := rg.eventData(r, route{name: repo}, events.KindBlob)
	d.Digest = dgst.String()
	return []store.TxFunc{rg.events.Push(d)}
}

// observe records r's pull, or r's failure (e not nil), when it is an
// event: manifest GET, HEAD and PUT; blob upload starts and completions
// (POST, PUT); blob GETs when BlobPulls. Successful pushes are not
// recorded here: their events committed with them.
func (rg *registry) observe(w http.ResponseWriter, r *http.Request, rt route, e *Error) {
	if rg.events == nil {
		return
	}
	typ, kind, ok := eventKind(rt.kind, r.Method)
	if !ok || (typ == events.TypePush && e == nil) || (kind == events.KindBlob && typ == events.TypePull && !rg.events.BlobPulls()) {
		return
	}
	d := rg.eventData(r, rt, kind)
	switch rt.kind {
	case RouteManifest:
		if ref, err := manifestReference(rt); err == nil {
			d.Tag, d.Digest = ref.tag, string(ref.digest)
		}
		if e == nil {
			d.Digest, d.MediaType = w.Header().Get("Docker-Content-Digest"), w.Header().Get("Content-Type")
		}
	case RouteBlob:
		d.Digest = rt.ref
	case RouteUpload:
		d.Digest = r.URL.Query().Get("digest")
	}
	if e != nil {
		d.Error = &events.Error{Status: e.Status, Code: e.Code, Message: e.Message}
	}
	rg.events.Record(typ, d)
}

// eventKind says which event, if any, a request of method on a route of
// kind makes.
func eventKind(routeKind, method string) (typ, kind string, ok bool) {
	switch {
	case routeKind == RouteManifest && (method == http.MethodGet || method == http.MethodHead):
		return events.TypePull, events.KindManifest, true
	case routeKind == RouteManifest && method == http.MethodPut:
		return events.TypePush, events.KindManifest, true
	case routeKind == RouteBlob && method == http.MethodGet:
		return events.TypePull, events.KindBlob, true
	case routeKind == RouteUpload && (method == http.MethodPost || method == http.MethodPut):
		return events.TypePush, events.KindBlob, true
	}
	return "", "", false
}
