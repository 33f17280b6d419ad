package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/pay"
)

// discoWorld is a host world (operator, developer organisation) whose
// mini programs are published through the real API and indexed by
// discovery through the app service's release hook.
type discoWorld struct {
	*hostWorld
	ctx context.Context
}

func newDiscoWorld(t *testing.T) *discoWorld {
	t.Helper()
	return &discoWorld{hostWorld: newHostWorld(t), ctx: context.Background()}
}

// app publishes a mini program (the friendly fixture) with these
// settings; release indexes it.
func (w *discoWorld) app(t *testing.T, name, category, description string, keywords ...string) published {
	t.Helper()
	if keywords == nil {
		keywords = []string{}
	}
	return w.publish(t, "friendly", name, map[string]any{"category": category, "description": description, "keywords": keywords}, nil)
}

// session is an HTTP client signed in with token (no redirects followed).
func (w *discoWorld) session(token string) *http.Client {
	c := w.p.Client()
	u, _ := url.Parse(w.p.URL)
	if token != "" {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "om_session", Value: token, Path: "/"}})
	}
	return c
}

// anonymous is a client without a session that keeps its device cookie.
func (w *discoWorld) anonymous() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fetch sends a request as the host page would (Origin of the host) and
// returns status and body.
func (w *discoWorld) fetch(t *testing.T, c *http.Client, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, w.p.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", w.p.URL)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// launch opens appID through the shell's launch endpoint with a scene and
// returns the launch's discovery record id.
func (w *discoWorld) launch(t *testing.T, c *http.Client, appID, scene string) int64 {
	t.Helper()
	code, body := w.fetch(t, c, "GET", "/host/api/launch/"+appID+"?om_scene="+scene, nil)
	if code != 200 {
		t.Fatalf("launch %s (%s): %d %s", appID, scene, code, body)
	}
	var l struct {
		LaunchID int64  `json:"launchId"`
		Scene    string `json:"scene"`
	}
	json.Unmarshal([]byte(body), &l)
	if l.LaunchID == 0 || l.Scene != scene {
		t.Fatalf("launch %s: no launch id or scene %q: %s", appID, l.Scene, body)
	}
	return l.LaunchID
}

// merchant makes a merchant of the world's organisation that links appID,
// with a location.
func (w *discoWorld) merchant(t *testing.T, appID, name string, lat, lng float64) *pay.Merchant {
	t.Helper()
	p := discovery.Degrees(lat, lng)
	m, err := w.p.Pay.CreateMerchant(w.ctx, pay.MerchantSpec{OrgID: w.orgID, Name: name, Category: "restaurant",
		Latitude: p.Lat, Longitude: p.Lng, Address: "1 Test Road"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.p.Pay.LinkApp(w.ctx, m.ID, appID); err != nil {
		t.Fatal(err)
	}
	return m
}

// pays has user pay amount to the merchant in appID, through the
// payments service (order, then the user's PIN).
func (w *discoWorld) pays(t *testing.T, user int64, m *pay.Merchant, appID string, amount int64) *pay.Order {
	t.Helper()
	if ok, _ := w.p.Pay.HasPIN(w.ctx, user); !ok {
		if err := w.p.Pay.SetPIN(w.ctx, user, "", "258014"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.p.Pay.TopUpWallet(w.ctx, user, 1000_00, fmt.Sprintf("topup-%d-%d", user, time.Now().UnixNano())); err != nil {
			t.Fatal(err)
		}
	}
	o, err := w.p.Pay.CreateOrder(w.ctx, m.ID, fmt.Sprintf("k-%d", time.Now().UnixNano()), pay.OrderRequest{Amount: amount, Description: "lunch", AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	paid, err := w.p.Pay.PayOrder(w.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: "258014"})
	if err != nil {
		t.Fatal(err)
	}
	return paid
}
