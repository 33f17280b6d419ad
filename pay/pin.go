package pay

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/sqldb"
)

// The payment PIN: six digits, hashed with argon2id, checked with a failure
// lockout kept in the database (ratelimit), so every replica counts the
// same failures. A PIN is set on first use (SetPIN with no current PIN);
// changing it needs the current one.

func validPIN(pin string) error {
	if len(pin) != 6 {
		return invalid("a payment PIN is exactly 6 digits")
	}
	same, up, down := true, true, true
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return invalid("a payment PIN is exactly 6 digits")
		}
		if i > 0 {
			same = same && pin[i] == pin[0]
			up = up && pin[i] == pin[i-1]+1
			down = down && pin[i] == pin[i-1]-1
		}
	}
	if same || up || down {
		return invalid("choose a PIN that is not %s: repeated or consecutive digits are guessed first", pin)
	}
	return nil
}

func pinKey(accountID int64) string { return "pay-pin:" + strconv.FormatInt(accountID, 10) }

// Wallet settings read outside transactions.
type userSettings struct {
	pinHash     string
	noPINLimit  int64
	pinFailures int64 // non-zero: the lockout may hold failures
}

func (s *Service) settings(ctx context.Context, q sqldb.Querier, accountID int64) (userSettings, error) {
	var u userSettings
	err := q.QueryRow(ctx, `SELECT pin_hash, no_pin_limit, pin_failures FROM pay_users WHERE account_id = ?`, accountID).
		Scan(&u.pinHash, &u.noPINLimit, &u.pinFailures)
	if errors.Is(err, sqldb.ErrNotFound) {
		return userSettings{}, nil
	}
	return u, err
}

// HasPIN reports whether the user has set a payment PIN.
func (s *Service) HasPIN(ctx context.Context, accountID int64) (bool, error) {
	u, err := s.settings(ctx, s.db, accountID)
	if err != nil {
		return false, internal("has pin", err)
	}
	return u.pinHash != "", nil
}

// SetPIN sets the user's payment PIN. The first time, current must be
// empty; afterwards it must be the current PIN (checked under the same
// lockout as payments). Errors: invalid for a weak or malformed PIN,
// unauthorized (ErrWrongPIN) or rate_limited for a wrong current PIN,
// conflict when current is given but no PIN is set.
func (s *Service) SetPIN(ctx context.Context, accountID int64, current, pin string) error {
	if err := validPIN(pin); err != nil {
		return err
	}
	u, err := s.settings(ctx, s.db, accountID)
	if err != nil {
		return internal("set pin", err)
	}
	if u.pinHash != "" || current != "" {
		if err := s.verifyPIN(ctx, accountID, current); err != nil {
			return err
		}
	}
	hash := password.Hash(pin, s.cfg.PINParams)
	now := ms(s.now())
	_, err = s.db.Exec(ctx, `INSERT INTO pay_users (account_id, pin_hash, no_pin_limit, created_at, updated_at) VALUES (?, ?, 0, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET pin_hash = excluded.pin_hash, updated_at = excluded.updated_at`, accountID, hash, now, now)
	if errors.Is(err, sqldb.ErrForeignKey) {
		return notFound("account %d not found", accountID)
	}
	if err != nil {
		return internal("set pin", err)
	}
	return nil
}

// SetNoPINLimit sets the amount up to which the user's payment codes may be
// charged without the PIN (0 = always ask). It needs the PIN. Errors:
// invalid above Config.MaxNoPINLimit, and the PIN errors of SetPIN.
func (s *Service) SetNoPINLimit(ctx context.Context, accountID int64, pin string, limit int64) error {
	if limit < 0 || limit > s.cfg.MaxNoPINLimit {
		return invalid("the no-PIN limit must be between 0 and %s", FormatAmount(s.cfg.MaxNoPINLimit, s.cfg.Currency))
	}
	if err := s.verifyPIN(ctx, accountID, pin); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE pay_users SET no_pin_limit = ?, updated_at = ? WHERE account_id = ?`, limit, ms(s.now()), accountID); err != nil {
		return internal("set no-pin limit", err)
	}
	return nil
}

// verifyPIN checks pin against the user's hash under the lockout. It
// returns ErrPINNotSet, ErrWrongPIN, or a rate_limited error (with
// RetryAfter) while the user is locked out.
//
// The lockout lives in the shared rate_limits table (ratelimit). To keep
// the common case (no failures) at one read, pay_users.pin_failures marks
// users who may have failures recorded: it is set before each failure is
// recorded and cleared after a success cleared the lockout, so a check that
// sees zero started before any failure that could lock it out.
func (s *Service) verifyPIN(ctx context.Context, accountID int64, pin string) error {
	u, err := s.settings(ctx, s.db, accountID)
	if err != nil {
		return internal("verify pin", err)
	}
	return s.checkPIN(ctx, accountID, pin, u)
}

// checkPIN is verifyPIN with the user's settings already read.
func (s *Service) checkPIN(ctx context.Context, accountID int64, pin string, u userSettings) error {
	key := pinKey(accountID)
	if u.pinFailures > 0 {
		if err := s.limiter.Check(ctx, key); err != nil {
			return err
		}
	}
	if u.pinHash == "" {
		return ErrPINNotSet
	}
	err := password.Check(pin, u.pinHash)
	if errors.Is(err, password.ErrMismatch) {
		if _, err := s.db.Exec(ctx, `UPDATE pay_users SET pin_failures = pin_failures + 1 WHERE account_id = ?`, accountID); err != nil {
			return internal("verify pin", err)
		}
		lock, ferr := s.limiter.Fail(ctx, key, s.cfg.PINLockout)
		if ferr != nil {
			return internal("verify pin", ferr)
		}
		if lock > 0 {
			secs := int(lock.Seconds())
			return &openmini.Error{Code: openmini.ERATELIMITED, RetryAfter: secs,
				Message: fmt.Sprintf("wrong payment PIN; too many attempts, try again in %d seconds", secs)}
		}
		return ErrWrongPIN
	}
	if err != nil {
		return internal("verify pin", err)
	}
	if u.pinFailures > 0 {
		if err := s.limiter.Succeed(ctx, key); err != nil {
			return internal("verify pin", err)
		}
		if _, err := s.db.Exec(ctx, `UPDATE pay_users SET pin_failures = 0 WHERE account_id = ? AND pin_failures = ?`, accountID, u.pinFailures); err != nil {
			return internal("verify pin", err)
		}
	}
	return nil
}
