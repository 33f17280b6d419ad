package account

import (
	"context"
	"fmt"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// The first operator is created through a one-time setup link printed by
// `openmini serve` while no admin exists. Each starting replica adds its
// own token (so no replica invalidates another's link); all of them are
// deleted when an admin is created. Tokens expire after a day.

const setupPrefix = "setup_token:"

// SetupTTL is how long a setup link stays valid.
const SetupTTL = 24 * time.Hour

// NeedsSetup reports whether no operator admin exists yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE staff_role = 'admin'`).Scan(&n); err != nil {
		return false, fmt.Errorf("needs setup: %w", err)
	}
	return n == 0, nil
}

// NewSetupToken returns a fresh one-time setup token when no admin exists,
// or "" when setup is done.
func (s *Service) NewSetupToken(ctx context.Context) (string, error) {
	need, err := s.NeedsSetup(ctx)
	if err != nil || !need {
		return "", err
	}
	token, hash := newToken()
	now := s.now()
	_, err = s.db.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, ?, ?)`,
		setupPrefix+hash, fmt.Sprint(now.Add(SetupTTL).UnixMilli()), now.UnixMilli())
	if err != nil {
		return "", fmt.Errorf("new setup token: %w", err)
	}
	return token, nil
}

// CheckSetupToken reports whether token is a valid setup token.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	return checkSetupToken(ctx, s.db, token, s.now())
}

func checkSetupToken(ctx context.Context, q sqldb.Querier, token string, now time.Time) error {
	var until int64
	err := q.QueryRow(ctx, `SELECT CAST(value AS BIGINT) FROM platform_settings WHERE key = ?`, setupPrefix+HashToken(token)).Scan(&until)
	if err != nil || until < now.UnixMilli() {
		return openmini.Errorf(openmini.EUNAUTHORIZED, "this setup link is not valid (already used or expired); restart `openmini serve` for a new one")
	}
	return nil
}

// CompleteSetup creates the first admin with a valid setup token and
// invalidates every setup token, all in one transaction.
func (s *Service) CompleteSetup(ctx context.Context, token string, na NewAccount) (Account, error) {
	var a Account
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if err := checkSetupToken(ctx, tx, token, s.now()); err != nil {
			return err
		}
		na.StaffRole = RoleAdmin
		var err error
		a, err = s.Create(ctx, tx, na)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM platform_settings WHERE key LIKE 'setup_token:%'`)
		return err
	})
	return a, err
}
