package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/sqldb"
)

// APIKey is a credential for the CLI and CI. The token is shown once, at
// creation; only its hash and a short prefix are kept.
type APIKey struct {
	ID         int64     `json:"id"`
	OrgID      int64     `json:"org_id"`
	AppID      string    `json:"app_id,omitempty"` // scope: only this app, when set
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"` // the first characters of the token, to recognise it
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	Revoked    bool      `json:"revoked"`
}

// KeyPrefix starts every API key token, so leaked keys are easy to find.
const KeyPrefix = "omk_"

// CreateAPIKey makes a key for org (and only appID, when given); owners
// and developers may. It returns the key and its token.
func (s *Service) CreateAPIKey(ctx context.Context, actor openmini.Actor, orgID int64, appID, name string) (APIKey, string, error) {
	if actor.IsKey() {
		return APIKey{}, "", openmini.Errorf(openmini.EFORBIDDEN, "an API key cannot create API keys; sign in to the console")
	}
	if err := s.Require(ctx, actor, orgID, RoleDeveloper); err != nil {
		return APIKey{}, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 60 {
		return APIKey{}, "", openmini.Errorf(openmini.EINVALID, "name: give the key a name of 1 to 60 characters (e.g. \"CI deploy\")")
	}
	var app any
	if appID != "" {
		var owner int64
		err := s.db.QueryRow(ctx, `SELECT org_id FROM apps WHERE id = ?`, appID).Scan(&owner)
		if errors.Is(err, sqldb.ErrNotFound) || (err == nil && owner != orgID) {
			return APIKey{}, "", openmini.Errorf(openmini.EINVALID, "app: %s is not an app of this organisation", appID)
		}
		if err != nil {
			return APIKey{}, "", err
		}
		app = appID
	}
	token := KeyPrefix + randomID(32)
	k := APIKey{OrgID: orgID, AppID: appID, Name: name, Prefix: token[:len(KeyPrefix)+6], CreatedAt: s.now()}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_keys (org_id, app_id, name, prefix, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			orgID, app, name, k.Prefix, account.HashToken(token), actor.AccountID, k.CreatedAt.UnixMilli()).Scan(&k.ID)
		if err != nil {
			return fmt.Errorf("create API key: %w", err)
		}
		return audit.Record(ctx, tx, actor, orgID, appID, "apikey.create", map[string]any{"id": k.ID, "name": name})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, token, nil
}

// APIKeys lists an organisation's keys (developers and up).
func (s *Service) APIKeys(ctx context.Context, actor openmini.Actor, orgID int64) ([]APIKey, error) {
	if err := s.Require(ctx, actor, orgID, RoleDeveloper); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, org_id, COALESCE(app_id, ''), name, prefix, created_at, last_used_at, revoked_at
		FROM api_keys WHERE org_id = ? ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var at, used, rev int64
		if err := rows.Scan(&k.ID, &k.OrgID, &k.AppID, &k.Name, &k.Prefix, &at, &used, &rev); err != nil {
			return nil, err
		}
		k.CreatedAt, k.Revoked = time.UnixMilli(at), rev != 0
		if used != 0 {
			k.LastUsedAt = time.UnixMilli(used)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey disables a key at once, on every replica.
func (s *Service) RevokeAPIKey(ctx context.Context, actor openmini.Actor, orgID, keyID int64) error {
	if err := s.Require(ctx, actor, orgID, RoleDeveloper); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND org_id = ? AND revoked_at = 0`, s.now().UnixMilli(), keyID, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return openmini.Errorf(openmini.ENOTFOUND, "no active API key %d in this organisation", keyID)
		}
		return audit.Record(ctx, tx, actor, orgID, "", "apikey.revoke", map[string]any{"id": keyID})
	})
}

// ErrBadKey is the one answer for unknown and revoked keys.
var ErrBadKey = openmini.Errorf(openmini.EUNAUTHORIZED, "the API key is not valid (unknown or revoked); create one in the console or run `openmini login`")

// AuthenticateKey turns a token into the Actor it acts as, and records its
// use (at most once a minute per key, to keep reads cheap).
func (s *Service) AuthenticateKey(ctx context.Context, token string) (openmini.Actor, error) {
	if !strings.HasPrefix(token, KeyPrefix) || len(token) > 100 {
		return openmini.Actor{}, ErrBadKey
	}
	var k APIKey
	var used, rev, by int64
	var email string
	err := s.db.QueryRow(ctx, `SELECT k.id, k.org_id, COALESCE(k.app_id, ''), k.name, k.last_used_at, k.revoked_at, COALESCE(k.created_by, 0), COALESCE(a.email, '')
		FROM api_keys k LEFT JOIN accounts a ON a.id = k.created_by WHERE k.token_hash = ?`, account.HashToken(token)).
		Scan(&k.ID, &k.OrgID, &k.AppID, &k.Name, &used, &rev, &by, &email)
	if errors.Is(err, sqldb.ErrNotFound) || rev != 0 {
		return openmini.Actor{}, ErrBadKey
	}
	if err != nil {
		return openmini.Actor{}, fmt.Errorf("authenticate API key: %w", err)
	}
	now := s.now()
	if now.UnixMilli()-used > 60_000 {
		if _, err := s.db.Exec(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, now.UnixMilli(), k.ID); err != nil {
			return openmini.Actor{}, fmt.Errorf("authenticate API key: %w", err)
		}
	}
	label := "API key " + k.Name
	if email != "" {
		label += " (" + email + ")"
	}
	return openmini.Actor{AccountID: by, Label: label, KeyID: k.ID, KeyOrgID: k.OrgID, KeyAppID: k.AppID}, nil
}
