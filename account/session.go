package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Sessions live in the database so that any replica recognises them.

// ErrNoSession is returned for a missing, unknown or expired session token.
var ErrNoSession = openmini.Errorf(openmini.EUNAUTHORIZED, "not signed in")

// CreateSession starts a session for an account and returns its token (the
// cookie value). Only the token's hash is stored.
func (s *Service) CreateSession(ctx context.Context, accountID int64) (string, error) {
	token, hash := newToken()
	now := s.now()
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
		hash, accountID, now.UnixMilli(), now.Add(s.SessionTTL).UnixMilli(), now.UnixMilli())
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// SessionAccount returns the account a session token belongs to, or
// ErrNoSession. A session used more than an hour after its last recorded
// use is extended.
func (s *Service) SessionAccount(ctx context.Context, token string) (Account, error) {
	if token == "" || len(token) > 100 {
		return Account{}, ErrNoSession
	}
	hash := HashToken(token)
	now := s.now()
	var a Account
	var created, expires, seen int64
	err := s.db.QueryRow(ctx, `SELECT a.id, COALESCE(a.email, ''), COALESCE(a.phone, ''), a.name, a.staff_role, a.created_at, s.expires_at, s.last_seen_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, hash).
		Scan(&a.ID, &a.Email, &a.Phone, &a.Name, &a.StaffRole, &created, &expires, &seen)
	if errors.Is(err, sqldb.ErrNotFound) {
		return Account{}, ErrNoSession
	}
	if err != nil {
		return Account{}, fmt.Errorf("session: %w", err)
	}
	a.CreatedAt = time.UnixMilli(created)
	if now.UnixMilli() >= expires {
		return Account{}, ErrNoSession
	}
	if now.Sub(time.UnixMilli(seen)) > time.Hour {
		_, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`,
			now.UnixMilli(), now.Add(s.SessionTTL).UnixMilli(), hash)
		if err != nil {
			return Account{}, fmt.Errorf("extend session: %w", err)
		}
	}
	return a, nil
}

// DeleteSession ends a session (sign out). Unknown tokens are ignored.
func (s *Service) DeleteSession(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, HashToken(token))
	return err
}

// PurgeSessions deletes expired sessions.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}
