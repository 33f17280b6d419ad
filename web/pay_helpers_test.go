package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/pay/webhook"
	"github.com/openmini/openmini/platform"
)

// payWorld is a platform started with --demo (its payments world: the
// Noodle Bar merchant linked to the restaurant mini program, table codes,
// a coupon campaign, a funded demo user) and webhooks allowed to loopback
// addresses, as in development.
type payWorld struct {
	p        *platformtest.Running
	merchant *pay.Merchant
	keyID    string
	secret   string
}

func newPayWorld(t *testing.T) *payWorld {
	t.Helper()
	p := platformtest.Start(t, platform.Config{Demo: true})
	ctx := context.Background()
	w := &payWorld{p: p}
	var id int64
	if err := p.DB.QueryRow(ctx, `SELECT id FROM pay_merchants WHERE name = ?`, "Noodle Bar 面馆").Scan(&id); err != nil {
		t.Fatalf("the demo merchant: %v", err)
	}
	var err error
	if w.merchant, err = p.Pay.Merchant(ctx, id); err != nil {
		t.Fatal(err)
	}
	k, err := p.Pay.CreateAPIKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	w.keyID, w.secret = k.KeyID, k.Secret
	t.Cleanup(func() {
		if err := pay.CheckLedger(context.Background(), p.DB); err != nil {
			t.Errorf("the ledger does not balance after the test: %v", err)
		}
	})
	return w
}

// merchantCall is one request of the merchant server API.
type merchantCall struct {
	method, path string
	key          string // Idempotency-Key
	body         any
	auth         func(*http.Request)
}

// api sends a merchant API request with the world's key (HTTP Basic) and
// decodes the answer into out; it returns the status and the raw body.
func (w *payWorld) api(t *testing.T, c merchantCall, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(c.method, w.p.URL+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Idempotency-Key", c.key)
	}
	if c.auth != nil {
		c.auth(req)
	} else {
		req.SetBasicAuth(w.keyID, w.secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: status %d, not JSON: %v\n%s", c.method, c.path, resp.StatusCode, err, raw)
		}
	}
	return resp.StatusCode, raw
}

// must is api that fails the test unless the status is want.
func (w *payWorld) must(t *testing.T, want int, c merchantCall, out any) {
	t.Helper()
	if code, raw := w.api(t, c, out); code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, code, want, raw)
	}
}

// order creates an order of amount for the demo restaurant app.
func (w *payWorld) order(t *testing.T, key string, req pay.OrderRequest) *pay.Order {
	t.Helper()
	var o pay.Order
	w.must(t, 201, merchantCall{method: "POST", path: "/api/v1/merchant/orders", key: key, body: req}, &o)
	return &o
}

// payUser is a signed-in host user: an HTTP client with a session.
type payUser struct {
	id    int64
	token string
	c     *http.Client
	p     *platformtest.Running
}

// user makes a host user with a session and tops up their wallet
// (sandbox) by topUp minor units.
func (w *payWorld) user(t *testing.T, email string, topUp int64) *payUser {
	t.Helper()
	ctx := context.Background()
	a, err := w.p.Accounts.Create(ctx, w.p.DB, account.NewAccount{Email: email, Name: strings.Split(email, "@")[0], Password: "user-password-123"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := w.p.Accounts.CreateSession(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	u := &payUser{id: a.ID, token: token, c: w.p.Client(), p: w.p}
	pu, _ := url.Parse(w.p.URL)
	u.c.Jar.SetCookies(pu, []*http.Cookie{{Name: "om_session", Value: token, Path: "/"}})
	if topUp > 0 {
		if _, err := w.p.Pay.TopUpWallet(ctx, a.ID, topUp, "test-topup-"+email); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// host posts JSON to a /host/api/pay endpoint as the user, as host-pay.js
// does, and decodes the answer.
func (u *payUser) host(t *testing.T, path string, body, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u.p.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", u.p.URL)
	resp, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: %d, not JSON: %s", path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// receiver is the merchant's webhook endpoint: a real HTTP server that
// verifies every delivery's signature and keeps the events.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events []receivedEvent
	bad    int
}

type receivedEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Order  pay.Order   `json:"order"`
		Refund *pay.Refund `json:"refund"`
	} `json:"data"`
}

// listen starts the receiver and points the merchant's webhook at it.
func (w *payWorld) listen(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{t: t}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := webhook.Verify(rc.secret, r.Header.Get(webhook.Header), body, time.Now(), 5*time.Minute); err != nil {
			rc.bad++
			http.Error(rw, "bad signature", http.StatusBadRequest)
			return
		}
		var ev receivedEvent
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get("OpenMini-Event-Id") {
			rc.bad++
			http.Error(rw, "bad body", http.StatusBadRequest)
			return
		}
		rc.events = append(rc.events, ev)
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	secret, err := w.p.Pay.SetWebhook(context.Background(), w.merchant.ID, srv.URL+"/hook")
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	rc.secret = secret
	rc.mu.Unlock()
	return rc
}

// wait waits until an event of typ for order arrives, verified.
func (rc *receiver) wait(typ, order string) receivedEvent {
	rc.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rc.mu.Lock()
		for _, e := range rc.events {
			if e.Type == typ && e.Data.Order.ID == order {
				rc.mu.Unlock()
				return e
			}
		}
		bad := rc.bad
		rc.mu.Unlock()
		if bad > 0 {
			rc.t.Fatalf("the receiver refused %d deliveries (bad signature or body)", bad)
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("no verified %s webhook for %s within 30s", typ, order)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
