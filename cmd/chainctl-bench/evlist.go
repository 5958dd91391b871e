package main

import (
	"context"
	crand "crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chainctl/chainctl/internal/events"
	"github.com/chainctl/chainctl/internal/policy"
	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/postgres"
	"github.com/chainctl/chainctl/internal/store/sqlite"
)

// Workload evlist (issue 14): `chainctl events list` over a large event
// log, on each kind of metadata store a chainctl target runs on: SQLite
// (the chainctl column) and PostgreSQL (the chainctl-s3 column).
//
// Seeding a million events through the registry's HTTP API would take
// hours and time the recorder, not the query; so the benchmark opens the
// store itself (a SQLite file in the work dir; a fresh schema on the
// -postgres server) and appends cfg.eventLog events with the store's own
// AppendEvents, in big batches, untimed. The rows are the registry's:
// eventRow builds them from events.Data as events.Recorder does (its JSON
// from Data.MarshalJSON, so every row has its real size), and
// TestEventListRows checks a row against one a Recorder wrote. Then, on
// PostgreSQL only, VACUUM ANALYZE: autovacuum would have run after a
// million inserts, and without it the planner knows nothing of the table
// and index-only scans read the heap. SQLite gets no ANALYZE: chainctl
// never runs one, so a production SQLite database plans without
// statistics, as the store's query-plan tests assume.
//
// What is timed is what GET /api/v1/events runs for `chainctl events
// list`: events.Log.List, for an owner of acme/* and team-b/*, the first
// page (100 events, the CLI's default) of five filters (evListQueries),
// cfg.eventLogQueries times each, interleaved, one at a time (a page's
// latency, not a throughput), after a few untimed ones to warm the
// caches as a serving registry's are. It reports each filter's p50 and
// p99 in ms; the HTTP layer and JSON encoding of the page are not in it.
// The seeded log is kept across -rounds.
//
// The log's shape: 50 repositories under acme/ (25), team-b/ (15) and
// ops/ (10, which the owner does not own), pulled in proportion to
// 1/rank; 8 CI identities, 24 pull tokens and some anonymous pulls; 95 %
// pulls (manifests, by tag or by digest: blob pulls are not recorded by
// default), 5 % pushes (a quarter of them manifests by tag, the rest
// blobs); 2 % failures with the OCI error codes a registry answers, 10 %
// for one pull token (evListActor, as a revoked token's would be); spread
// evenly over the 7 days before the seeding.

// Workload evlist's seeding.
const (
	seedEvList = 9
	// evListBatch is the events of one AppendEvents: a transaction each.
	evListBatch = 10000
	// evListSpan is how far back the seeded events go.
	evListSpan = 7 * 24 * time.Hour
	// evListWarmup is the untimed queries of each filter before the timed.
	evListWarmup = 5
	// evListSeedLimit bounds seeding a backend, on top of workloadTimeout.
	evListSeedLimit = 10 * time.Minute
)

// evListOwner is the caller of the timed queries: an owner of acme/* and
// team-b/*, so that an unfiltered repository is those two prefixes.
var evListOwner = events.Owner{ID: "id-benchowner", Bindings: []policy.RoleBinding{
	{Role: policy.RoleOwner, Repositories: []policy.RepositoryPattern{"acme/*", "team-b/*"}},
}}

// evListActor is the pull token of filter "actor"; evListRepo and
// evListTag are the repository and tag of filters "push" and "tag".
const (
	evListActor = "pull-token:pt-" + "aaaaaaaaaaaaaaaaaaaa"
	evListRepo  = "acme/svc-00"
	evListTag   = "latest"
)

// evListQuery is one filter the workload times.
type evListQuery struct {
	id    string // metric ids id-p50 and id-p99
	about string
	query func(newest time.Time) events.Query
}

// evListQueries are the filters timed, as `chainctl events list` takes
// them.
func evListQueries() []evListQuery {
	return []evListQuery{
		{"evlist-recent", "--repository 'acme/*' --type pull --since 24h", func(now time.Time) events.Query {
			return events.Query{Repository: "acme/*", Type: "pull", Since: now.Add(-24 * time.Hour)}
		}},
		{"evlist-failed", "--repository 'acme/*' --outcome failed", func(time.Time) events.Query {
			return events.Query{Repository: "acme/*", Outcome: "failed"}
		}},
		{"evlist-actor", "--actor <pull token> --outcome failed", func(time.Time) events.Query {
			return events.Query{Actor: evListActor, Outcome: "failed"}
		}},
		{"evlist-push", "--repository team-b/svc-01 --type push", func(time.Time) events.Query {
			return events.Query{Repository: "team-b/svc-01", Type: "push"}
		}},
		{"evlist-tag", "--repository " + evListRepo + " --tag " + evListTag + " --type push", func(time.Time) events.Query {
			return events.Query{Repository: evListRepo, Tag: evListTag, Type: "push"}
		}},
	}
}

// metaStore is where a chainctl target keeps its metadata, as workload
// evlist opens a store of the same kind: SQLite in dir, or PostgreSQL at
// dsn.
type metaStore struct {
	kind string // "sqlite" or "postgres"
	dir  string
	dsn  string
}

// eventLogStore is what workload evlist needs of a store.
type eventLogStore interface {
	events.LogStore
	AppendEvents(ctx context.Context, events []store.Event) error
	Close() error
}

// seededLog is an event log the benchmark seeded, kept across rounds.
type seededLog struct {
	st     eventLogStore
	log    *events.Log
	newest time.Time     // the newest event's time
	seeded time.Duration // how long seeding took, analysis included
	// drop removes what open made (the PostgreSQL schema), after st is
	// closed.
	drop func(context.Context) error
}

// close closes the store and removes its data.
func (l *seededLog) close(ctx context.Context) error {
	err := l.st.Close()
	if l.drop != nil {
		err = errors.Join(err, l.drop(ctx))
	}
	return err
}

// openEventLog opens an empty store of m's kind. analyze is what a
// production database of that kind would have run after the writes.
func openEventLog(ctx context.Context, m metaStore) (st eventLogStore, analyze, drop func(context.Context) error, err error) {
	switch m.kind {
	case "sqlite":
		if err := os.MkdirAll(m.dir, 0o700); err != nil {
			return nil, nil, nil, err
		}
		path := filepath.Join(m.dir, "evlist.db")
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, nil, nil, err
		}
		// No ANALYZE: chainctl never runs one on SQLite (see above).
		none := func(context.Context) error { return nil }
		rm := func(context.Context) error {
			return errors.Join(os.Remove(path), ignoreMissing(os.Remove(path+"-wal")), ignoreMissing(os.Remove(path+"-shm")))
		}
		return s, none, rm, nil
	case "postgres":
		schema := fmt.Sprintf("chainctl_bench_evlist_%d_%s", os.Getpid(), strings.ToLower(crand.Text()[:10]))
		dsn, err := withSearchPath(m.dsn, schema)
		if err != nil {
			return nil, nil, nil, err
		}
		ident := pgx.Identifier{schema}.Sanitize()
		if err := pgExec(ctx, m.dsn, "CREATE SCHEMA "+ident); err != nil {
			return nil, nil, nil, err
		}
		drop := func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			return pgExec(ctx, m.dsn, "DROP SCHEMA IF EXISTS "+ident+" CASCADE")
		}
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, nil, nil, errors.Join(err, drop(ctx))
		}
		analyze := func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, evListSeedLimit)
			defer cancel()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			_, err = conn.Exec(ctx, "VACUUM (ANALYZE) events")
			return err
		}
		return db, analyze, drop, nil
	}
	return nil, nil, nil, fmt.Errorf("unknown metadata store %q", m.kind)
}

func ignoreMissing(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// seedEventLog opens a store of m's kind and appends n events to it, the
// newest at now.
func seedEventLog(ctx context.Context, m metaStore, n int, now time.Time) (*seededLog, error) {
	st, analyze, drop, err := openEventLog(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", m.kind, err)
	}
	l := &seededLog{st: st, log: events.NewLog(st), newest: now, drop: drop}
	t0 := time.Now()
	g := newEventGen(n, now)
	batch := make([]store.Event, 0, evListBatch)
	for i := range n {
		batch = append(batch, g.event(i))
		if len(batch) == evListBatch || i == n-1 {
			if err := st.AppendEvents(ctx, batch); err != nil {
				return nil, errors.Join(fmt.Errorf("seed %s: %w", m.kind, err), l.close(ctx))
			}
			batch = batch[:0]
		}
	}
	if err := analyze(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("analyze %s: %w", m.kind, err), l.close(ctx))
	}
	l.seeded = time.Since(t0)
	return l, nil
}

// runEventList is workload evlist against t's kind of metadata store.
func runEventList(ctx context.Context, t *target, cfg config, _ int) (outcome, error) {
	if t.evlog == nil {
		l, err := seedEventLog(ctx, t.meta, cfg.eventLog, time.Now())
		if err != nil {
			return outcome{}, fmt.Errorf("setup: %w", err)
		}
		t.evlog = l
	}
	return timeEventList(ctx, t.evlog, cfg.eventLogQueries)
}

// timeEventList times the first page of each of evListQueries, perKind
// times each, interleaved, after evListWarmup untimed ones each.
func timeEventList(ctx context.Context, l *seededLog, perKind int) (outcome, error) {
	qs := evListQueries()
	lat := make([]load, len(qs))
	page := func(i int) (time.Duration, error) {
		t0 := time.Now()
		p, err := l.log.List(ctx, evListOwner, qs[i].query(l.newest))
		d := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("events list %s: %w", qs[i].about, err)
		}
		// Every filter selects events of the seeded log: an empty page
		// would time an index probe that finds nothing.
		if len(p.Events) == 0 {
			return 0, fmt.Errorf("events list %s: no events", qs[i].about)
		}
		return d, nil
	}
	for range evListWarmup {
		for i := range qs {
			if _, err := page(i); err != nil {
				return outcome{}, err
			}
		}
	}
	_, cpu, err := timed(func() error {
		for range perKind {
			for i := range qs {
				d, err := page(i)
				if err != nil {
					return err
				}
				lat[i].lat = append(lat[i].lat, d)
			}
		}
		return nil
	})
	if err != nil {
		return outcome{}, err
	}
	out := outcome{values: map[string]float64{}, cpu: cpu}
	for i, q := range qs {
		slices.Sort(lat[i].lat)
		lat[i].requests = len(lat[i].lat)
		out.values[q.id+"-p50"] = ms(lat[i].quantile(0.50))
		out.values[q.id+"-p99"] = ms(lat[i].quantile(0.99))
	}
	if l.seeded > 0 {
		out.values["evlist-seed"] = l.seeded.Seconds()
	}
	return out, nil
}

// eventGen makes the seeded log's events: deterministic, but for their
// ids, and in time order, as the registry appends them.
type eventGen struct {
	rng     *rand.Rand
	n       int
	first   time.Time
	repos   []string
	popular []float64 // cumulative pull weight of repos[:i+1]
	idents  []events.Actor
	tokens  []events.Actor
	agents  []string
	digests map[string]string // repository:tag → digest it points at
}

func newEventGen(n int, newest time.Time) *eventGen {
	g := &eventGen{
		rng: rand.New(rand.NewPCG(seedEvList, 0)), n: n, first: newest.Add(-evListSpan),
		agents: []string{
			"containerd/v2.0.2", "docker/27.4.1 go/go1.22.10 git-commit/c710b88 kernel/6.8.0 os/linux arch/amd64 UpstreamClient(Docker-Client/27.4.1 \\(linux\\))",
			"skopeo/1.17.0", "go-containerregistry/v0.20.2", "crane/v0.20.2", "buildkit/v0.18",
		},
		digests: map[string]string{},
	}
	for _, p := range []struct {
		prefix string
		n      int
	}{{"acme/", 25}, {"team-b/", 15}, {"ops/", 10}} {
		for i := range p.n {
			g.repos = append(g.repos, fmt.Sprintf("%ssvc-%02d", p.prefix, i))
		}
	}
	// Interleave the prefixes in popularity, so each has hot repositories.
	slices.SortStableFunc(g.repos, func(a, b string) int { return strings.Compare(a[strings.Index(a, "/"):], b[strings.Index(b, "/"):]) })
	sum := 0.0
	for i := range g.repos {
		sum += 1 / float64(i+1)
		g.popular = append(g.popular, sum)
	}
	for i := range 8 {
		g.idents = append(g.idents, events.Actor{
			Identities: []string{fmt.Sprintf("id-ci%08d", i)}, Issuer: "https://token.actions.githubusercontent.com",
			Subject: fmt.Sprintf("repo:acme/svc-%02d:ref:refs/heads/main", i),
		})
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := range 24 {
		id := strings.TrimPrefix(evListActor, "pull-token:")
		if i > 0 {
			id = "pt-" + strings.ToLower(b32.EncodeToString(fmt.Appendf(nil, "token%07d", i)))[:20]
		}
		g.tokens = append(g.tokens, events.Actor{PullToken: id})
	}
	return g
}

// pickRepo returns a repository, the ith of g.repos in proportion to
// 1/(i+1).
func (g *eventGen) pickRepo() string {
	x := g.rng.Float64() * g.popular[len(g.popular)-1]
	i, _ := slices.BinarySearch(g.popular, x)
	return g.repos[min(i, len(g.repos)-1)]
}

// skewed returns an index below n, lower ones more often.
func (g *eventGen) skewed(n int) int {
	return min(int(float64(n)*g.rng.Float64()*g.rng.Float64()), n-1)
}

func (g *eventGen) digest() string {
	var b [32]byte
	for i := 0; i < len(b); i += 8 {
		v := g.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return "sha256:" + hex.EncodeToString(b[:])
}

// Failures the registry records, by event type (internal/registry's OCI
// error codes).
var (
	pullFailures = []events.Error{
		{Status: http.StatusNotFound, Code: "MANIFEST_UNKNOWN", Message: "manifest unknown to registry"},
		{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "authentication required"},
		{Status: http.StatusForbidden, Code: "DENIED", Message: "requested access to the resource is denied"},
		{Status: http.StatusNotFound, Code: "NAME_UNKNOWN", Message: "repository name not known to registry"},
	}
	pushFailures = []events.Error{
		{Status: http.StatusBadRequest, Code: "DIGEST_INVALID", Message: "provided digest did not match uploaded content"},
		{Status: http.StatusNotFound, Code: "BLOB_UPLOAD_UNKNOWN", Message: "blob upload unknown to registry"},
		{Status: http.StatusForbidden, Code: "DENIED", Message: "requested access to the resource is denied"},
		{Status: http.StatusBadRequest, Code: "MANIFEST_BLOB_UNKNOWN", Message: "manifest references a manifest or blob unknown to registry"},
	}
)

// tags a repository's manifests are pushed and pulled by.
var evListTags = []string{"latest", "main", "v1.4.0", "v1.4.1", "v1.5.0", "v1.5.1", "v1.6.0", "v2.0.0-rc.1"}

// at is the time of the ith of the g.n events: evenly spread over
// evListSpan, the last at the newest. (In float64: the span in
// nanoseconds times a million overflows an int64.)
func (g *eventGen) at(i int) time.Time {
	if g.n <= 1 {
		return g.first.Add(evListSpan)
	}
	return g.first.Add(time.Duration(float64(evListSpan) * float64(i) / float64(g.n-1)))
}

// event returns the ith of the g.n events.
func (g *eventGen) event(i int) store.Event {
	r := g.rng
	at := g.at(i)
	repo := g.pickRepo()
	d := events.Data{
		Repository: repo, Type: events.KindManifest, Method: http.MethodGet, When: at.UTC(),
		RemoteAddr: fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), 1+r.IntN(254)),
		UserAgent:  g.agents[g.skewed(len(g.agents))],
	}
	typ := events.TypePull
	failRate := 0.018
	if r.Float64() < 0.05 {
		typ = events.TypePush
		d.Actor = g.idents[g.skewed(len(g.idents))]
		d.UserAgent = g.agents[len(g.agents)-1]
		if r.IntN(4) == 0 {
			d.Method, d.Tag = http.MethodPut, evListTags[g.skewed(len(evListTags))]
			d.Digest, d.MediaType = g.digest(), mediaManifest
			key := repo + ":" + d.Tag
			d.Previous = g.digests[key]
			g.digests[key] = d.Digest
		} else {
			d.Type, d.Method, d.Digest = events.KindBlob, http.MethodPut, g.digest()
		}
	} else {
		switch x := r.Float64(); {
		case x < 0.60:
			d.Actor = g.tokens[g.skewed(len(g.tokens))]
		case x < 0.97:
			d.Actor = g.idents[g.skewed(len(g.idents))]
		default:
			d.Actor = events.Actor{Anonymous: true}
		}
		if d.Actor.PullToken == g.tokens[0].PullToken {
			failRate = 0.10
		}
		if r.IntN(2) == 0 {
			d.Method = http.MethodHead
		}
		d.MediaType = mediaManifest
		if tag := evListTags[g.skewed(len(evListTags))]; r.IntN(10) < 7 {
			d.Tag = tag
			if d.Digest = g.digests[repo+":"+tag]; d.Digest == "" {
				d.Digest = g.digest()
				g.digests[repo+":"+tag] = d.Digest
			}
		} else {
			d.Digest = g.digest()
		}
	}
	if r.Float64() < failRate {
		fails := pullFailures
		if typ == events.TypePush {
			fails = pushFailures
		}
		e := fails[r.IntN(len(fails))]
		d.Error, d.MediaType = &e, ""
		if typ == events.TypePull && d.Tag != "" {
			d.Digest = "" // a failed GET by tag knows no digest
		}
	}
	e, err := eventRow(eventID(at), typ, evListSource, d)
	if err != nil {
		panic(err) // Data.MarshalJSON fails only on a time it cannot format
	}
	return e
}

// evListSource is the seeded events' CloudEvents source: the registry's
// URL.
const evListSource = "https://registry.acme.example"

// eventRow is d as a row of the event log, as events.Recorder makes it:
// the data is Data.MarshalJSON's, the actor its key, the subject
// repository:tag or repository@digest (CloudEvents), the error code kept
// beside the data.
func eventRow(id, typ, source string, d events.Data) (store.Event, error) {
	b, err := d.MarshalJSON()
	if err != nil {
		return store.Event{}, err
	}
	subject := d.Repository
	switch {
	case d.Tag != "":
		subject += ":" + d.Tag
	case d.Digest != "":
		subject += "@" + d.Digest
	}
	e := store.Event{
		ID: id, Type: typ, Source: source, Subject: subject, Time: d.When,
		Repository: d.Repository, Failed: d.Error != nil, Actor: d.Actor.Key(), Data: b,
	}
	if d.Error != nil {
		e.ErrorCode = d.Error.Code
	}
	return e, nil
}

// eventID is an event id of the registry's form: 32 hex digits, the time
// in milliseconds and then 80 random bits (so ids grow with time, as the
// registry's do).
func eventID(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	_, _ = crand.Read(b[6:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
