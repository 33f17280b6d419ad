package pay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// TestPIN: set on first use, weak PINs refused, changing needs the current
// one, and wrong guesses lock the wallet with growing waits, shared through
// the database by every Service (replica).
func TestPIN(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		lockout := func(c *pay.Config) { c.PINLockout = ratelimit.Lockout{Free: 3, Base: 30 * time.Second, Max: time.Hour} }
		e := newEnv(t, db, lockout)
		m := e.newMerchant("restaurant")
		var user int64
		if err := db.QueryRow(e.ctx, `INSERT INTO accounts (name, created_at) VALUES ('pin', 0) RETURNING id`).Scan(&user); err != nil {
			t.Fatal(err)
		}
		o := e.order(m, 1_00)
		_, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: testPIN})
		wantIs(t, err, pay.ErrPINNotSet)
		for _, weak := range []string{"111111", "123456", "987654", "12345", "abcdef", "1234567"} {
			wantCode(t, e.svc.SetPIN(e.ctx, user, "", weak), openmini.EINVALID)
		}
		if err := e.svc.SetPIN(e.ctx, user, "", testPIN); err != nil {
			t.Fatal(err)
		}
		// Changing needs the current PIN.
		wantIs(t, e.svc.SetPIN(e.ctx, user, "", "604913"), pay.ErrWrongPIN)
		if err := e.svc.SetPIN(e.ctx, user, testPIN, "604913"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetPIN(e.ctx, user, "604913", testPIN); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.TopUpWallet(e.ctx, user, 10_00, "t1"); err != nil {
			t.Fatal(err)
		}
		// Another replica (its own Service) shares the failure count.
		replica, err := pay.New(db, pay.Config{PINParams: cheapPIN, Logger: quiet, Now: e.clock.Now,
			PINLockout: ratelimit.Lockout{Free: 3, Base: 30 * time.Second, Max: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		svcs := []*pay.Service{e.svc, replica, e.svc, replica}
		for i := 0; i < 3; i++ {
			_, err := svcs[i].PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: "000111"})
			wantIs(t, err, pay.ErrWrongPIN)
		}
		_, err = replica.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: "000111"})
		var oe *openmini.Error
		if !errors.As(err, &oe) || oe.Code != openmini.ERATELIMITED || oe.RetryAfter != 30 {
			t.Fatalf("fourth wrong PIN: %v, want rate_limited with RetryAfter 30", err)
		}
		// Locked: even the right PIN waits.
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: testPIN})
		wantCode(t, err, openmini.ERATELIMITED)
		e.clock.Advance(31 * time.Second)
		// One more wrong guess locks for twice as long.
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: "000111"})
		if !errors.As(err, &oe) || oe.RetryAfter != 60 {
			t.Fatalf("fifth wrong PIN: %v, want a 60 s lock", err)
		}
		e.clock.Advance(61 * time.Second)
		if _, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: testPIN}); err != nil {
			t.Fatalf("right PIN after the lock: %v", err)
		}
		// Success cleared the count: three free failures again.
		o2 := e.order(m, 1_00)
		for range 3 {
			_, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o2.ID, PIN: "000111"})
			wantIs(t, err, pay.ErrWrongPIN)
		}
		// Nothing moved for the failed attempts.
		if b := e.balance(user); b != 9_00 {
			t.Fatalf("wallet %d, want 900", b)
		}
	})
}

// TestPaymentCodes: a one-time code, bound to its user, charged by the
// merchant; within the no-PIN limit it pays at once, above it the order
// waits for the user's PIN; used and expired codes are refused.
func TestPaymentCodes(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("convenience")
		user := e.newUser(100_00)
		code, err := e.svc.IssuePaymentCode(e.ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if len(code.Code) != 18 || !strings.HasPrefix(code.Code, "28") || code.ExpiresAt.Sub(e.clock.Now()) > time.Minute {
			t.Fatalf("code %+v", code)
		}
		// No-PIN limit 0 (the default): the charge waits for the PIN.
		o, err := e.svc.ChargePaymentCode(e.ctx, m.ID, "c1", pay.ChargeRequest{Code: code.Code, Amount: 8_00, Description: "snacks"})
		if err != nil {
			t.Fatal(err)
		}
		if o.State != pay.StateCreated || o.Source != pay.SourcePaymentCode {
			t.Fatalf("charge above the limit: %+v", o)
		}
		pending, err := e.svc.PendingOrders(e.ctx, user)
		if err != nil || len(pending) != 1 || pending[0].ID != o.ID {
			t.Fatalf("pending %v, %v", pending, err)
		}
		// The code was used up.
		_, err = e.svc.ChargePaymentCode(e.ctx, m.ID, "c2", pay.ChargeRequest{Code: code.Code, Amount: 1_00})
		wantCode(t, err, openmini.ENOTFOUND)
		// The order is bound to the code's user.
		stranger := e.newUser(100_00)
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: stranger, OrderID: o.ID, PIN: testPIN})
		wantCode(t, err, openmini.ENOTFOUND)
		_, err = e.svc.QuoteOrder(e.ctx, stranger, o.ID)
		wantCode(t, err, openmini.ENOTFOUND)
		if paid := e.pay(user, o); paid.State != pay.StatePaid || paid.UserPaid != 8_00 {
			t.Fatalf("confirmed %+v", paid)
		}

		// Within the no-PIN limit: paid at once.
		if err := e.svc.SetNoPINLimit(e.ctx, user, testPIN, 20_00); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.SetNoPINLimit(e.ctx, user, testPIN, 1_000_000_00), openmini.EINVALID)
		wantIs(t, e.svc.SetNoPINLimit(e.ctx, user, "000111", 10_00), pay.ErrWrongPIN)
		code2, _ := e.svc.IssuePaymentCode(e.ctx, user)
		o2, err := e.svc.ChargePaymentCode(e.ctx, m.ID, "c3", pay.ChargeRequest{Code: code2.Code, Amount: 20_00})
		if err != nil || o2.State != pay.StatePaid {
			t.Fatalf("charge within the limit: %+v, %v", o2, err)
		}
		if b := e.balance(user); b != 72_00 {
			t.Fatalf("wallet %d, want 7200", b)
		}
		// Too little money: refused, and the code stays usable.
		poor := e.newUser(1_00)
		if err := e.svc.SetNoPINLimit(e.ctx, poor, testPIN, 20_00); err != nil {
			t.Fatal(err)
		}
		code3, _ := e.svc.IssuePaymentCode(e.ctx, poor)
		_, err = e.svc.ChargePaymentCode(e.ctx, m.ID, "c4", pay.ChargeRequest{Code: code3.Code, Amount: 5_00})
		wantIs(t, err, pay.ErrInsufficientFunds)
		if o, err := e.svc.ChargePaymentCode(e.ctx, m.ID, "c5", pay.ChargeRequest{Code: code3.Code, Amount: 1_00}); err != nil || o.State != pay.StatePaid {
			t.Fatalf("second try with the same code: %+v, %v", o, err)
		}
		// Expired codes are refused.
		code4, _ := e.svc.IssuePaymentCode(e.ctx, user)
		e.clock.Advance(61 * time.Second)
		_, err = e.svc.ChargePaymentCode(e.ctx, m.ID, "c6", pay.ChargeRequest{Code: code4.Code, Amount: 1_00})
		wantCode(t, err, openmini.ENOTFOUND)
		// Malformed codes are invalid, not "not found".
		_, err = e.svc.ChargePaymentCode(e.ctx, m.ID, "c7", pay.ChargeRequest{Code: "12345", Amount: 1_00})
		wantCode(t, err, openmini.EINVALID)
		// The payment-code order that waited expires like any other.
		code5, _ := e.svc.IssuePaymentCode(e.ctx, user)
		o5, err := e.svc.ChargePaymentCode(e.ctx, m.ID, "c8", pay.ChargeRequest{Code: code5.Code, Amount: 50_00})
		if err != nil || o5.State != pay.StateCreated {
			t.Fatalf("%+v, %v", o5, err)
		}
		e.clock.Advance(16 * time.Minute)
		if n, err := e.svc.ExpireOrders(context.Background()); err != nil || n != 1 {
			t.Fatalf("expired %d, %v", n, err)
		}
	})
}

// TestTopUp: the sandbox completes at once and says so; a repeated submit
// tops up once; a provider that settles later completes exactly once.
func TestTopUp(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		user := e.newUser(0)
		tp, err := e.svc.TopUpWallet(e.ctx, user, 50_00, "form-1")
		if err != nil || tp.State != pay.TopUpSucceeded || !strings.Contains(tp.Notice, "Sandbox") {
			t.Fatalf("top-up %+v, %v", tp, err)
		}
		again, err := e.svc.TopUpWallet(e.ctx, user, 50_00, "form-1")
		if err != nil || again.ID != tp.ID || e.balance(user) != 50_00 {
			t.Fatalf("repeated top-up %+v, %v, balance %d", again, err, e.balance(user))
		}
		_, err = e.svc.TopUpWallet(e.ctx, user, 60_00, "form-1")
		wantCode(t, err, openmini.ECONFLICT)
		_, err = e.svc.TopUpWallet(e.ctx, user, 0, "form-2")
		wantCode(t, err, openmini.EINVALID)

		slow := &laterProvider{}
		e2 := newEnv(t, db, func(c *pay.Config) { c.TopUp = slow })
		tp2, err := e2.svc.TopUpWallet(e.ctx, user, 7_00, "form-3")
		if err != nil || tp2.State != pay.TopUpPending {
			t.Fatalf("pending top-up %+v, %v", tp2, err)
		}
		errs := parallel(5, func(int) error { _, err := e2.svc.CompleteTopUp(e.ctx, tp2.ID); return err })
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if b := e.balance(user); b != 57_00 {
			t.Fatalf("wallet %d after completing once, want 5700", b)
		}
		pb, _ := e.svc.PlatformBalances(e.ctx)
		if pb["funding:later"] != -7_00 || pb["funding:sandbox"] != -50_00 {
			t.Fatalf("funding accounts %v", pb)
		}
	})
}

type laterProvider struct{}

func (*laterProvider) Name() string { return "later" }
func (*laterProvider) Start(_ context.Context, t pay.TopUpRequest) (pay.TopUpResult, error) {
	return pay.TopUpResult{Reference: "bank-" + t.ID}, nil
}
