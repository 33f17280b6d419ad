package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// AuthCode is a one-time code for an app's server to exchange.
type AuthCode struct {
	Code      string
	ExpiresAt time.Time
	AppUserID string // the user's id in the app, which the mini program may see
	Scopes    []string
}

// GetAuthCode issues a one-time code (single use, valid AuthCodeTTL, at most
// 5 minutes, bound to appID) for the host's openmini.getAuthCode(). The base
// scope openid needs no consent and is recorded silently; any other scope
// must have been granted (Grant) or the call fails with forbidden naming
// the missing scopes (MissingConsent tells the host which sheet to show).
// not_found when the app or account does not exist; invalid for unknown
// scopes.
func (s *Service) GetAuthCode(ctx context.Context, accountID int64, appID string, scopes []string) (AuthCode, error) {
	return s.GetAuthCodeWithNonce(ctx, accountID, appID, scopes, "")
}

// GetAuthCodeWithNonce is GetAuthCode with an OpenID Connect nonce (at most
// 200 characters) that the ID token will carry, so the mini program can bind
// the token to its own session.
func (s *Service) GetAuthCodeWithNonce(ctx context.Context, accountID int64, appID string, scopes []string, nonce string) (AuthCode, error) {
	want, err := NormalizeScopes(scopes)
	if err != nil {
		return AuthCode{}, err
	}
	if len(nonce) > 200 {
		return AuthCode{}, invalid("nonce: use at most 200 characters")
	}
	var orgID int64
	err = s.db.QueryRow(ctx, `SELECT org_id FROM apps WHERE id = ?`, appID).Scan(&orgID)
	if errors.Is(err, sqldb.ErrNotFound) {
		return AuthCode{}, openmini.Errorf(openmini.ENOTFOUND, "app: no app %q", appID)
	}
	if err != nil {
		return AuthCode{}, fmt.Errorf("auth code: %w", err)
	}
	if _, err := s.hmacKey(ctx); err != nil { // before the transaction: it may write
		return AuthCode{}, err
	}
	code := "oc_" + randomToken(32)
	now := s.now()
	ac := AuthCode{Code: code, ExpiresAt: now.Add(s.cfg.AuthCodeTTL), Scopes: want}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		have, err := grantedScopes(ctx, tx, accountID, appID)
		if err != nil {
			return err
		}
		if miss := missing(want, have); len(miss) > 0 {
			return openmini.Errorf(openmini.EFORBIDDEN, "consent: the user has not allowed %s for this app", strings.Join(miss, ", "))
		}
		if !slices.Contains(have, ScopeOpenID) {
			if err := grant(ctx, tx, accountID, appID, ScopeOpenID, "", now.UnixMilli()); err != nil {
				return err
			}
		}
		if err := s.rememberSubjects(ctx, tx, accountID, appID, orgID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO identity_auth_codes (code_hash, app_id, account_id, scopes, nonce, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sha256Hex(code), appID, accountID, strings.Join(want, " "), nonce, now.UnixMilli(), ac.ExpiresAt.UnixMilli())
		if errors.Is(err, sqldb.ErrForeignKey) {
			return openmini.Errorf(openmini.ENOTFOUND, "account: no account %d", accountID)
		}
		if err != nil {
			return fmt.Errorf("store auth code: %w", err)
		}
		return nil
	})
	if err != nil {
		return AuthCode{}, err
	}
	ac.AppUserID, err = s.AppUserID(ctx, accountID, appID)
	return ac, err
}

// Tokens is a successful token response.
type Tokens struct {
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	ExpiresIn   int      `json:"expires_in"`
	IDToken     string   `json:"id_token"`
	Scope       string   `json:"scope"`
	Scopes      []string `json:"-"`
}

// Errors of ExchangeCode, matched by the token endpoint.
var (
	errCodeInvalid  = openmini.Errorf(openmini.EINVALID, "code: unknown, expired or already used authorization code")
	errCodeOtherApp = openmini.Errorf(openmini.EINVALID, "code: this authorization code was issued to another app")
	errCodeRevoked  = openmini.Errorf(openmini.EFORBIDDEN, "consent: the user revoked access for this app")
	errClient       = openmini.Errorf(openmini.EUNAUTHORIZED, "client: wrong app id or secret")
)

// ExchangeCode is the authorization_code grant: it authenticates the app's
// server (appID and secret, through Clients), spends the code and returns
// an ID token and an access token. ip (may be "") scopes the lockout.
//
// Errors: unauthorized for a wrong app id or secret (repeated failures from
// one address lock it out with backoff: rate_limited); invalid for an
// unknown, expired or used code or one issued to another app; forbidden
// when the user revoked a scope since. Presenting a used code again also
// revokes the access tokens that code issued.
func (s *Service) ExchangeCode(ctx context.Context, appID, secret, code, ip string) (Tokens, error) {
	if s.cfg.Clients == nil {
		return Tokens{}, openmini.Errorf(openmini.EUNAVAILABLE, "token endpoint: no client authenticator configured")
	}
	if appID == "" || secret == "" || len(appID) > 200 || len(secret) > 500 {
		return Tokens{}, errClient
	}
	lockKey := "idtoken:" + appID + "|" + ip
	if err := s.limits.Check(ctx, lockKey); err != nil {
		return Tokens{}, err
	}
	orgID, err := s.cfg.Clients.AuthenticateClient(ctx, appID, secret)
	if err != nil {
		if c := openmini.ErrorCode(err); c != openmini.EUNAUTHORIZED && c != openmini.ENOTFOUND {
			return Tokens{}, fmt.Errorf("authenticate client: %w", err)
		}
		lock, ferr := s.limits.Fail(ctx, lockKey, ratelimit.DefaultLockout)
		if ferr != nil {
			return Tokens{}, ferr
		}
		if lock > 0 {
			return Tokens{}, ratelimit.TooMany(lock)
		}
		return Tokens{}, errClient
	}
	// No Succeed here: failures are forgiven a day after the last one,
	// which spares a write on every successful request.
	if s.cfg.TokenRequestsPerMinute > 0 {
		if err := s.limits.Hit(ctx, "idtoken-app:"+appID, s.cfg.TokenRequestsPerMinute, time.Minute); err != nil {
			return Tokens{}, err
		}
	}
	if code == "" || len(code) > 200 {
		return Tokens{}, errCodeInvalid
	}
	key, err := s.hmacKey(ctx)
	if err != nil {
		return Tokens{}, err
	}

	codeHash := sha256Hex(code)
	now := s.now()
	access := "at_" + randomToken(32)
	var (
		accountID int64
		scopes    []string
		nonce     string
		prof      Profile
		replayed  bool
	)
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		// The common case in one statement: spend a live code of this app.
		var scopeStr string
		err := tx.QueryRow(ctx, `UPDATE identity_auth_codes SET used_at = ?
			WHERE code_hash = ? AND app_id = ? AND used_at = 0 AND expires_at > ?
			RETURNING account_id, scopes, nonce`, now.UnixMilli(), codeHash, appID, now.UnixMilli()).
			Scan(&accountID, &scopeStr, &nonce)
		if errors.Is(err, sqldb.ErrNotFound) {
			// Tell why: unknown, another app's, expired, or used before.
			var codeApp string
			var used int64
			err := tx.QueryRow(ctx, `SELECT app_id, used_at FROM identity_auth_codes WHERE code_hash = ?`, codeHash).Scan(&codeApp, &used)
			switch {
			case errors.Is(err, sqldb.ErrNotFound):
				return errCodeInvalid
			case err != nil:
				return fmt.Errorf("exchange code: %w", err)
			case codeApp != appID:
				return errCodeOtherApp
			case used == 0:
				return errCodeInvalid // expired
			}
			// A second use means the code leaked: revoke what it issued.
			// Committed, then reported as an invalid code.
			replayed = true
			_, err = tx.Exec(ctx, `UPDATE identity_tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at = 0`, now.UnixMilli(), codeHash)
			if err != nil {
				return fmt.Errorf("revoke replayed code's tokens: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("exchange code: %w", err)
		}
		scopes = strings.Fields(scopeStr)
		var granted int
		if prof, granted, err = profileAndGrants(ctx, tx, accountID, appID, scopes); err != nil {
			return err
		}
		if granted != len(scopes) {
			return errCodeRevoked
		}
		_, err = tx.Exec(ctx, `INSERT INTO identity_tokens (token_hash, code_hash, app_id, account_id, scopes, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sha256Hex(access), codeHash, appID, accountID, scopeStr, now.UnixMilli(), now.Add(s.cfg.AccessTokenTTL).UnixMilli())
		if err != nil {
			return fmt.Errorf("store access token: %w", err)
		}
		return nil
	})
	if err != nil {
		return Tokens{}, err
	}
	if replayed {
		s.log.WarnContext(ctx, "identity: authorization code used twice; its tokens are revoked", "app", appID)
		return Tokens{}, errCodeInvalid
	}

	claims := s.userClaims(key, prof, appID, orgID, scopes)
	claims["iss"] = s.cfg.Issuer
	claims["aud"] = appID
	claims["azp"] = appID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(s.cfg.IDTokenTTL).Unix()
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return Tokens{}, fmt.Errorf("id token: %w", err)
	}
	idToken, err := s.sign(ctx, payload, false)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTokenTTL / time.Second),
		IDToken: idToken, Scope: strings.Join(scopes, " "), Scopes: scopes}, nil
}

// profileAndGrants reads the account's profile and how many of scopes
// (distinct) the user still grants the app, in one statement.
func profileAndGrants(ctx context.Context, q sqldb.Querier, accountID int64, appID string, scopes []string) (Profile, int, error) {
	p := Profile{AccountID: accountID}
	args := []any{appID}
	for _, sc := range scopes {
		args = append(args, sc)
	}
	args = append(args, accountID)
	var ev, pv int64
	var granted int
	err := q.QueryRow(ctx, `SELECT a.name, COALESCE(a.email, ''), COALESCE(a.phone, ''), COALESCE(u.email_verified_at, 0), COALESCE(u.phone_verified_at, 0), COALESCE(u.avatar_key, ''),
		(SELECT COUNT(*) FROM identity_grants g WHERE g.account_id = a.id AND g.app_id = ? AND g.scope IN (?`+strings.Repeat(", ?", len(scopes)-1)+`))
		FROM accounts a LEFT JOIN identity_users u ON u.account_id = a.id WHERE a.id = ?`, args...).
		Scan(&p.Name, &p.Email, &p.Phone, &ev, &pv, &p.AvatarKey, &granted)
	if err != nil {
		return p, 0, fmt.Errorf("profile and grants: %w", err)
	}
	p.EmailVerified, p.PhoneVerified = ev > 0, pv > 0
	return p, granted, nil
}

// userClaims are the claims about a user an app may see with scopes: its
// app user id and org user id always, the rest per scope.
func (s *Service) userClaims(key []byte, p Profile, appID string, orgID int64, scopes []string) map[string]any {
	c := map[string]any{
		"sub":         pseudonym(key, "app", appID, p.AccountID),
		"org_user_id": pseudonym(key, "org", strconv.FormatInt(orgID, 10), p.AccountID),
	}
	for _, sc := range scopes {
		switch sc {
		case ScopeProfile:
			c["name"] = p.Name
			c["nickname"] = p.Name
			if p.AvatarKey != "" {
				c["picture"] = s.cfg.AvatarURL(p.AvatarKey)
			}
		case ScopeEmail:
			if p.Email != "" {
				c["email"] = p.Email
				c["email_verified"] = p.EmailVerified
			}
		case ScopePhone:
			if p.Phone != "" {
				c["phone_number"] = p.Phone
				c["phone_number_verified"] = p.PhoneVerified
			}
		}
	}
	return c
}

// ErrInvalidToken is returned by UserInfo for an unknown, expired or
// revoked access token, or one whose scopes the user has since revoked.
var ErrInvalidToken = openmini.Errorf(openmini.EUNAUTHORIZED, "access token: unknown, expired or revoked")

// UserInfo returns the claims an access token may see, checked against the
// user's current consent: a token whose scopes were revoked (in part or
// whole) is refused with ErrInvalidToken.
func (s *Service) UserInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	if accessToken == "" || len(accessToken) > 200 {
		return nil, ErrInvalidToken
	}
	key, err := s.hmacKey(ctx)
	if err != nil {
		return nil, err
	}
	var appID, scopeStr string
	var accountID, orgID, expires, revoked int64
	err = s.db.QueryRow(ctx, `SELECT t.app_id, t.account_id, a.org_id, t.scopes, t.expires_at, t.revoked_at
		FROM identity_tokens t JOIN apps a ON a.id = t.app_id WHERE t.token_hash = ?`, sha256Hex(accessToken)).
		Scan(&appID, &accountID, &orgID, &scopeStr, &expires, &revoked)
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if revoked != 0 || s.now().UnixMilli() >= expires {
		return nil, ErrInvalidToken
	}
	scopes := strings.Fields(scopeStr)
	p, granted, err := profileAndGrants(ctx, s.db, accountID, appID, scopes)
	if err != nil {
		return nil, err
	}
	if granted != len(scopes) || !slices.Contains(scopes, ScopeOpenID) {
		return nil, ErrInvalidToken
	}
	return s.userClaims(key, p, appID, orgID, scopes), nil
}
