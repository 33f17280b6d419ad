package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/sqldb"
)

func sortStrings(s []string) { slices.Sort(s) }

// SecretPrefix starts every app secret.
const SecretPrefix = "oms_"

func (s *Service) addSecret(ctx context.Context, q sqldb.Querier, appID string, now time.Time) (string, error) {
	b := make([]byte, 24)
	rand.Read(b)
	secret := SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
	_, err := q.Exec(ctx, `INSERT INTO app_secrets (app_id, prefix, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, 0)`,
		appID, secret[:len(SecretPrefix)+4], account.HashToken(secret), now.UnixMilli())
	if err != nil {
		return "", fmt.Errorf("add app secret: %w", err)
	}
	return secret, nil
}

// RotateSecret makes a new app secret (returned once) and lets the old
// ones work for SecretGrace more, so a developer's servers can switch
// without downtime. Owners and developers may.
func (s *Service) RotateSecret(ctx context.Context, actor openmini.Actor, id string) (string, time.Time, error) {
	a, err := s.Require(ctx, actor, id, org.RoleDeveloper)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	until := now.Add(s.SecretGrace)
	var secret string
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE app_secrets SET expires_at = ? WHERE app_id = ? AND (expires_at = 0 OR expires_at > ?)`,
			until.UnixMilli(), id, until.UnixMilli()); err != nil {
			return err
		}
		if secret, err = s.addSecret(ctx, tx, id, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, id, "app.secret.rotate", map[string]any{"old_valid_until": until.UTC()})
	})
	return secret, until, err
}

// ErrBadClient is the one answer for a wrong app ID or secret.
var ErrBadClient = openmini.Errorf(openmini.EUNAUTHORIZED, "wrong app ID or app secret")

// AuthenticateClient checks an app's secret (for the OAuth token endpoint
// and server-to-server APIs) and returns the app's organisation.
func (s *Service) AuthenticateClient(ctx context.Context, appID, secret string) (int64, error) {
	if !ValidID(appID) || len(secret) > 200 {
		return 0, ErrBadClient
	}
	rows, err := s.db.Query(ctx, `SELECT s.secret_hash, s.expires_at, a.org_id FROM app_secrets s JOIN apps a ON a.id = s.app_id WHERE s.app_id = ?`, appID)
	if err != nil {
		return 0, fmt.Errorf("authenticate app: %w", err)
	}
	defer rows.Close()
	want := []byte(account.HashToken(secret))
	now := s.now().UnixMilli()
	var orgID int64
	ok := false
	for rows.Next() {
		var hash string
		var exp, o int64
		if err := rows.Scan(&hash, &exp, &o); err != nil {
			return 0, err
		}
		if subtle.ConstantTimeCompare([]byte(hash), want) == 1 && (exp == 0 || exp > now) {
			ok, orgID = true, o
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrBadClient
	}
	return orgID, nil
}
