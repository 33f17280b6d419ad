// Package identitybench holds the identity benchmarks (see BENCHMARKS.md,
// section "Identity"): launch-data signing beside raw ES256 signing, and,
// in ./exchange, authorization-code exchange at the token endpoint over
// loopback HTTP beside a trivial JSON handler. Run them with
// bench/identity.sh.
package identitybench

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// AppID and AppSecret are the benchmark app's credentials.
const (
	AppID     = "bench"
	AppSecret = "bench-secret-0123456789abcdef"
)

// Fixture is a migrated database with one org, one app, one user who granted
// the profile scope, and the identity service on it.
type Fixture struct {
	DB      *sqldb.DB
	Service *identity.Service
	Account int64
}

// clients checks the app secret against a table of SHA-256 hashes, as the
// app service does.
type clients struct{ db *sqldb.DB }

func (c clients) AuthenticateClient(ctx context.Context, appID, secret string) (int64, error) {
	var hash string
	var org int64
	err := c.db.QueryRow(ctx, `SELECT s.secret_hash, a.org_id FROM bench_app_secrets s JOIN apps a ON a.id = s.app_id WHERE s.app_id = ?`, appID).Scan(&hash, &org)
	if errors.Is(err, sqldb.ErrNotFound) {
		return 0, openmini.Errorf(openmini.EUNAUTHORIZED, "unknown app")
	}
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) != 1 {
		return 0, openmini.Errorf(openmini.EUNAUTHORIZED, "wrong secret")
	}
	return org, nil
}

// Open creates the fixture on the database at dbURL ("" = SQLite in dir),
// with issuer as the service's issuer.
func Open(ctx context.Context, dbURL, dir, issuer string) (*Fixture, error) {
	db, err := sqldb.Open(ctx, sqldb.Config{URL: dbURL, DataDir: dir})
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	var org int64
	if err := db.QueryRow(ctx, `INSERT INTO orgs (slug, name, created_at) VALUES ('bench', 'Bench', ?) RETURNING id`, now).Scan(&org); err != nil {
		return nil, fmt.Errorf("fixture org: %w", err)
	}
	sum := sha256.Sum256([]byte(AppSecret))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO apps (id, org_id, name, created_at) VALUES (?, ?, 'Bench', ?)`, []any{AppID, org, now}},
		{`CREATE TABLE bench_app_secrets (app_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL)`, nil},
		{`INSERT INTO bench_app_secrets (app_id, secret_hash) VALUES (?, ?)`, []any{AppID, hex.EncodeToString(sum[:])}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			return nil, fmt.Errorf("fixture: %w", err)
		}
	}
	f := &Fixture{DB: db}
	f.Service, err = identity.New(db, ratelimit.New(db, nil), identity.Config{
		Issuer:  issuer,
		Clients: clients{db},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	if err := db.QueryRow(ctx, `INSERT INTO accounts (email, name, created_at) VALUES ('bench@example.com', 'Bench User', ?) RETURNING id`, now).Scan(&f.Account); err != nil {
		return nil, fmt.Errorf("fixture account: %w", err)
	}
	if err := f.Service.Grant(ctx, f.Account, AppID, []identity.ScopeGrant{{Scope: identity.ScopeProfile, Reason: "benchmark"}}); err != nil {
		return nil, err
	}
	return f, nil
}

// Codes issues n auth codes for the fixture's user (openid and profile).
func (f *Fixture) Codes(ctx context.Context, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		ac, err := f.Service.GetAuthCode(ctx, f.Account, AppID, []string{identity.ScopeProfile})
		if err != nil {
			return nil, err
		}
		out[i] = ac.Code
	}
	return out, nil
}
