package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Scopes an auth code may carry. ScopeOpenID, the base scope (the app user
// id), is granted silently; the others need the user's consent first.
const (
	ScopeOpenID   = "openid"
	ScopeProfile  = "profile"  // nickname and avatar
	ScopePhone    = "phone"    // phone number
	ScopeEmail    = "email"    // e-mail address
	ScopeLocation = "location" // the host hands out the location; userinfo adds nothing
)

var authScopes = []string{ScopeOpenID, ScopeProfile, ScopePhone, ScopeEmail, ScopeLocation}

// NormalizeScopes checks requested auth-code scopes and returns them sorted,
// without duplicates, with openid always included. Unknown scopes are an
// invalid error naming them.
func NormalizeScopes(scopes []string) ([]string, error) {
	out := []string{ScopeOpenID}
	for _, sc := range scopes {
		sc = strings.TrimSpace(sc)
		if sc == "" {
			continue
		}
		if !slices.Contains(authScopes, sc) {
			return nil, invalid("scope: %q is not one of %s", sc, strings.Join(authScopes, ", "))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return out, nil
}

// checkScopeName accepts auth scopes and host permission names such as
// "camera" or "scope.record": lower-case letters, digits, '.', '_', '-'.
func checkScopeName(sc string) error {
	if sc == "" || len(sc) > 64 {
		return invalid("scope: give a name of 1 to 64 characters")
	}
	for _, c := range sc {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid("scope: %q may hold only a-z, 0-9, '.', '_' and '-'", sc)
		}
	}
	return nil
}

// ScopeGrant is one scope a user allowed an app, with the reason the app's
// manifest gave when the user was asked.
type ScopeGrant struct {
	Scope     string
	Reason    string
	GrantedAt time.Time
}

// AppGrants is what one app may access.
type AppGrants struct {
	AppID   string
	AppName string
	Scopes  []ScopeGrant // sorted by scope
}

// Grant records the user's consent to scopes for an app, replacing the
// reason of scopes already granted. The caller (the consent sheet) passes
// the reasons from the app's manifest. not_found when the app or account
// does not exist; invalid for malformed scope names or reasons over 200
// characters.
func (s *Service) Grant(ctx context.Context, accountID int64, appID string, grants []ScopeGrant) error {
	for _, g := range grants {
		if err := checkScopeName(g.Scope); err != nil {
			return err
		}
		if utf8.RuneCountInString(g.Reason) > 200 {
			return invalid("reason: the reason for %s is over 200 characters", g.Scope)
		}
	}
	now := s.now().UnixMilli()
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		for _, g := range grants {
			if err := grant(ctx, tx, accountID, appID, g.Scope, g.Reason, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func grant(ctx context.Context, q sqldb.Querier, accountID int64, appID, scope, reason string, now int64) error {
	_, err := q.Exec(ctx, `INSERT INTO identity_grants (account_id, app_id, scope, reason, granted_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id, app_id, scope) DO UPDATE SET reason = excluded.reason`, accountID, appID, scope, reason, now)
	if errors.Is(err, sqldb.ErrForeignKey) {
		return openmini.Errorf(openmini.ENOTFOUND, "app %q or account %d does not exist", appID, accountID)
	}
	if err != nil {
		return fmt.Errorf("grant %s: %w", scope, err)
	}
	return nil
}

// Revoke withdraws scopes from an app; with no scopes, everything the app
// was granted, including the base scope, and every access token the app
// holds for the user. Revocation takes effect at the next token request and
// at userinfo. Revoking what was not granted is not an error.
func (s *Service) Revoke(ctx context.Context, accountID int64, appID string, scopes ...string) error {
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if len(scopes) == 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM identity_grants WHERE account_id = ? AND app_id = ?`, accountID, appID); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
			_, err := tx.Exec(ctx, `UPDATE identity_tokens SET revoked_at = ? WHERE account_id = ? AND app_id = ? AND revoked_at = 0`,
				s.now().UnixMilli(), accountID, appID)
			if err != nil {
				return fmt.Errorf("revoke tokens: %w", err)
			}
			return nil
		}
		for _, sc := range scopes {
			if _, err := tx.Exec(ctx, `DELETE FROM identity_grants WHERE account_id = ? AND app_id = ? AND scope = ?`, accountID, appID, sc); err != nil {
				return fmt.Errorf("revoke %s: %w", sc, err)
			}
		}
		return nil
	})
}

// ListGrants returns every app the user authorised and what it may access,
// apps by name.
func (s *Service) ListGrants(ctx context.Context, accountID int64) ([]AppGrants, error) {
	rows, err := s.db.Query(ctx, `SELECT g.app_id, a.name, g.scope, g.reason, g.granted_at
		FROM identity_grants g JOIN apps a ON a.id = g.app_id WHERE g.account_id = ? ORDER BY a.name, g.app_id, g.scope`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []AppGrants
	for rows.Next() {
		var appID, name string
		var g ScopeGrant
		var at int64
		if err := rows.Scan(&appID, &name, &g.Scope, &g.Reason, &at); err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		g.GrantedAt = time.UnixMilli(at)
		if len(out) == 0 || out[len(out)-1].AppID != appID {
			out = append(out, AppGrants{AppID: appID, AppName: name})
		}
		out[len(out)-1].Scopes = append(out[len(out)-1].Scopes, g)
	}
	return out, rows.Err()
}

// grantedScopes returns the scopes the user currently grants the app.
func grantedScopes(ctx context.Context, q sqldb.Querier, accountID int64, appID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT scope FROM identity_grants WHERE account_id = ? AND app_id = ?`, accountID, appID)
	if err != nil {
		return nil, fmt.Errorf("granted scopes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sc string
		if err := rows.Scan(&sc); err != nil {
			return nil, fmt.Errorf("granted scopes: %w", err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// MissingConsent returns the requested scopes that need the user's consent
// before GetAuthCode will issue a code (never openid), so the host knows
// which consent sheet to show. invalid for unknown scopes.
func (s *Service) MissingConsent(ctx context.Context, accountID int64, appID string, scopes []string) ([]string, error) {
	want, err := NormalizeScopes(scopes)
	if err != nil {
		return nil, err
	}
	have, err := grantedScopes(ctx, s.db, accountID, appID)
	if err != nil {
		return nil, err
	}
	return missing(want, have), nil
}

func missing(want, have []string) []string {
	var out []string
	for _, sc := range want {
		if sc != ScopeOpenID && !slices.Contains(have, sc) {
			out = append(out, sc)
		}
	}
	return out
}
