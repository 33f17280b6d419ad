package pay_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/pay/webhook"
	"github.com/openmini/openmini/sqldb"
)

// receiver is a merchant's test server: it verifies every delivery's
// signature and answers 500 to the first failFirst deliveries.
type receiver struct {
	t         *testing.T
	mu        sync.Mutex
	secret    string
	failFirst int
	now       func() time.Time // the merchant's clock
	calls     int
	got       []delivered
}

type delivered struct {
	EventID string
	Type    string
	Body    []byte
	Order   pay.Order
	Refund  *pay.Refund
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if err := webhook.Verify(rc.secret, r.Header.Get(webhook.Header), body, rc.now(), 0); err != nil {
		rc.t.Errorf("delivery %d: %v", rc.calls, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rc.calls <= rc.failFirst {
		http.Error(w, "try later", http.StatusInternalServerError)
		return
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Order  pay.Order   `json:"order"`
			Refund *pay.Refund `json:"refund"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("delivery body: %v", err)
	}
	if ev.ID != r.Header.Get("OpenMini-Event-Id") || ev.Type != r.Header.Get("OpenMini-Event-Type") {
		rc.t.Errorf("headers %v disagree with body %s", r.Header, body)
	}
	rc.got = append(rc.got, delivered{EventID: ev.ID, Type: ev.Type, Body: body, Order: ev.Data.Order, Refund: ev.Data.Refund})
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) deliveries() []delivered {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivered(nil), rc.got...)
}

func runQueue(t *testing.T, db *sqldb.DB, svc *pay.Service) {
	t.Helper()
	q := jobs.New(db, jobs.Options{PollInterval: 20 * time.Millisecond, Logger: quiet, Workers: 4})
	svc.Register(q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhooks: a real HTTP server receives signed events for payments,
// refunds and closed orders, one retry after it first fails; the delivery
// log shows every attempt; manual redelivery sends the same event again.
func TestWebhooks(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, func(c *pay.Config) { c.WebhookRetryBase = 50 * time.Millisecond })
		m := e.newMerchant("restaurant")
		rc := &receiver{t: t, failFirst: 1, now: e.clock.Now}
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		secret, err := e.svc.SetWebhook(e.ctx, m.ID, srv.URL+"/hooks/openmini")
		if err != nil {
			t.Fatal(err)
		}
		rc.secret = secret
		user := e.newUser(50_00)
		o := e.order(m, 20_00)
		runQueue(t, db, e.svc)
		e.pay(user, o)
		waitFor(t, "order.paid delivered after one failure", func() bool { return len(rc.deliveries()) == 1 })
		d := rc.deliveries()[0]
		if d.Type != pay.EventOrderPaid || d.Order.ID != o.ID || d.Order.State != pay.StatePaid || d.Order.Amount != 20_00 || d.Order.Net != 20_00-12 {
			t.Fatalf("delivered %+v", d)
		}
		var events []pay.Event
		waitFor(t, "event marked delivered", func() bool {
			events, _, err = e.svc.Events(e.ctx, pay.EventQuery{MerchantID: m.ID})
			return err == nil && len(events) == 1 && events[0].State == pay.EventDelivered
		})
		if events[0].ID != d.EventID || events[0].Attempts != 2 {
			t.Fatalf("event %+v", events[0])
		}
		log, err := e.svc.Deliveries(e.ctx, m.ID, d.EventID)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].Status != "failed" || log[0].ResponseCode != 500 || log[0].Error == "" ||
			log[1].Status != "succeeded" || log[1].ResponseCode != 204 || log[1].Attempt != 2 {
			t.Fatalf("delivery log %+v", log)
		}

		// Refund: refund.succeeded and order.partly_refunded.
		if _, err := e.svc.RefundOrder(e.ctx, m.ID, "r1", pay.RefundRequest{OrderID: o.ID, Amount: 5_00}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "refund events", func() bool { return len(rc.deliveries()) == 3 })
		types := map[string]bool{}
		for _, d := range rc.deliveries()[1:] {
			types[d.Type] = true
			if d.Refund == nil || d.Refund.Amount != 5_00 || d.Order.Refunded != 5_00 {
				t.Fatalf("refund delivery %+v", d)
			}
		}
		if !types[pay.EventRefundSucceeded] || !types[pay.EventOrderPartlyRefunded] {
			t.Fatalf("refund event types %v", types)
		}

		// Expiry: the periodic job closes an unpaid order and says so.
		stale := e.order(m, 1_00)
		e.clock.Advance(16 * time.Minute)
		n, err := e.svc.ExpireOrders(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("expired %d orders, %v", n, err)
		}
		waitFor(t, "order.closed", func() bool { return len(rc.deliveries()) == 4 })
		if d := rc.deliveries()[3]; d.Type != pay.EventOrderClosed || d.Order.ID != stale.ID || d.Order.State != pay.StateClosed {
			t.Fatalf("closed delivery %+v", d)
		}
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: stale.ID, PIN: testPIN})
		wantCode(t, err, openmini.ECONFLICT)

		// Manual redelivery sends the very same body again.
		if err := e.svc.Redeliver(e.ctx, m.ID, d.EventID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "redelivery", func() bool { return len(rc.deliveries()) == 5 })
		if again := rc.deliveries()[4]; again.EventID != d.EventID || string(again.Body) != string(d.Body) {
			t.Fatalf("redelivered %s, want the body of %s", again.Body, d.Body)
		}
		// The attempt is logged once the receiver has answered.
		waitFor(t, "the redelivery logged", func() bool {
			log, err = e.svc.Deliveries(e.ctx, m.ID, d.EventID)
			return err == nil && len(log) == 3
		})
		if !log[2].Manual || log[2].Status != "succeeded" {
			t.Fatalf("log after redelivery %+v", log)
		}
		// Another merchant cannot see or redeliver the event.
		other := e.newMerchant("restaurant")
		wantCode(t, e.svc.Redeliver(e.ctx, other.ID, d.EventID), openmini.ENOTFOUND)
	})
}

// TestWebhookRetrySchedule: the default schedule keeps retrying for at
// least 24 hours even with the shortest jitter, backing off exponentially.
func TestWebhookRetrySchedule(t *testing.T) {
	db := testenv.DB(t)
	svc, err := pay.New(db, pay.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	n := svc.WebhookAttempts()
	if n < 20 || n > 60 {
		t.Fatalf("%d attempts: implausible for 24h at up to 1h apart", n)
	}
	span := pay.RetrySpanForTest(svc, n)
	if span < 24*time.Hour {
		t.Fatalf("retries span %v, want >= 24h", span)
	}
	if shorter := pay.RetrySpanForTest(svc, n-1); shorter >= 24*time.Hour {
		t.Fatalf("one attempt fewer still spans %v: attempts not minimal", shorter)
	}
}
