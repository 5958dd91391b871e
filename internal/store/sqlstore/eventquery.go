package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chainctl/chainctl/internal/store"
)

// The event log's queries are built at run time from a filter: each
// condition is one indexed column (migration 0011), and the order, (time,
// seq) descending, is the order of every index on events, so a page of a
// filtered listing reads about as many index entries as it returns rather
// than sorting what the filter selects.

// eventSelect is the column list of QueryEvents, scanEvent's.
const eventSelect = `SELECT seq, id, type, source, subject, time, repository, failed, actor, error_code, data FROM events`

// maxEventPage caps QueryEvents' limit, whatever the caller asks.
const maxEventPage = 10000

// maxSummaryRows caps each list of a summary.
const maxSummaryRows = 1000

// pushType is the type of push events, as migration 0011's partial index
// events_pushes names it: a query uses that index only if it names the
// type as this literal, not as a parameter.
const pushType = "dev.chainctl.registry.push.v1"

// QueryEvents implements store.Events.
func (s *Store) QueryEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	if f.Limit <= 0 {
		return nil, errors.New("query events: the limit must be positive")
	}
	w := s.eventWhere(f)
	if !f.Before.IsZero() {
		// time <= t is a range any index on (…, time) serves; the rest
		// only sorts out events of that very nanosecond.
		t := nanos(f.Before.Time)
		w.add(fmt.Sprintf("time <= %s AND (time < %s OR seq < %s)", w.arg(t), w.arg(t), w.arg(f.Before.Seq)))
	}
	// The page's seqs first, from an index that covers every filter, then
	// their rows: when the events must be sorted (a prefix spans many
	// repositories, each in time order), only (time, seq) pairs are, not
	// whole rows with their data.
	q := eventSelect + " WHERE seq IN (SELECT seq FROM events" + w.String() + " ORDER BY time DESC, seq DESC LIMIT " +
		w.arg(min(f.Limit, maxEventPage)) + ") ORDER BY time DESC, seq DESC"
	out, err := collect(ctx, text{s.r, q}, scanEvent, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	if noPacks(f) {
		return out, nil
	}
	top := &topEvents{limit: min(f.Limit, maxEventPage), cmp: newestFirst}
	for _, e := range out {
		top.add(e)
	}
	pw := s.filterWhere(f, true)
	if !f.Before.IsZero() {
		pw.add("time_first <= " + pw.arg(nanos(f.Before.Time)))
	}
	err = s.scanPacks(ctx, s.r, pw, newestPacks, top.limit, func(p *packRow) (bool, error) {
		if worst, ok := top.bound(); ok && p.timeLast < nanos(worst.Time) {
			return false, nil // every event of this pack and the rest is older
		}
		return true, p.expand(func(e store.Event) error {
			if eventMatches(f, e) && after(f.Before, e) {
				top.add(e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return append([]store.Event{}, top.sorted()...), nil
}

// noPacks reports whether f selects only successful pushes, which are
// never packed.
func noPacks(f store.EventFilter) bool {
	return f.Type == pushType && f.Outcome == store.Succeeded
}

// after reports whether e comes after pos in QueryEvents' order (is
// older); every event does after the zero position.
func after(pos store.EventPosition, e store.Event) bool {
	if pos.IsZero() {
		return true
	}
	t := nanos(pos.Time)
	return nanos(e.Time) < t || (nanos(e.Time) == t && e.Seq < pos.Seq)
}

// SummarizeEvents implements store.Events, in one read transaction so
// that its counts agree: a GROUP BY over the rows f selects; one over the
// packs wholly inside f's time range, by their counts; and the events of
// the packs on its edges (or of every pack f selects, when it names a
// subject) counted one by one. The caps apply to the sums.
func (s *Store) SummarizeEvents(ctx context.Context, f store.EventFilter) (store.EventSummary, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return store.EventSummary{}, fmt.Errorf("summarize events: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	acc := newSummary()
	w := s.eventWhere(f)
	rows := "SELECT repository, actor, type, failed, error_code, count(*) FROM events" + w.String() + " GROUP BY repository, actor, type, failed, error_code"
	if err := acc.addGroups(ctx, text{tx, rows}, w.args); err != nil {
		return store.EventSummary{}, fmt.Errorf("summarize events: %w", err)
	}
	if !noPacks(f) {
		if err := s.summarizePacks(ctx, tx, f, acc); err != nil {
			return store.EventSummary{}, fmt.Errorf("summarize packed events: %w", err)
		}
	}
	return acc.summary(), nil
}

// summarizePacks adds to acc the packed events f selects.
func (s *Store) summarizePacks(ctx context.Context, tx Conn, f store.EventFilter, acc *summary) error {
	edge := f.Subject != "" // a subject is the events', not the pack's
	if !edge {
		w := s.filterWhere(f, true)
		if !f.Since.IsZero() {
			w.add("time_first >= " + w.arg(nanos(f.Since)))
		}
		if !f.Until.IsZero() {
			w.add("time_last < " + w.arg(nanos(f.Until)))
		}
		q := "SELECT repository, actor, type, failed, error_code, sum(count) FROM event_packs" + w.String() +
			" GROUP BY repository, actor, type, failed, error_code"
		if err := acc.addGroups(ctx, text{tx, q}, w.args); err != nil {
			return err
		}
		if f.Since.IsZero() && f.Until.IsZero() {
			return nil
		}
	}
	w := s.filterWhere(f, true)
	if !edge {
		var or []string
		if !f.Since.IsZero() {
			or = append(or, "time_first < "+w.arg(nanos(f.Since)))
		}
		if !f.Until.IsZero() {
			or = append(or, "time_last >= "+w.arg(nanos(f.Until)))
		}
		w.add("(" + strings.Join(or, " OR ") + ")")
	}
	return s.scanPacksIn(ctx, tx, w, func(p *packRow) error {
		return p.expand(func(e store.Event) error {
			if eventMatches(f, e) {
				acc.add(e.Repository, e.Actor, e.Type, e.Failed, e.ErrorCode, 1)
			}
			return nil
		})
	})
}

// summary sums events by repository and type, by actor and type, and
// failures by error code.
type summary struct {
	total         int64
	repos, actors map[[2]string]*store.EventCount
	failures      map[string]*store.EventCount
}

func newSummary() *summary {
	return &summary{repos: map[[2]string]*store.EventCount{}, actors: map[[2]string]*store.EventCount{}, failures: map[string]*store.EventCount{}}
}

func (a *summary) add(repo, actor, typ string, failed bool, code string, n int64) {
	a.total += n
	for _, k := range []struct {
		m   map[[2]string]*store.EventCount
		key string
	}{{a.repos, repo}, {a.actors, actor}} {
		c := k.m[[2]string{k.key, typ}]
		if c == nil {
			c = &store.EventCount{Key: k.key, Type: typ}
			k.m[[2]string{k.key, typ}] = c
		}
		c.Count += n
		if failed {
			c.Failed += n
		}
	}
	if failed {
		c := a.failures[code]
		if c == nil {
			c = &store.EventCount{Key: code}
			a.failures[code] = c
		}
		c.Count += n
	}
}

// addGroups adds the rows of q: repository, actor, type, failed, error
// code and a count.
func (a *summary) addGroups(ctx context.Context, q runner, args []any) error {
	rows, err := q.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var repo, actor, typ, code string
		var failed int
		var n int64
		if err := rows.Scan(&repo, &actor, &typ, &failed, &code, &n); err != nil {
			return err
		}
		a.add(repo, actor, typ, failed != 0, code, n)
	}
	return rows.Err()
}

// summary is what was added, each list largest count first (then by key
// and type), at most maxSummaryRows long.
func (a *summary) summary() store.EventSummary {
	list := func(counts []*store.EventCount) []store.EventCount {
		slices.SortFunc(counts, func(x, y *store.EventCount) int {
			if c := cmp.Compare(y.Count, x.Count); c != 0 {
				return c
			}
			if c := strings.Compare(x.Key, y.Key); c != 0 {
				return c
			}
			return strings.Compare(x.Type, y.Type)
		})
		out := []store.EventCount{}
		for _, c := range counts[:min(len(counts), maxSummaryRows)] {
			out = append(out, *c)
		}
		return out
	}
	return store.EventSummary{
		Total:        a.total,
		Repositories: list(slices.Collect(maps.Values(a.repos))),
		Actors:       list(slices.Collect(maps.Values(a.actors))),
		Failures:     list(slices.Collect(maps.Values(a.failures))),
	}
}

// where builds a WHERE clause and its arguments, numbered in order.
type where struct {
	s     *Store
	conds []string
	args  []any
}

// arg adds v as the next argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return w.s.param(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// String is " WHERE ..." or "" without conditions.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// eventWhere is f's conditions, but Before and Limit, on events' columns.
func (s *Store) eventWhere(f store.EventFilter) *where { return s.filterWhere(f, false) }

// filterWhere is f's conditions, but Before and Limit: on events' columns,
// or with packs on event_packs', which have no subject and bound their
// events' times (a pack with an event in range may also hold some out of
// it: the caller checks each event with eventMatches).
func (s *Store) filterWhere(f store.EventFilter, packs bool) *where {
	w := &where{s: s}
	if len(f.Repositories) > 0 {
		var or []string
		for _, r := range f.Repositories {
			if base, ok := strings.CutSuffix(r, "/"); ok {
				// A prefix as a range, which any index on repository serves
				// (LIKE would need escaping, and an index of its own on
				// PostgreSQL): "acme/" <= repository < "acme0", '0' being
				// the byte after '/'. Both databases compare bytewise here
				// (SQLite's BINARY, PostgreSQL's COLLATE "C" column).
				or = append(or, fmt.Sprintf("(repository >= %s AND repository < %s)", w.arg(r), w.arg(base+"0")))
			} else {
				or = append(or, "repository = "+w.arg(r))
			}
		}
		w.add("(" + strings.Join(or, " OR ") + ")")
	}
	switch f.Type {
	case "":
	case pushType:
		w.add("type = '" + pushType + "'")
	default:
		w.add("type = " + w.arg(f.Type))
	}
	if len(f.Actors) > 0 {
		var or []string
		for _, a := range f.Actors {
			or = append(or, w.arg(a))
		}
		w.add("actor IN (" + strings.Join(or, ", ") + ")")
	}
	if f.Subject != "" && !packs {
		w.add("subject = " + w.arg(f.Subject))
	}
	since, until := "time >= ", "time < "
	if packs {
		since, until = "time_last >= ", "time_first < "
	}
	if !f.Since.IsZero() {
		w.add(since + w.arg(nanos(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add(until + w.arg(nanos(f.Until)))
	}
	switch f.Outcome {
	case store.Succeeded:
		w.add("failed = 0")
	case store.Failed:
		w.add("failed = 1")
	}
	return w
}

// eventMatches reports whether e, from a pack filterWhere(f, true)
// selected, meets what the pack's columns could not say: its subject and
// time.
func eventMatches(f store.EventFilter, e store.Event) bool {
	return (f.Subject == "" || e.Subject == f.Subject) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}
