package sqlstore

import (
	"context"
	"errors"
	"fmt"
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
	return out, nil
}

// SummarizeEvents implements store.Events: three GROUP BYs over what f
// selects, in one read transaction so that they agree.
func (s *Store) SummarizeEvents(ctx context.Context, f store.EventFilter) (store.EventSummary, error) {
	var sum store.EventSummary
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return sum, fmt.Errorf("summarize events: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	group := func(key string, failedOnly bool) ([]store.EventCount, error) {
		w := s.eventWhere(f)
		cols, scan := key+", type, count(*), sum(failed)", func(r scanner) (store.EventCount, error) {
			var c store.EventCount
			return c, r.Scan(&c.Key, &c.Type, &c.Count, &c.Failed)
		}
		groupBy := key + ", type"
		if failedOnly {
			w.add("failed = 1")
			cols, groupBy = key+", count(*)", key
			scan = func(r scanner) (store.EventCount, error) {
				var c store.EventCount
				return c, r.Scan(&c.Key, &c.Count)
			}
		}
		q := fmt.Sprintf("SELECT %s FROM events%s GROUP BY %s ORDER BY count(*) DESC, %[3]s LIMIT %d",
			cols, w.String(), groupBy, maxSummaryRows)
		return collect(ctx, text{tx, q}, scan, w.args...)
	}
	if sum.Repositories, err = group("repository", false); err != nil {
		return sum, fmt.Errorf("summarize events by repository: %w", err)
	}
	if sum.Actors, err = group("actor", false); err != nil {
		return sum, fmt.Errorf("summarize events by actor: %w", err)
	}
	if sum.Failures, err = group("error_code", true); err != nil {
		return sum, fmt.Errorf("summarize failures: %w", err)
	}
	w := s.eventWhere(f)
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM events"+w.String(), w.args...).Scan(&sum.Total); err != nil {
		return sum, fmt.Errorf("count events: %w", err)
	}
	return sum, nil
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

// eventWhere is f's conditions, but Before and Limit.
func (s *Store) eventWhere(f store.EventFilter) *where {
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
	if f.Subject != "" {
		w.add("subject = " + w.arg(f.Subject))
	}
	if !f.Since.IsZero() {
		w.add("time >= " + w.arg(nanos(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("time < " + w.arg(nanos(f.Until)))
	}
	switch f.Outcome {
	case store.Succeeded:
		w.add("failed = 0")
	case store.Failed:
		w.add("failed = 1")
	}
	return w
}
