package sqlstore

import (
	"context"

	"github.com/chainctl/chainctl/internal/store"
)

// tx is a store.Tx on a write transaction.
type tx struct {
	s  *Store
	tx Conn
}

var _ store.Tx = tx{}

// Exec implements store.Tx.
func (t tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return affected(t.tx.ExecContext(ctx, query, args...))
}

// DeleteUpload implements store.Tx.
func (t tx) DeleteUpload(ctx context.Context, id string) error {
	_, err := t.s.run(ctx, t.tx, deleteUpload).ExecContext(ctx, id)
	return err
}

// AppendEvent implements store.Tx.
func (t tx) AppendEvent(ctx context.Context, e store.Event) error {
	return t.s.appendEvent(ctx, t.tx, e)
}

// runAlso runs a write's store.TxFuncs, in order, in its transaction; the
// first error stops them and rolls everything back.
func (s *Store) runAlso(ctx context.Context, sqlTx Conn, also []store.TxFunc, w store.Written) error {
	for _, fn := range also {
		if err := fn(ctx, tx{s, sqlTx}, w); err != nil {
			return err
		}
	}
	return nil
}
