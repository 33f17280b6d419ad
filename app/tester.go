package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/sqldb"
)

// Tester is an account allowed to open an app's trial version.
type Tester struct {
	AccountID int64     `json:"account_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	AddedAt   time.Time `json:"added_at"`
}

// Testers lists an app's testers (viewers and up).
func (s *Service) Testers(ctx context.Context, actor openmini.Actor, id string) ([]Tester, error) {
	if _, err := s.Require(ctx, actor, id, org.RoleViewer); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT a.id, COALESCE(a.email, ''), a.name, t.created_at FROM app_testers t
		JOIN accounts a ON a.id = t.account_id WHERE t.app_id = ? ORDER BY t.created_at, a.id`, id)
	if err != nil {
		return nil, fmt.Errorf("list testers: %w", err)
	}
	defer rows.Close()
	out := []Tester{}
	for rows.Next() {
		var t Tester
		var at int64
		if err := rows.Scan(&t.AccountID, &t.Email, &t.Name, &at); err != nil {
			return nil, err
		}
		t.AddedAt = time.UnixMilli(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// AddTester lets the account with that e-mail open the trial version
// (developers and up). The person must have an account on the host.
func (s *Service) AddTester(ctx context.Context, actor openmini.Actor, id, email string) (Tester, error) {
	a, err := s.Require(ctx, actor, id, org.RoleDeveloper)
	if err != nil {
		return Tester{}, err
	}
	email = account.NormalizeEmail(email)
	var t Tester
	err = s.db.QueryRow(ctx, `SELECT id, email, name FROM accounts WHERE email = ?`, email).Scan(&t.AccountID, &t.Email, &t.Name)
	if errors.Is(err, sqldb.ErrNotFound) {
		return Tester{}, openmini.Errorf(openmini.ENOTFOUND, "tester: nobody has signed up with %s yet; ask them to sign up on the host first", email)
	}
	if err != nil {
		return Tester{}, err
	}
	t.AddedAt = s.now()
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO app_testers (app_id, account_id, created_at) VALUES (?, ?, ?)`, id, t.AccountID, t.AddedAt.UnixMilli())
		if errors.Is(err, sqldb.ErrUnique) {
			return openmini.Errorf(openmini.ECONFLICT, "tester: %s is already a tester", email)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, id, "tester.add", map[string]any{"email": email})
	})
	return t, err
}

// RemoveTester takes a tester off the list.
func (s *Service) RemoveTester(ctx context.Context, actor openmini.Actor, id string, accountID int64) error {
	a, err := s.Require(ctx, actor, id, org.RoleDeveloper)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM app_testers WHERE app_id = ? AND account_id = ?`, id, accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return openmini.Errorf(openmini.ENOTFOUND, "account %d is not a tester of %s", accountID, id)
		}
		return audit.Record(ctx, tx, actor, a.OrgID, id, "tester.remove", map[string]any{"account_id": accountID})
	})
}

// CanTry reports whether an account may open the app's trial version: a
// member of the app's organisation or a listed tester.
func (s *Service) CanTry(ctx context.Context, appID string, accountID int64) (bool, error) {
	if accountID == 0 {
		return false, nil
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM app_testers WHERE app_id = ? AND account_id = ?)
		+ (SELECT COUNT(*) FROM org_members m JOIN apps a ON a.org_id = m.org_id WHERE a.id = ? AND m.account_id = ?)`,
		appID, accountID, appID, accountID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("can try: %w", err)
	}
	return n > 0, nil
}
