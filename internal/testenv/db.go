// Package testenv starts the real parts tests need: a fresh SQLite or
// PostgreSQL database, an S3-compatible server, headless Chromium. Nothing is
// mocked.
//
// Environment:
//
//	OPENMINI_TEST_POSTGRES   admin URL of a throwaway PostgreSQL server; each
//	                         test gets its own freshly created database on it
//	OPENMINI_TEST_DB         sqlite (default) or postgres: the database behind
//	                         server-level tests (DB)
//	OPENMINI_TEST_REQUIRE_ALL=1  fail instead of skipping when a real part is
//	                         missing (set by `make test`)
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/openmini/openmini/sqldb"
)

// RequireAll reports whether missing real parts must fail tests.
func RequireAll() bool { return os.Getenv("OPENMINI_TEST_REQUIRE_ALL") == "1" }

// Missing skips the test, or fails it under OPENMINI_TEST_REQUIRE_ALL=1.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if RequireAll() {
		t.Fatalf("required test dependency missing: %s", msg)
	}
	t.Skipf("skipped: %s", msg)
}

// DatabaseURL returns a --database-url for a fresh, empty database of the
// dialect chosen by OPENMINI_TEST_DB, removed when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	switch d := os.Getenv("OPENMINI_TEST_DB"); d {
	case "", "sqlite":
		return "sqlite://" + filepath.Join(t.TempDir(), "openmini.db")
	case "postgres":
		return PostgresURL(t)
	default:
		t.Fatalf("OPENMINI_TEST_DB=%q: want sqlite or postgres", d)
		return ""
	}
}

// DB opens and migrates a fresh database of the dialect chosen by
// OPENMINI_TEST_DB.
func DB(t testing.TB) *sqldb.DB {
	t.Helper()
	return open(t, DatabaseURL(t))
}

// EachDB runs fn against a fresh SQLite database and a fresh PostgreSQL
// database: the one store test suite for both engines. When
// OPENMINI_TEST_DB names one dialect (make test runs the suite once per
// dialect), only that one runs, so no test runs twice on the same engine.
func EachDB(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	only := os.Getenv("OPENMINI_TEST_DB")
	if only == "" || only == "sqlite" {
		t.Run("sqlite", func(t *testing.T) {
			fn(t, open(t, "sqlite://"+filepath.Join(t.TempDir(), "openmini.db")))
		})
	}
	if only == "" || only == "postgres" {
		t.Run("postgres", func(t *testing.T) {
			fn(t, open(t, PostgresURL(t)))
		})
	}
}

// PostgresOnly skips a test that needs PostgreSQL itself (several replicas
// on one database, say) during the SQLite pass of make test; the
// PostgreSQL pass runs it. Outside make test it runs when
// OPENMINI_TEST_POSTGRES is set.
func PostgresOnly(t testing.TB) string {
	t.Helper()
	if os.Getenv("OPENMINI_TEST_DB") == "sqlite" {
		t.Skip("runs in the OPENMINI_TEST_DB=postgres pass")
	}
	return PostgresURL(t)
}

func open(t testing.TB, dbURL string) *sqldb.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqldb.Open(ctx, sqldb.Config{URL: dbURL, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL creates an empty database on the OPENMINI_TEST_POSTGRES server
// and returns its URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("OPENMINI_TEST_POSTGRES")
	if admin == "" {
		Missing(t, "PostgreSQL: set OPENMINI_TEST_POSTGRES to an admin URL (make test starts one)")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("OPENMINI_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "openmini_test_" + hex.EncodeToString(b)
	pool, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("connect to OPENMINI_TEST_POSTGRES: %v", err)
	}
	ctx := context.Background()
	if _, err := pool.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		pool.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer pool.Close()
		if _, err := pool.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
