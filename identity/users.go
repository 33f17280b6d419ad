package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// ErrBadCredentials is the one answer for a wrong login or password, so
// sign-in does not reveal which accounts exist.
var ErrBadCredentials = openmini.Errorf(openmini.EUNAUTHORIZED, "wrong e-mail, phone number or password")

// SignUp is what a new host user enters.
type SignUp struct {
	Login    string // e-mail address or phone number
	Password string // 10 to 200 characters
	Name     string // nickname, 1 to 64 characters; default "User" and the last digits or letters of the login
	IP       string // client address for rate limits; may be empty
}

type signUpPayload struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
}

// CheckPassword enforces the password rule shared with the console: 10 to
// 200 characters. It returns an invalid error naming the problem.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < 10 {
		return invalid("password: use at least 10 characters")
	}
	if n > 200 {
		return invalid("password: use at most 200 characters")
	}
	return nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 {
		return "", invalid("name: give a nickname of 1 to 64 characters")
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return "", invalid("name: remove control characters from the nickname")
		}
	}
	return name, nil
}

// StartSignUp checks a sign-up and sends a verification code to its login.
// Nothing is created until ConfirmSignUp. It returns invalid for bad input,
// conflict when an account already uses the login, rate_limited when codes
// were asked for too often, and unavailable when the Sender failed.
func (s *Service) StartSignUp(ctx context.Context, su SignUp) (Challenge, error) {
	login, err := s.ParseLogin(su.Login)
	if err != nil {
		return Challenge{}, err
	}
	if err := CheckPassword(su.Password); err != nil {
		return Challenge{}, err
	}
	if strings.TrimSpace(su.Name) == "" {
		v := strings.TrimPrefix(strings.SplitN(login.Value, "@", 2)[0], "+")
		su.Name = "User " + v[max(len(v)-4, 0):]
	}
	name, err := checkName(su.Name)
	if err != nil {
		return Challenge{}, err
	}
	if _, err := s.accountByLogin(ctx, login); err == nil {
		return Challenge{}, openmini.Errorf(openmini.ECONFLICT, "%s: an account with %s already exists; sign in instead", login.column(), login.Value)
	} else if !errors.Is(err, sqldb.ErrNotFound) {
		return Challenge{}, err
	}
	if err := s.limitCodes(ctx, login, su.IP); err != nil {
		return Challenge{}, err
	}
	payload, _ := json.Marshal(signUpPayload{Name: name, Hash: password.Hash(su.Password, s.cfg.HashParams)})
	return s.startChallenge(ctx, purposeSignUp, login, 0, string(payload), false)
}

// ConfirmSignUp creates the account of a sign-up once its code is right,
// with the login marked verified, and returns the account id. Wrong codes
// are unauthorized (5 per code); conflict when the login was taken since.
func (s *Service) ConfirmSignUp(ctx context.Context, challengeID, code string) (int64, error) {
	var id int64
	err := s.redeemChallenge(ctx, challengeID, purposeSignUp, code, func(tx *sqldb.Tx, r challengeRow) error {
		var p signUpPayload
		if err := json.Unmarshal([]byte(r.payload), &p); err != nil {
			return fmt.Errorf("confirm sign-up: payload: %w", err)
		}
		login := loginOf(r.destination)
		now := s.now().UnixMilli()
		err := tx.QueryRow(ctx, `INSERT INTO accounts (`+login.column()+`, name, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			login.Value, p.Name, p.Hash, now).Scan(&id)
		if errors.Is(err, sqldb.ErrUnique) {
			return openmini.Errorf(openmini.ECONFLICT, "%s: an account with %s already exists; sign in instead", login.column(), login.Value)
		}
		if err != nil {
			return fmt.Errorf("confirm sign-up: %w", err)
		}
		return markVerified(ctx, tx, id, login, now)
	})
	return id, err
}

// loginOf rebuilds the Login of a stored, normalised destination.
func loginOf(dest string) Login {
	if strings.Contains(dest, "@") {
		return Login{Channel: "email", Value: dest}
	}
	return Login{Channel: "sms", Value: dest}
}

// markVerified records that the account's holder proved they receive
// messages at login.
func markVerified(ctx context.Context, q sqldb.Querier, accountID int64, login Login, now int64) error {
	col := "email_verified_at"
	if login.Channel == "sms" {
		col = "phone_verified_at"
	}
	_, err := q.Exec(ctx, `INSERT INTO identity_users (account_id, `+col+`, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET `+col+` = excluded.`+col+`, updated_at = excluded.updated_at`,
		accountID, now, now, now)
	if err != nil {
		return fmt.Errorf("mark verified: %w", err)
	}
	return nil
}

func (s *Service) accountByLogin(ctx context.Context, l Login) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM accounts WHERE `+l.column()+` = ?`, l.Value).Scan(&id)
	if err != nil && !errors.Is(err, sqldb.ErrNotFound) {
		return 0, fmt.Errorf("find account: %w", err)
	}
	return id, err
}

// dummyHash is checked when a login has no account, so a wrong login costs
// as much time as a wrong password.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = password.Hash("not a password of anyone", s.cfg.HashParams) })
	return s.dummy
}

// SignIn checks a login and password and returns the account id. Wrong
// input gives ErrBadCredentials whichever part was wrong; repeated failures
// lock the login with backoff and too many attempts from one address are
// refused (rate_limited with RetryAfter).
func (s *Service) SignIn(ctx context.Context, rawLogin, pw, ip string) (int64, error) {
	login, err := s.ParseLogin(rawLogin)
	if err != nil {
		return 0, err
	}
	if ip != "" {
		if err := s.limits.Hit(ctx, "idsignin-ip:"+ip, 60, time.Minute); err != nil {
			return 0, err
		}
	}
	key := "idsignin:" + login.Value
	if err := s.limits.Check(ctx, key); err != nil {
		return 0, err
	}
	var id int64
	var hash string
	err = s.db.QueryRow(ctx, `SELECT id, password_hash FROM accounts WHERE `+login.column()+` = ?`, login.Value).Scan(&id, &hash)
	if err != nil && !errors.Is(err, sqldb.ErrNotFound) {
		return 0, fmt.Errorf("sign in: %w", err)
	}
	ok := false
	if err == nil && hash != "" {
		ok = password.Check(pw, hash) == nil
	} else {
		_ = password.Check(pw, s.dummyHash())
	}
	if !ok {
		lock, ferr := s.limits.Fail(ctx, key, ratelimit.DefaultLockout)
		if ferr != nil {
			return 0, ferr
		}
		if lock > 0 {
			return 0, ratelimit.TooMany(lock)
		}
		return 0, ErrBadCredentials
	}
	if err := s.limits.Succeed(ctx, key); err != nil {
		return 0, err
	}
	return id, nil
}

// StartCodeSignIn sends a sign-in code to a login. To not reveal which
// logins have accounts, it answers the same way for unknown ones (and sends
// nothing). Rate limits as for sign-up codes.
func (s *Service) StartCodeSignIn(ctx context.Context, rawLogin, ip string) (Challenge, error) {
	return s.startForAccount(ctx, purposeSignIn, rawLogin, ip)
}

func (s *Service) startForAccount(ctx context.Context, purpose, rawLogin, ip string) (Challenge, error) {
	login, err := s.ParseLogin(rawLogin)
	if err != nil {
		return Challenge{}, err
	}
	if err := s.limitCodes(ctx, login, ip); err != nil {
		return Challenge{}, err
	}
	id, err := s.accountByLogin(ctx, login)
	if errors.Is(err, sqldb.ErrNotFound) {
		return s.startChallenge(ctx, purpose, login, 0, "", true)
	}
	if err != nil {
		return Challenge{}, err
	}
	return s.startChallenge(ctx, purpose, login, id, "", false)
}

// ConfirmCodeSignIn checks a sign-in code and returns the account id; the
// login counts as verified from then on.
func (s *Service) ConfirmCodeSignIn(ctx context.Context, challengeID, code string) (int64, error) {
	var id int64
	err := s.redeemChallenge(ctx, challengeID, purposeSignIn, code, func(tx *sqldb.Tx, r challengeRow) error {
		if r.accountID == 0 {
			return ErrWrongCode
		}
		id = r.accountID
		return markVerified(ctx, tx, id, loginOf(r.destination), s.now().UnixMilli())
	})
	return id, err
}

// StartPasswordReset sends a reset code to a login (nothing, silently, for
// unknown logins).
func (s *Service) StartPasswordReset(ctx context.Context, rawLogin, ip string) (Challenge, error) {
	return s.startForAccount(ctx, purposeReset, rawLogin, ip)
}

// ConfirmPasswordReset sets a new password once the reset code is right,
// clears the login's sign-in lockout and returns the account id.
func (s *Service) ConfirmPasswordReset(ctx context.Context, challengeID, code, newPassword string) (int64, error) {
	if err := CheckPassword(newPassword); err != nil {
		return 0, err
	}
	hash := password.Hash(newPassword, s.cfg.HashParams)
	var id int64
	var dest string
	err := s.redeemChallenge(ctx, challengeID, purposeReset, code, func(tx *sqldb.Tx, r challengeRow) error {
		if r.accountID == 0 {
			return ErrWrongCode
		}
		id, dest = r.accountID, r.destination
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		return markVerified(ctx, tx, id, loginOf(dest), s.now().UnixMilli())
	})
	if err != nil {
		return 0, err
	}
	return id, s.limits.Succeed(ctx, "idsignin:"+dest)
}

// Profile is what a user sees of themselves.
type Profile struct {
	AccountID     int64
	Name          string // nickname
	Email         string
	Phone         string
	EmailVerified bool
	PhoneVerified bool
	AvatarKey     string // blob key, "" for none
}

// Profile returns an account's profile; not_found when there is none.
func (s *Service) Profile(ctx context.Context, accountID int64) (Profile, error) {
	return s.profile(ctx, s.db, accountID)
}

func (s *Service) profile(ctx context.Context, q sqldb.Querier, accountID int64) (Profile, error) {
	p := Profile{AccountID: accountID}
	var ev, pv int64
	err := q.QueryRow(ctx, `SELECT a.name, COALESCE(a.email, ''), COALESCE(a.phone, ''), COALESCE(u.email_verified_at, 0), COALESCE(u.phone_verified_at, 0), COALESCE(u.avatar_key, '')
		FROM accounts a LEFT JOIN identity_users u ON u.account_id = a.id WHERE a.id = ?`, accountID).
		Scan(&p.Name, &p.Email, &p.Phone, &ev, &pv, &p.AvatarKey)
	if errors.Is(err, sqldb.ErrNotFound) {
		return p, openmini.Errorf(openmini.ENOTFOUND, "no account %d", accountID)
	}
	if err != nil {
		return p, fmt.Errorf("profile: %w", err)
	}
	p.EmailVerified, p.PhoneVerified = ev > 0, pv > 0
	return p, nil
}

// SetName changes a user's nickname.
func (s *Service) SetName(ctx context.Context, accountID int64, name string) error {
	name, err := checkName(name)
	if err != nil {
		return err
	}
	res, err := s.db.Exec(ctx, `UPDATE accounts SET name = ? WHERE id = ?`, name, accountID)
	if err != nil {
		return fmt.Errorf("set name: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return openmini.Errorf(openmini.ENOTFOUND, "no account %d", accountID)
	}
	return nil
}

// MaxAvatarBytes is the largest avatar SetAvatar accepts.
const MaxAvatarBytes = 1 << 20

// SetAvatar stores a PNG, JPEG or WebP image (at most MaxAvatarBytes) as the
// user's avatar and returns its blob key; the previous avatar is deleted.
// It returns invalid for another type and too_large for a bigger image.
func (s *Service) SetAvatar(ctx context.Context, accountID int64, r io.Reader) (string, error) {
	if s.cfg.Blobs == nil {
		return "", openmini.Errorf(openmini.EUNAVAILABLE, "avatars are not configured")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxAvatarBytes+1))
	if err != nil {
		return "", fmt.Errorf("set avatar: read: %w", err)
	}
	if len(data) > MaxAvatarBytes {
		return "", openmini.Errorf(openmini.ETOOLARGE, "avatar: use an image of at most 1 MB")
	}
	ext := map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}[http.DetectContentType(data)]
	if ext == "" {
		return "", invalid("avatar: use a PNG, JPEG or WebP image")
	}
	old, err := s.profile(ctx, s.db, accountID)
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("avatars/%d/%s.%s", accountID, randomToken(12), ext)
	if err := s.cfg.Blobs.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return "", fmt.Errorf("set avatar: %w", err)
	}
	now := s.now().UnixMilli()
	_, err = s.db.Exec(ctx, `INSERT INTO identity_users (account_id, avatar_key, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET avatar_key = excluded.avatar_key, updated_at = excluded.updated_at`, accountID, key, now, now)
	if err != nil {
		_ = s.cfg.Blobs.Delete(ctx, key)
		return "", fmt.Errorf("set avatar: %w", err)
	}
	if old.AvatarKey != "" {
		if err := s.cfg.Blobs.Delete(ctx, old.AvatarKey); err != nil {
			s.log.WarnContext(ctx, "delete old avatar", "key", old.AvatarKey, "err", err)
		}
	}
	return key, nil
}
