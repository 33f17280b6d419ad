// Package account holds the people who sign in to the consoles (operator
// staff and developers) and the browser sessions every replica shares:
// accounts, password sign-in with lockout, sessions, and the one-time setup
// link that creates the first operator.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// Staff roles.
const (
	RoleAdmin    = "admin"
	RoleReviewer = "reviewer"
)

// Account is a person who can sign in.
type Account struct {
	ID        int64
	Email     string
	Phone     string
	Name      string
	StaffRole string // "", RoleAdmin or RoleReviewer
	CreatedAt time.Time
}

// IsStaff reports whether the account is operator staff.
func (a Account) IsStaff() bool { return a.StaffRole != "" }

// IsAdmin reports whether the account is an operator admin.
func (a Account) IsAdmin() bool { return a.StaffRole == RoleAdmin }

// Service manages accounts and sessions.
type Service struct {
	db         *sqldb.DB
	limits     *ratelimit.Limiter
	now        func() time.Time
	hashParams password.Params
	// SessionTTL is how long a session lives without use.
	SessionTTL time.Duration
}

// New returns the account service. now may be nil.
func New(db *sqldb.DB, limits *ratelimit.Limiter, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, limits: limits, now: now, hashParams: password.Default, SessionTTL: 30 * 24 * time.Hour}
}

// SetHashParams changes the password hashing cost (tests use a cheap one).
func (s *Service) SetHashParams(p password.Params) { s.hashParams = p }

// ErrBadCredentials is the one message for a wrong e-mail or password, so
// sign-in does not reveal which accounts exist.
var ErrBadCredentials = openmini.Errorf(openmini.EUNAUTHORIZED, "wrong e-mail or password")

const accountCols = `id, COALESCE(email, ''), COALESCE(phone, ''), name, staff_role, created_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created int64
	err := row.Scan(&a.ID, &a.Email, &a.Phone, &a.Name, &a.StaffRole, &created)
	a.CreatedAt = time.UnixMilli(created)
	return a, err
}

// Get returns an account by ID; not_found if there is none.
func (s *Service) Get(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.db.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sqldb.ErrNotFound) {
		return a, openmini.Errorf(openmini.ENOTFOUND, "no account %d", id)
	}
	return a, err
}

// ByEmail returns the account with that e-mail address; not_found if none.
func (s *Service) ByEmail(ctx context.Context, email string) (Account, error) {
	a, err := scanAccount(s.db.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE email = ?`, NormalizeEmail(email)))
	if errors.Is(err, sqldb.ErrNotFound) {
		return a, openmini.Errorf(openmini.ENOTFOUND, "no account with e-mail %s", email)
	}
	return a, err
}

// NewAccount is what Create needs.
type NewAccount struct {
	Email     string
	Name      string
	Password  string
	StaffRole string
}

// NormalizeEmail trims and lower-cases an address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckEmail returns an invalid error naming the problem, or nil.
func CheckEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") && !strings.HasSuffix(email, "@localhost") {
		return openmini.Errorf(openmini.EINVALID, "e-mail: %q is not an e-mail address", email)
	}
	return nil
}

// CheckPassword enforces the password rule: 10 to 200 characters.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < 10 {
		return openmini.Errorf(openmini.EINVALID, "password: use at least 10 characters")
	}
	if n > 200 {
		return openmini.Errorf(openmini.EINVALID, "password: use at most 200 characters")
	}
	return nil
}

// Create adds an account in q (a transaction or the DB). It returns
// invalid for a bad e-mail, name or password and conflict when the e-mail
// is taken.
func (s *Service) Create(ctx context.Context, q sqldb.Querier, na NewAccount) (Account, error) {
	na.Email = NormalizeEmail(na.Email)
	na.Name = strings.TrimSpace(na.Name)
	if err := CheckEmail(na.Email); err != nil {
		return Account{}, err
	}
	if na.Name == "" || utf8.RuneCountInString(na.Name) > 100 {
		return Account{}, openmini.Errorf(openmini.EINVALID, "name: give a name of 1 to 100 characters")
	}
	if err := CheckPassword(na.Password); err != nil {
		return Account{}, err
	}
	hash := password.Hash(na.Password, s.hashParams)
	now := s.now()
	a, err := scanAccount(q.QueryRow(ctx, `INSERT INTO accounts (email, name, password_hash, staff_role, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING `+accountCols, na.Email, na.Name, hash, na.StaffRole, now.UnixMilli()))
	if errors.Is(err, sqldb.ErrUnique) {
		return Account{}, openmini.Errorf(openmini.ECONFLICT, "e-mail: an account with %s already exists", na.Email)
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// SetStaffRole makes an account admin, reviewer, or not staff ("").
func (s *Service) SetStaffRole(ctx context.Context, id int64, role string) error {
	if role != "" && role != RoleAdmin && role != RoleReviewer {
		return openmini.Errorf(openmini.EINVALID, "role: %q is not admin or reviewer", role)
	}
	res, err := s.db.Exec(ctx, `UPDATE accounts SET staff_role = ? WHERE id = ?`, role, id)
	if err != nil {
		return fmt.Errorf("set staff role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return openmini.Errorf(openmini.ENOTFOUND, "no account %d", id)
	}
	return nil
}

// SetPassword replaces an account's password.
func (s *Service) SetPassword(ctx context.Context, id int64, pw string) error {
	if err := CheckPassword(pw); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, password.Hash(pw, s.hashParams), id)
	return err
}

// Authenticate checks an e-mail and password. ip (may be "") adds a
// per-address limit. Wrong credentials give ErrBadCredentials; repeated
// failures lock the e-mail with backoff (rate_limited).
func (s *Service) Authenticate(ctx context.Context, email, pw, ip string) (Account, error) {
	email = NormalizeEmail(email)
	if ip != "" {
		if err := s.limits.Hit(ctx, "signin-ip:"+ip, 60, time.Minute); err != nil {
			return Account{}, err
		}
	}
	key := "signin:" + email
	if err := s.limits.Check(ctx, key); err != nil {
		return Account{}, err
	}
	var hash string
	var a Account
	var created int64
	err := s.db.QueryRow(ctx, `SELECT id, COALESCE(email, ''), COALESCE(phone, ''), name, staff_role, created_at, password_hash
		FROM accounts WHERE email = ?`, email).Scan(&a.ID, &a.Email, &a.Phone, &a.Name, &a.StaffRole, &created, &hash)
	a.CreatedAt = time.UnixMilli(created)
	if err != nil && !errors.Is(err, sqldb.ErrNotFound) {
		return Account{}, fmt.Errorf("authenticate: %w", err)
	}
	if err != nil || hash == "" || password.Check(pw, hash) != nil {
		lock, ferr := s.limits.Fail(ctx, key, ratelimit.DefaultLockout)
		if ferr != nil {
			return Account{}, ferr
		}
		if lock > 0 {
			return Account{}, ratelimit.TooMany(lock)
		}
		return Account{}, ErrBadCredentials
	}
	if err := s.limits.Succeed(ctx, key); err != nil {
		return Account{}, err
	}
	return a, nil
}

// newToken returns a random URL-safe token and its storage hash.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how session, setup and API tokens are stored: hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
