// Package sqldb opens the platform's relational database, SQLite (the
// embedded default, pure Go) or PostgreSQL (for scaling out), applies the
// embedded migrations and offers one small query surface that works on both:
// queries are written with `?` placeholders and rebound for PostgreSQL, driver
// errors are turned into the sentinel errors below, and WithTx runs several
// statements in one transaction.
//
// Store packages hold their SQL; this package holds only what every store
// needs. The database is never mocked: tests run on real SQLite and, when a
// PostgreSQL DSN is given, on real PostgreSQL.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Dialect names a supported database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Sentinel errors that stores match with errors.Is, whatever the engine.
var (
	ErrNotFound   = errors.New("row not found")
	ErrUnique     = errors.New("unique constraint violated")
	ErrForeignKey = errors.New("foreign key constraint violated")
	ErrCheck      = errors.New("check constraint violated")
	ErrBusy       = errors.New("database busy or serialization failure")
)

// Querier is what DB and Tx have in common, so a store function can run
// inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *Row
	Dialect() Dialect
}

// DB is an open database. On SQLite it keeps a single-connection pool for
// writes (SQLite has one writer; queueing in Go is cheaper than busy retries)
// and a separate pool for reads. On PostgreSQL both are one pool.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	desc    string // safe description for logs: engine and location, never a password

	rebindMu    sync.RWMutex
	rebindCache map[string]string

	writeStmts, readStmts *stmtCache
}

// Dialect reports the engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// String describes the database for logs without credentials.
func (db *DB) String() string { return db.desc }

// WritePool exposes the pool used for writes, for components (migrations,
// metrics) that need a *sql.DB.
func (db *DB) WritePool() *sql.DB { return db.write }

// ReadPool exposes the pool used for reads.
func (db *DB) ReadPool() *sql.DB { return db.read }

// Close closes both pools.
func (db *DB) Close() error {
	db.writeStmts.close()
	db.readStmts.close()
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.desc, err)
	}
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", db.desc, err)
	}
	return nil
}

// Exec runs a statement on the write pool.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := db.stmt(ctx, db.write, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, db.translate(err)
	}
	res, err := db.write.ExecContext(ctx, db.rebind(query), args...)
	return res, db.translate(err)
}

// Query runs a query: a SELECT on the read pool, a statement that writes
// (INSERT/UPDATE/DELETE ... RETURNING) on the write pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	pool := db.poolFor(query)
	if st := db.stmt(ctx, pool, query); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, db.translate(err)
	}
	rows, err := pool.QueryContext(ctx, db.rebind(query), args...)
	return rows, db.translate(err)
}

// QueryRow runs a query returning at most one row, on the pool Query would
// use. Scan returns ErrNotFound when there is no row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	pool := db.poolFor(query)
	if st := db.stmt(ctx, pool, query); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...), db: db}
	}
	return &Row{row: pool.QueryRowContext(ctx, db.rebind(query), args...), db: db}
}

// maxStmts bounds each pool's prepared statement cache.
const maxStmts = 2000

// stmt returns a cached prepared statement for query on pool (SQLite
// only: parsing SQL is a large share of a small statement's cost there,
// while pgx keeps its own statement cache), or nil to run it unprepared.
func (db *DB) stmt(ctx context.Context, pool *sql.DB, query string) *sql.Stmt {
	if db.dialect != SQLite {
		return nil
	}
	cache := db.readStmts
	if pool == db.write {
		cache = db.writeStmts
	}
	cache.mu.Lock()
	st, ok := cache.m[query]
	full := len(cache.m) >= maxStmts
	cache.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the unprepared path report the error
	}
	cache.mu.Lock()
	if old, ok := cache.m[query]; ok {
		cache.mu.Unlock()
		st.Close()
		return old
	}
	cache.m[query] = st
	cache.mu.Unlock()
	return st
}

// stmtCache holds a pool's prepared statements by query text.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// poolFor picks the write pool for statements that change data and the read
// pool for plain reads. On PostgreSQL both are the same pool.
func (db *DB) poolFor(query string) *sql.DB {
	if db.read == db.write || !IsWrite(query) {
		return db.read
	}
	return db.write
}

// IsWrite reports whether a statement changes data: its first keyword is
// INSERT, UPDATE, DELETE, REPLACE or UPSERT, or it is a WITH ... statement
// that contains one of them.
func IsWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	end := strings.IndexAny(q, " \t\r\n(")
	if end < 0 {
		end = len(q)
	}
	switch strings.ToUpper(q[:end]) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE":
		return true
	case "WITH":
		u := strings.ToUpper(q)
		return strings.Contains(u, "INSERT ") || strings.Contains(u, "UPDATE ") || strings.Contains(u, "DELETE ")
	}
	return false
}

// Row wraps *sql.Row so Scan reports engine-independent errors.
type Row struct {
	row *sql.Row
	db  *DB
}

// Scan copies the row into dest; ErrNotFound when there was no row.
func (r *Row) Scan(dest ...any) error { return r.db.translate(r.row.Scan(dest...)) }

// Tx is a transaction opened by WithTx.
type Tx struct {
	tx     *sql.Tx
	db     *DB
	missed []string // statements to prepare once the transaction is over
}

// Dialect reports the engine.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(ctx, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, tx.db.translate(err)
	}
	res, err := tx.tx.ExecContext(ctx, tx.db.rebind(query), args...)
	return res, tx.db.translate(err)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(ctx, query); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, tx.db.translate(err)
	}
	rows, err := tx.tx.QueryContext(ctx, tx.db.rebind(query), args...)
	return rows, tx.db.translate(err)
}

// QueryRow runs a one-row query in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if st := tx.stmt(ctx, query); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...), db: tx.db}
	}
	return &Row{row: tx.tx.QueryRowContext(ctx, tx.db.rebind(query), args...), db: tx.db}
}

// stmt binds the write pool's cached statement to the transaction (on
// SQLite the transaction runs on that pool's one connection, where the
// statement is already prepared). A statement not cached yet runs
// unprepared and is prepared after the transaction ends: preparing on the
// pool now would wait for the one connection this transaction holds.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.db.dialect != SQLite {
		return nil
	}
	c := tx.db.writeStmts
	c.mu.Lock()
	st := c.m[query]
	c.mu.Unlock()
	if st == nil {
		if len(tx.missed) < 64 {
			tx.missed = append(tx.missed, query)
		}
		return nil
	}
	return tx.tx.StmtContext(ctx, st)
}

// WithTx runs fn in one transaction: committed when fn returns nil, rolled
// back when it returns an error or panics. On SQLite the transaction takes
// the write lock at BEGIN (BEGIN IMMEDIATE), so read-then-write sequences
// never fail half-way with a busy error.
func (db *DB) WithTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", db.translate(err))
	}
	tx := &Tx{tx: sqlTx, db: db}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		} else if cerr := sqlTx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", db.translate(cerr))
		}
		// The connection is free again: prepare what the transaction ran
		// unprepared, for next time.
		for _, q := range tx.missed {
			db.stmt(context.WithoutCancel(ctx), db.write, q)
		}
	}()
	return fn(tx)
}

// rebind turns `?` placeholders into `$1, $2, ...` for PostgreSQL. Question
// marks inside single-quoted string literals are left alone.
func (db *DB) rebind(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	db.rebindMu.RLock()
	q, ok := db.rebindCache[query]
	db.rebindMu.RUnlock()
	if ok {
		return q
	}
	q = Rebind(query)
	db.rebindMu.Lock()
	if len(db.rebindCache) < 10000 {
		db.rebindCache[query] = q
	}
	db.rebindMu.Unlock()
	return q
}

// Rebind rewrites `?` placeholders as PostgreSQL's numbered ones.
func Rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// translate maps driver errors to the package's sentinels, keeping the
// original in the chain for logs.
func (db *DB) translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var sentinel error
	switch db.dialect {
	case SQLite:
		sentinel = sqliteSentinel(err)
	case Postgres:
		sentinel = postgresSentinel(err)
	}
	if sentinel != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return err
}
