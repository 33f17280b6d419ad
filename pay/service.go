// Package pay is the payments domain for offline and online merchants:
// wallets on a double-entry ledger, merchants with API credentials, payment
// orders with idempotency keys, the payment PIN, merchant collection codes,
// order codes and user-presented payment codes, platform fees with
// promotional waivers, platform-funded coupon campaigns, refunds, signed
// webhooks delivered through the durable job queue, and daily settlement
// reports that reconcile with the ledger.
//
// Amounts are int64 minor units (fen for CNY) in one currency per Service;
// there is no floating point anywhere. Every money movement is one journal
// entry whose postings sum to zero, written in the same transaction as the
// state change that caused it and the webhook event that announces it.
//
// The Service is the only entry point: web handlers decode a request,
// authorise it (an org member for merchant settings, Authenticate for
// merchant servers, the signed-in user for wallet actions) and call one
// method. Errors are *openmini.Error with stable codes; the exported Err*
// values can be matched with errors.Is where a caller shows a special page.
package pay

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// Config tunes a Service. The zero value is usable: every field has a
// documented default.
type Config struct {
	// Currency of every wallet, order and account; default "CNY".
	Currency string
	// DefaultFeeBP is the platform fee in basis points for categories
	// without their own rate (SetFeeRate); default 60 (0.6%).
	DefaultFeeBP int
	// MaxAmount caps one order, top-up or refund in minor units; default
	// 10,000,000,00 (ten million in a two-decimal currency).
	MaxAmount int64
	// OrderTTL is how long an unpaid order stays payable when the request
	// names no expiry; default 15 minutes.
	OrderTTL time.Duration
	// IdempotencyTTL is how long idempotency keys are kept; default and
	// minimum 24 hours.
	IdempotencyTTL time.Duration
	// CodeTTL is how long a user-presented payment code stays valid;
	// default 60 seconds.
	CodeTTL time.Duration
	// MaxNoPINLimit caps the amount a user may allow without a PIN on
	// payment codes; default 2,000.00.
	MaxNoPINLimit int64
	// PINParams are the argon2id costs for payment PINs; default
	// password.Default.
	PINParams password.Params
	// PINLockout is the failed-PIN backoff; default ratelimit.DefaultLockout.
	PINLockout ratelimit.Lockout
	// TopUp funds wallets; default the Sandbox provider.
	TopUp TopUpProvider
	// Location decides where a settlement day starts and ends; default UTC.
	Location *time.Location
	// ExpireEvery is how often the expiry job closes unpaid orders;
	// default 30 seconds.
	ExpireEvery time.Duration

	// WebhookTimeout bounds one delivery; default 10 seconds.
	WebhookTimeout time.Duration
	// WebhookRetryBase is the first retry delay, doubled per attempt up to
	// WebhookRetryMax (default 15 seconds and 1 hour). Retries go on for
	// at least WebhookRetrySpan (default and minimum 24 hours).
	WebhookRetryBase time.Duration
	WebhookRetryMax  time.Duration
	WebhookRetrySpan time.Duration
	// WebhookInsecure allows http:// URLs and private, loopback and
	// link-local addresses (development and tests). Off, webhooks go only
	// to https:// URLs on public addresses.
	WebhookInsecure bool
	// WebhookTransport replaces the HTTP transport (nil: a dedicated one
	// that enforces WebhookInsecure at dial time).
	WebhookTransport http.RoundTripper

	Logger *slog.Logger
	// Now is the clock; tests may replace it. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.Currency == "" {
		c.Currency = "CNY"
	}
	c.Currency = strings.ToUpper(c.Currency)
	if _, ok := CurrencyExponent(c.Currency); !ok {
		return fmt.Errorf("pay: unsupported currency %q", c.Currency)
	}
	if c.DefaultFeeBP == 0 {
		c.DefaultFeeBP = 60
	}
	if c.DefaultFeeBP < 0 || c.DefaultFeeBP > 10000 {
		return fmt.Errorf("pay: DefaultFeeBP %d outside 0..10000", c.DefaultFeeBP)
	}
	if c.MaxAmount <= 0 {
		c.MaxAmount = 1_000_000_000
	}
	if c.MaxAmount > 1_000_000_000_000 {
		return fmt.Errorf("pay: MaxAmount %d above 10^12", c.MaxAmount)
	}
	if c.OrderTTL <= 0 {
		c.OrderTTL = 15 * time.Minute
	}
	if c.IdempotencyTTL < 24*time.Hour {
		c.IdempotencyTTL = 24 * time.Hour
	}
	if c.CodeTTL <= 0 {
		c.CodeTTL = 60 * time.Second
	}
	if c.MaxNoPINLimit <= 0 {
		c.MaxNoPINLimit = 200_000
	}
	if c.PINParams == (password.Params{}) {
		c.PINParams = password.Default
	}
	if c.PINLockout == (ratelimit.Lockout{}) {
		c.PINLockout = ratelimit.DefaultLockout
	}
	if c.TopUp == nil {
		c.TopUp = Sandbox{}
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.ExpireEvery <= 0 {
		c.ExpireEvery = 30 * time.Second
	}
	if c.WebhookTimeout <= 0 {
		c.WebhookTimeout = 10 * time.Second
	}
	if c.WebhookRetryBase <= 0 {
		c.WebhookRetryBase = 15 * time.Second
	}
	if c.WebhookRetryMax <= 0 {
		c.WebhookRetryMax = time.Hour
	}
	if c.WebhookRetryMax < c.WebhookRetryBase {
		c.WebhookRetryMax = c.WebhookRetryBase
	}
	if c.WebhookRetrySpan < 24*time.Hour {
		c.WebhookRetrySpan = 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Service holds the payment rules. It is safe for concurrent use; several
// replicas may run one each against the same database.
type Service struct {
	db      *sqldb.DB
	cfg     Config
	limiter *ratelimit.Limiter
	log     *slog.Logger
	client  *http.Client
	queue   atomic.Pointer[jobs.Queue]

	webhookAttempts int
	accounts        sync.Map // accountKey -> accountRef, only committed accounts
	fees            feeCache
}

// New returns a Service on db (migrated by sqldb.Open). It returns an error
// for a configuration it cannot honour.
func New(db *sqldb.DB, cfg Config) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Service{
		db:      db,
		cfg:     cfg,
		limiter: ratelimit.New(db, cfg.Now),
		log:     cfg.Logger.With("component", "pay"),
	}
	s.client = newWebhookClient(cfg)
	s.webhookAttempts = retryAttempts(cfg.WebhookRetryBase, cfg.WebhookRetryMax, cfg.WebhookRetrySpan)
	return s, nil
}

// Currency is the currency of every amount this Service handles.
func (s *Service) Currency() string { return s.cfg.Currency }

func (s *Service) now() time.Time { return s.cfg.Now() }

// forUpdate is the row-lock suffix for SELECTs inside a transaction. SQLite
// needs none: its transactions hold the database's only write lock.
func (s *Service) forUpdate() string {
	if s.db.Dialect() == sqldb.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// tx runs fn in a transaction, retrying the whole of it when the database
// reports a deadlock or serialization failure. fn must not keep state from
// one try to the next outside what it returns.
func (s *Service) tx(ctx context.Context, fn func(tx *sqldb.Tx) error) error {
	return retryBusy(ctx, func() error { return s.db.WithTx(ctx, fn) })
}

// retryBusy runs fn again, after a short random wait, while it fails with
// sqldb.ErrBusy (a deadlock or serialization failure), up to 8 times.
func retryBusy(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !errors.Is(err, sqldb.ErrBusy) || attempt >= 8 {
			return err
		}
		d := time.Duration(1+mrand.IntN(4<<attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// notify wakes this replica's job workers after a commit that queued jobs.
func (s *Service) notify() {
	if q := s.queue.Load(); q != nil {
		q.Notify()
	}
}

// idEncoding is Crockford's base32 alphabet in lower case, whose ASCII
// order is its numeric order, so ids sort by creation time.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newID returns prefix_ followed by 26 characters: 48 bits of the Unix
// millisecond time (ids sort by creation and new rows land at the end of
// the B-tree, not on a random page) and 80 random bits (unguessable).
func newID(prefix string) string {
	var b [16]byte // 6 bytes of Unix milliseconds, 10 random bytes
	t := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(t)
		t >>= 8
	}
	rand.Read(b[6:16])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Errors callers may match with errors.Is to show a specific page or
// prompt. Their codes and messages are safe to show.
var (
	ErrPINNotSet         = &openmini.Error{Code: openmini.ECONFLICT, Message: "no payment PIN set yet; set one first"}
	ErrWrongPIN          = &openmini.Error{Code: openmini.EUNAUTHORIZED, Message: "wrong payment PIN"}
	ErrInsufficientFunds = &openmini.Error{Code: openmini.ECONFLICT, Message: "wallet balance too low for this payment"}
	ErrCouponUnavailable = &openmini.Error{Code: openmini.ECONFLICT, Message: "the coupon can no longer be used for this payment; pay again without it"}
	ErrNeedsPIN          = &openmini.Error{Code: openmini.EFORBIDDEN, Message: "this payment needs the payer's PIN"}
)

func invalid(format string, args ...any) error {
	return openmini.Errorf(openmini.EINVALID, format, args...)
}

func notFound(format string, args ...any) error {
	return openmini.Errorf(openmini.ENOTFOUND, format, args...)
}

func conflict(format string, args ...any) error {
	return openmini.Errorf(openmini.ECONFLICT, format, args...)
}

// internal wraps an unexpected failure: logged with its cause, shown as a
// generic message.
func internal(op string, err error) error {
	var oe *openmini.Error
	if errors.As(err, &oe) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "request cancelled or timed out", Err: fmt.Errorf("%s: %w", op, err)}
	}
	return &openmini.Error{Code: openmini.EINTERNAL, Message: "internal error", Err: fmt.Errorf("%s: %w", op, err)}
}
