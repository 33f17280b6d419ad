package pay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/password"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// cheapPIN keeps argon2id's shape at a cost the race detector can afford.
var cheapPIN = password.Params{Memory: 64, Time: 1, Threads: 1}

const testPIN = "258013"

// clock is real time plus an offset the test can move forward, so signed
// webhook timestamps stay verifiable while expiries can be reached.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	svc   *pay.Service
	clock *clock
	org   int64
}

// newEnv opens a Service on db and checks the ledger when the test ends.
func newEnv(t *testing.T, db *sqldb.DB, tweak ...func(*pay.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), db: db, clock: &clock{}}
	cfg := pay.Config{PINParams: cheapPIN, Logger: quiet, Now: e.clock.Now, WebhookInsecure: true}
	for _, f := range tweak {
		f(&cfg)
	}
	svc, err := pay.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	t.Cleanup(func() {
		if err := pay.CheckLedger(context.Background(), db); err != nil {
			t.Errorf("after the test: %v", err)
		}
	})
	e.org = e.newOrg("shop")
	return e
}

func (e *env) newOrg(slug string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.QueryRow(e.ctx, `INSERT INTO orgs (slug, name, created_at) VALUES (?, ?, ?) RETURNING id`,
		fmt.Sprintf("%s-%d", slug, time.Now().UnixNano()), slug, time.Now().UnixMilli()).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) newApp(org int64, id string) {
	e.t.Helper()
	if _, err := e.db.Exec(e.ctx, `INSERT INTO apps (id, org_id, name, created_at) VALUES (?, ?, ?, ?)`, id, org, id, time.Now().UnixMilli()); err != nil {
		e.t.Fatal(err)
	}
}

// newUser creates an account with a PIN and, when balance > 0, a wallet
// topped up by the sandbox.
func (e *env) newUser(balance int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.QueryRow(e.ctx, `INSERT INTO accounts (name, created_at) VALUES ('user', ?) RETURNING id`, time.Now().UnixMilli()).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.SetPIN(e.ctx, id, "", testPIN); err != nil {
		e.t.Fatal(err)
	}
	if balance > 0 {
		tp, err := e.svc.TopUpWallet(e.ctx, id, balance, fmt.Sprintf("topup-%d", id))
		if err != nil || tp.State != pay.TopUpSucceeded {
			e.t.Fatalf("top up: %+v, %v", tp, err)
		}
	}
	return id
}

func (e *env) newMerchant(category string) *pay.Merchant {
	e.t.Helper()
	m, err := e.svc.CreateMerchant(e.ctx, pay.MerchantSpec{OrgID: e.org, Name: "Noodle House", Category: category,
		Latitude: 31_230_416, Longitude: 121_473_701, Address: "1 Nanjing Road, Shanghai"})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) order(m *pay.Merchant, amount int64) *pay.Order {
	e.t.Helper()
	o, err := e.svc.CreateOrder(e.ctx, m.ID, fmt.Sprintf("k-%d", time.Now().UnixNano()), pay.OrderRequest{Amount: amount, Description: "lunch"})
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) pay(user int64, o *pay.Order) *pay.Order {
	e.t.Helper()
	paid, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: testPIN})
	if err != nil {
		e.t.Fatal(err)
	}
	return paid
}

func (e *env) balance(user int64) int64 {
	e.t.Helper()
	w, err := e.svc.Wallet(e.ctx, user)
	if err != nil {
		e.t.Fatal(err)
	}
	return w.Balance
}

func (e *env) merchantBalance(m *pay.Merchant) int64 {
	e.t.Helper()
	b, err := e.svc.MerchantBalance(e.ctx, m.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// wantCode fails unless err is an *openmini.Error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if openmini.ErrorCode(err) != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v: want %v", err, target)
	}
}

// parallel runs fn(i) for i in [0, n) at once and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func eachDB(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) { testenv.EachDB(t, fn) }

// openAny opens a fresh database of the dialect OPENMINI_TEST_DB names.
func openAny(t *testing.T) *sqldb.DB { return testenv.DB(t) }
