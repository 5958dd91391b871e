package sqlstore

import (
	"context"
	"database/sql"

	"github.com/chainctl/chainctl/internal/store"
)

// tx is a store.Tx on a write transaction.
type tx struct{ tx *sql.Tx }

var _ store.Tx = tx{}

// Exec implements store.Tx.
func (t tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return affected(t.tx.ExecContext(ctx, query, args...))
}

// runAlso runs a write's store.TxFuncs, in order, in its transaction; the
// first error stops them and rolls everything back.
func runAlso(ctx context.Context, sqlTx *sql.Tx, also []store.TxFunc) error {
	for _, fn := range also {
		if err := fn(ctx, tx{sqlTx}); err != nil {
			return err
		}
	}
	return nil
}
