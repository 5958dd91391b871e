// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server at CHAINCTL_TEST_POSTGRES (default: user postgres,
// no password, 127.0.0.1:5432), dropped when the test ends. Without a
// server tests skip, or fail under CHAINCTL_TEST_REQUIRE_ALL=1.
package pgtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultTestDSN is the local server CI and developers run; override it
// with CHAINCTL_TEST_POSTGRES.
const defaultTestDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DSN is the test server's connection string.
func DSN() string {
	if dsn := os.Getenv("CHAINCTL_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultTestDSN
}

// requireOrSkip skips, or fails when CHAINCTL_TEST_REQUIRE_ALL=1, so that
// CI cannot go green by skipping.
func requireOrSkip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
		t.Fatalf(format+" (CHAINCTL_TEST_REQUIRE_ALL=1)", args...)
	}
	t.Skipf(format+"; start PostgreSQL or set CHAINCTL_TEST_POSTGRES", args...)
}

// Exec runs statements on the test server outside any store, or
// skips the test when the server is unreachable.
func Exec(t testing.TB, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, DSN())
	if err == nil {
		err = conn.Ping(ctx)
	}
	if err != nil {
		requireOrSkip(t, "PostgreSQL at %s unreachable: %v", redacted(DSN()), err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// redacted is dsn without a password, for test messages.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return "CHAINCTL_TEST_POSTGRES"
}

// Schema creates an empty, uniquely named schema, drops it when the
// test ends, and returns a DSN whose connections use it: parallel tests
// and parallel runs never share tables.
func Schema(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("chainctl_test_%d_%016x", os.Getpid(), rand.Uint64())
	ident := pgx.Identifier{name}.Sanitize()
	Exec(t, "CREATE SCHEMA "+ident)
	t.Cleanup(func() { Exec(t, "DROP SCHEMA "+ident+" CASCADE") })
	return withSearchPath(t, DSN(), name)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("CHAINCTL_TEST_POSTGRES is not a URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
