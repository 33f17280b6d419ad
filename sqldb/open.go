package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config says which database to open.
type Config struct {
	// URL is empty (SQLite in DataDir), sqlite:PATH / sqlite:///abs/path, or
	// postgres://... / postgresql://...
	URL string
	// DataDir holds the default SQLite file, openmini.db.
	DataDir string
	// MaxConns caps the PostgreSQL pool (and SQLite's read pool). 0 = default.
	MaxConns int
	// ConnectTimeout bounds the first connection attempt. 0 = 5s.
	ConnectTimeout time.Duration
}

// Open connects, checks the connection and applies pending migrations. Errors
// name the setting at fault ("--database-url: ...") so the server can print
// them as they are. Nothing is created when the URL is malformed; an SQLite
// file is created only once its directory proved writable.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	dialect, target, err := parseURL(cfg.URL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	timeout := cfg.ConnectTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	var db *DB
	switch dialect {
	case SQLite:
		db, err = openSQLite(ctx, target, cfg.MaxConns)
	case Postgres:
		db, err = openPostgres(ctx, target, cfg.MaxConns, timeout)
	}
	if err != nil {
		return nil, err
	}
	db.rebindCache = make(map[string]string)
	db.writeStmts = &stmtCache{m: map[string]*sql.Stmt{}}
	db.readStmts = &stmtCache{m: map[string]*sql.Stmt{}}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// parseURL validates the database URL and returns the dialect and the
// driver-specific target (a file path or a PostgreSQL URL).
func parseURL(raw, dataDir string) (Dialect, string, error) {
	if raw == "" {
		if dataDir == "" {
			return "", "", errors.New("--data: no data directory given for the default SQLite database")
		}
		return SQLite, filepath.Join(dataDir, "openmini.db"), nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("--database-url: malformed URL: %v", redactErr(err, raw))
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		if u.Host == "" && u.Query().Get("host") == "" {
			return "", "", errors.New("--database-url: postgres URL has no host (want postgres://user:pass@host:5432/db)")
		}
		return Postgres, raw, nil
	case "sqlite", "sqlite3", "file":
		p := u.Opaque
		if p == "" {
			p = u.Path
		}
		if p == "" {
			return "", "", errors.New("--database-url: sqlite URL has no file path (want sqlite:///abs/path/openmini.db)")
		}
		return SQLite, p, nil
	default:
		return "", "", fmt.Errorf("--database-url: unsupported scheme %q (use postgres:// or sqlite://)", u.Scheme)
	}
}

// redactErr keeps url.Parse's reason without echoing a password.
func redactErr(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return strings.ReplaceAll(err.Error(), raw, "<url>")
}

// sqliteDSN builds a modernc.org/sqlite DSN with the platform's pragmas.
func sqliteDSN(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-16000)")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string, maxConns int) (*DB, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("--data: cannot create %s: %v", dir, unwrapPathErr(err))
	}
	if err := checkWritable(dir); err != nil {
		return nil, fmt.Errorf("--data: directory %s is not writable: %v", dir, err)
	}
	write, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("--database-url: open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("--database-url: open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("--database-url: open sqlite %s: %w", path, err)
	}
	if maxConns <= 0 {
		maxConns = 8
	}
	read.SetMaxOpenConns(maxConns)
	read.SetMaxIdleConns(maxConns)
	return &DB{dialect: SQLite, write: write, read: read, desc: "sqlite " + path}, nil
}

func openPostgres(ctx context.Context, dsn string, maxConns int, timeout time.Duration) (*DB, error) {
	u, _ := url.Parse(dsn)
	desc := "postgres " + u.Host + u.Path
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("--database-url: %s: %v", desc, err)
	}
	if maxConns <= 0 {
		maxConns = 20
	}
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(maxConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("--database-url: cannot connect to %s: %s", desc, oneLine(err))
	}
	return &DB{dialect: Postgres, write: pool, read: pool, desc: desc}, nil
}

// checkWritable proves dir accepts new files by creating and removing one.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".openmini-probe-*")
	if err != nil {
		return unwrapPathErr(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// oneLine folds a multi-line driver error (pgx lists every address it
// tried) into one line without repeats.
func oneLine(err error) string {
	var parts []string
	seen := map[string]bool{}
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !seen[l] {
			seen[l] = true
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
