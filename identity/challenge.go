package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/mail"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Message is one verification message to deliver.
type Message struct {
	Channel string // "email" or "sms"
	To      string // normalised address or +E.164 number
	Subject string // e-mail only
	Body    string
}

// Sender delivers verification messages (an SMS gateway, an SMTP relay).
// Send returns an error when the message was not accepted; the challenge is
// then not created.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// DevSender is the default Sender for a single machine: it logs each message
// with slog and stores it in identity_messages, where the development
// mailbox page (Service.Mailbox) shows it on any replica.
type DevSender struct {
	db  *sqldb.DB
	log *slog.Logger
	now func() time.Time
}

// NewDevSender returns a DevSender on db. log and now may be nil.
func NewDevSender(db *sqldb.DB, log *slog.Logger, now func() time.Time) *DevSender {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &DevSender{db: db, log: log, now: now}
}

// Send logs m and stores it for the development mailbox.
func (d *DevSender) Send(ctx context.Context, m Message) error {
	d.log.InfoContext(ctx, "development mailbox: message not really sent", "channel", m.Channel, "to", m.To, "subject", m.Subject, "body", m.Body)
	_, err := d.db.Exec(ctx, `INSERT INTO identity_messages (channel, destination, subject, body, created_at) VALUES (?, ?, ?, ?, ?)`,
		m.Channel, m.To, m.Subject, m.Body, d.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store development message: %w", err)
	}
	return nil
}

// StoredMessage is a message in the development mailbox.
type StoredMessage struct {
	ID int64
	Message
	CreatedAt time.Time
}

// Mailbox returns the newest messages the DevSender stored, newest first, at
// most limit (1 to 500; default 50). Show it only on development setups: it
// holds live verification codes.
func (s *Service) Mailbox(ctx context.Context, limit int) ([]StoredMessage, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT id, channel, destination, subject, body, created_at FROM identity_messages ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	defer rows.Close()
	var out []StoredMessage
	for rows.Next() {
		var m StoredMessage
		var created int64
		if err := rows.Scan(&m.ID, &m.Channel, &m.To, &m.Subject, &m.Body, &created); err != nil {
			return nil, fmt.Errorf("mailbox: %w", err)
		}
		m.CreatedAt = time.UnixMilli(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Login is an e-mail address or a phone number, normalised.
type Login struct {
	Channel string // "email" or "sms"
	Value   string // lower-case address, or "+" and digits
}

// column is the accounts column the login is matched against.
func (l Login) column() string {
	if l.Channel == "email" {
		return "email"
	}
	return "phone"
}

// ParseLogin normalises an e-mail address or phone number. Anything with an
// "@" is an e-mail address; anything else must be a phone number: digits
// with optional spaces, dashes, dots or brackets, "+" and the calling code
// first (or the configured default calling code is assumed). It returns an
// invalid error naming the problem.
func (s *Service) ParseLogin(raw string) (Login, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Login{}, invalid("login: give an e-mail address or phone number")
	}
	if strings.Contains(raw, "@") {
		e := strings.ToLower(raw)
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") && !strings.HasSuffix(e, "@localhost") {
			return Login{}, invalid("e-mail: %q is not an e-mail address", raw)
		}
		return Login{Channel: "email", Value: e}, nil
	}
	var b strings.Builder
	for i, c := range raw {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return Login{}, invalid("phone: %q is not a phone number (digits, with + and the country code)", raw)
		}
	}
	digits := b.String()
	if !strings.HasPrefix(raw, "+") {
		if s.cfg.DefaultCallingCode == "" {
			return Login{}, invalid("phone: start %q with + and the country code", raw)
		}
		digits = s.cfg.DefaultCallingCode + strings.TrimLeft(digits, "0")
	}
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return Login{}, invalid("phone: %q is not a phone number (8 to 15 digits with the country code)", raw)
	}
	return Login{Channel: "sms", Value: "+" + digits}, nil
}

// Challenge is a verification code waiting to be entered.
type Challenge struct {
	ID        string    // hand back with the code
	SentTo    string    // masked destination, safe to show
	ExpiresAt time.Time // the code is refused after this
}

// Challenge purposes.
const (
	purposeSignUp = "signup"
	purposeSignIn = "signin"
	purposeReset  = "reset"
)

// maxCodeAttempts is how many wrong codes a challenge survives.
const maxCodeAttempts = 5

// ErrWrongCode is returned for a wrong, used or expired verification code.
var ErrWrongCode = openmini.Errorf(openmini.EUNAUTHORIZED, "code: wrong or expired verification code; ask for a new one")

func (s *Service) codeHash(ctx context.Context, id, code string) (string, error) {
	key, err := s.hmacKey(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("challenge\x00" + id + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// limitCodes applies the verification-code rate limits: one message a
// minute and 10 an hour per destination, 30 an hour per client address.
func (s *Service) limitCodes(ctx context.Context, to Login, ip string) error {
	if err := s.limits.Hit(ctx, "idcode-min:"+to.Value, 1, time.Minute); err != nil {
		return err
	}
	if err := s.limits.Hit(ctx, "idcode-hour:"+to.Value, 10, time.Hour); err != nil {
		return err
	}
	if ip != "" {
		return s.limits.Hit(ctx, "idcode-ip:"+ip, 30, time.Hour)
	}
	return nil
}

// startChallenge creates a challenge and sends its code to `to` (unless
// silent, used when the login has no account, so callers cannot tell).
func (s *Service) startChallenge(ctx context.Context, purpose string, to Login, accountID int64, payload string, silent bool) (Challenge, error) {
	n, _ := rand.Int(rand.Reader, big.NewInt(1000000))
	code := fmt.Sprintf("%06d", n.Int64())
	id := randomToken(18)
	hash, err := s.codeHash(ctx, id, code)
	if err != nil {
		return Challenge{}, err
	}
	now := s.now()
	exp := now.Add(s.cfg.ChallengeTTL)
	var acct any
	if accountID != 0 {
		acct = accountID
	}
	_, err = s.db.Exec(ctx, `INSERT INTO identity_challenges (id, purpose, destination, account_id, code_hash, payload, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, purpose, to.Value, acct, hash, payload, now.UnixMilli(), exp.UnixMilli())
	if err != nil {
		return Challenge{}, fmt.Errorf("create challenge: %w", err)
	}
	if !silent {
		if err := s.cfg.Sender.Send(ctx, codeMessage(purpose, to, code, s.cfg.ChallengeTTL)); err != nil {
			_, _ = s.db.Exec(ctx, `DELETE FROM identity_challenges WHERE id = ?`, id)
			return Challenge{}, &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "could not send the verification code; try again later", Err: err}
		}
	}
	return Challenge{ID: id, SentTo: mask(to), ExpiresAt: exp}, nil
}

func codeMessage(purpose string, to Login, code string, ttl time.Duration) Message {
	what := map[string]string{purposeSignUp: "finish signing up", purposeSignIn: "sign in", purposeReset: "reset your password"}[purpose]
	body := fmt.Sprintf("Your OpenMini code to %s is %s. It expires in %d minutes. If you did not ask for it, ignore this message.",
		what, code, int(ttl.Minutes()))
	m := Message{Channel: to.Channel, To: to.Value, Body: body}
	if to.Channel == "email" {
		m.Subject = "Your OpenMini code: " + code
	}
	return m
}

// mask hides most of an address or number: a***@example.com, +86*******5678.
func mask(l Login) string {
	v := l.Value
	if l.Channel == "email" {
		at := strings.LastIndexByte(v, '@')
		return v[:1] + strings.Repeat("*", max(at-1, 1)) + v[at:]
	}
	keep := 4
	return v[:min(3, len(v))] + strings.Repeat("*", max(len(v)-3-keep, 0)) + v[max(len(v)-keep, 3):]
}

// challengeRow is a stored challenge.
type challengeRow struct {
	destination string
	accountID   int64
	payload     string
}

// redeemChallenge checks code against challenge id of the given purpose,
// then in one transaction marks it used and runs fn, so the code is spent
// exactly when fn's work commits. Wrong codes count; after maxCodeAttempts,
// or once used or expired, the challenge refuses every code with
// ErrWrongCode.
func (s *Service) redeemChallenge(ctx context.Context, id, purpose, code string, fn func(tx *sqldb.Tx, r challengeRow) error) error {
	code = strings.TrimSpace(code)
	if id == "" || len(id) > 64 || len(code) != 6 || !allDigits(code) {
		return invalid("code: enter the 6-digit code")
	}
	var r challengeRow
	var hash string
	var acct *int64
	var attempts int
	var expires, used int64
	err := s.db.QueryRow(ctx, `SELECT destination, account_id, code_hash, payload, attempts, expires_at, used_at
		FROM identity_challenges WHERE id = ? AND purpose = ?`, id, purpose).
		Scan(&r.destination, &acct, &hash, &r.payload, &attempts, &expires, &used)
	if errors.Is(err, sqldb.ErrNotFound) {
		return ErrWrongCode
	}
	if err != nil {
		return fmt.Errorf("redeem challenge: %w", err)
	}
	if acct != nil {
		r.accountID = *acct
	}
	if used != 0 || attempts >= maxCodeAttempts || s.now().UnixMilli() >= expires {
		return ErrWrongCode
	}
	want, err := s.codeHash(ctx, id, code)
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(want), []byte(hash)) {
		var n int
		err := s.db.QueryRow(ctx, `UPDATE identity_challenges SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, id).Scan(&n)
		if err != nil {
			return fmt.Errorf("redeem challenge: %w", err)
		}
		if left := maxCodeAttempts - n; left > 0 {
			return openmini.Errorf(openmini.EUNAUTHORIZED, "code: wrong verification code; %d attempts left", left)
		}
		return ErrWrongCode
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE identity_challenges SET used_at = ? WHERE id = ? AND used_at = 0 AND attempts < ?`,
			s.now().UnixMilli(), id, maxCodeAttempts)
		if err != nil {
			return fmt.Errorf("redeem challenge: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrWrongCode
		}
		return fn(tx, r)
	})
}
