package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Pseudonymous ids are an HMAC of the account id under the platform secret,
// keyed by the app (or organisation): stable, the same on every replica,
// and unlinkable across apps without the secret. "au_" starts an app user
// id (the "sub" an app sees, like WeChat's openid), "ou_" an organisation
// user id (shared by the apps of one organisation, like a unionid).

func pseudonym(key []byte, kind, subject string, accountID int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("pseudonym\x00" + kind + "\x00" + subject + "\x00" + strconv.FormatInt(accountID, 10)))
	prefix := "au_"
	if kind == "org" {
		prefix = "ou_"
	}
	return prefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// AppUserID returns the account's pseudonymous id in an app: the "sub" of
// its ID tokens and launch data.
func (s *Service) AppUserID(ctx context.Context, accountID int64, appID string) (string, error) {
	key, err := s.hmacKey(ctx)
	if err != nil {
		return "", err
	}
	return pseudonym(key, "app", appID, accountID), nil
}

// OrgUserID returns the account's pseudonymous id in a developer
// organisation, the same for all of its apps.
func (s *Service) OrgUserID(ctx context.Context, accountID, orgID int64) (string, error) {
	key, err := s.hmacKey(ctx)
	if err != nil {
		return "", err
	}
	return pseudonym(key, "org", strconv.FormatInt(orgID, 10), accountID), nil
}

// rememberSubjects records the app and org pseudonyms of an account, for
// AccountForAppUser. Idempotent.
func (s *Service) rememberSubjects(ctx context.Context, q sqldb.Querier, accountID int64, appID string, orgID int64) error {
	key, err := s.hmacKey(ctx)
	if err != nil {
		return err
	}
	now := s.now().UnixMilli()
	org := strconv.FormatInt(orgID, 10)
	_, err = q.Exec(ctx, `INSERT INTO identity_subjects (pseudonym, kind, subject, account_id, created_at) VALUES (?, 'app', ?, ?, ?), (?, 'org', ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		pseudonym(key, "app", appID, accountID), appID, accountID, now,
		pseudonym(key, "org", org, accountID), org, accountID, now)
	if err != nil {
		return fmt.Errorf("remember pseudonyms: %w", err)
	}
	return nil
}

// AccountForAppUser maps an app user id back to the account, for platform
// services that an app's server calls with its users' ids (payments,
// messages). Only ids handed out by GetAuthCode are known; others are
// not_found, as is an id of another app.
func (s *Service) AccountForAppUser(ctx context.Context, appID, appUserID string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT account_id FROM identity_subjects WHERE pseudonym = ? AND kind = 'app' AND subject = ?`, appUserID, appID).Scan(&id)
	if errors.Is(err, sqldb.ErrNotFound) {
		return 0, openmini.Errorf(openmini.ENOTFOUND, "user: app %s has no user %q", appID, appUserID)
	}
	if err != nil {
		return 0, fmt.Errorf("account for app user: %w", err)
	}
	return id, nil
}
