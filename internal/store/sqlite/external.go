package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// externalCheckEvery bounds how stale the read cache can be after another
// process (`registry gc`) commits to the database file: the cache is
// correct for this process's own writes at once, and for other processes'
// within this interval.
const externalCheckEvery = time.Second

// externalWrites notices commits by other processes with PRAGMA
// data_version, which changes on a connection whenever another connection
// commits. It runs on a connection of its own, at most once per interval,
// so the cached pull path stays free of queries.
type externalWrites struct {
	every time.Duration
	next  atomic.Int64 // Unix ns of the next check

	mu      sync.Mutex
	conn    *sql.Conn
	version int64
}

func newExternalWrites(ctx context.Context, r *sql.DB) (*externalWrites, error) {
	conn, err := r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	e := &externalWrites{every: externalCheckEvery, conn: conn}
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&e.version); err != nil {
		conn.Close()
		return nil, err
	}
	e.next.Store(time.Now().Add(e.every).UnixNano())
	return e, nil
}

// changed reports whether the database changed since the last check that
// ran; false when no check is due. Errors count as a change: the cache is
// then dropped, which is always safe.
func (e *externalWrites) changed(ctx context.Context) bool {
	now := time.Now()
	next := e.next.Load()
	if now.UnixNano() < next || !e.next.CompareAndSwap(next, now.Add(e.every).UnixNano()) {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var v int64
	if err := e.conn.QueryRowContext(context.WithoutCancel(ctx), `PRAGMA data_version`).Scan(&v); err != nil {
		return true
	}
	changed := v != e.version
	e.version = v
	return changed
}

func (e *externalWrites) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn.Close()
}
