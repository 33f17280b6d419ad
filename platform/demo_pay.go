package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/pay/webhook"
	"github.com/openmini/openmini/qr"
)

// The demo's payments: the restaurant "Noodle Bar 面馆" as a merchant of
// the demo organisation (in Shanghai), linked to the demo restaurant mini
// program; its table QR codes (tables 1 to 20 of store 88); the demo
// user's wallet with a sandbox top-up; fee rates; a coupon campaign; and
// the restaurant's own server.
//
// The restaurant's server is what a real merchant runs next to its mini
// program: the mini program sends it the cart, it prices the cart from its
// own menu and creates the payment order through the merchant API with the
// merchant's API key, over HTTP, then the mini program calls
// openmini.tradePay({orderId}). It also receives and verifies the
// webhooks. Under --demo it is mounted on the platform's own listener
// under /demo/noodlebar/; the mini program reaches it at the host's
// address with localhost spelled 127.0.0.1, a different origin from the
// host's (an app's CSP never opens the host's own origin), allowed in the
// app's network allow-list as a loopback development origin.

const (
	demoMerchantName = "Noodle Bar 面馆"
	demoServerPath   = "/demo/noodlebar/"
	demoStore        = "88"
)

// demoMerchantFile holds the restaurant server's credentials in the data
// directory, so the server works again after a restart.
const demoMerchantFile = "demo-noodlebar.json"

type demoMerchantConfig struct {
	MerchantID    int64  `json:"merchant_id"`
	AppID         string `json:"app_id"`
	KeyID         string `json:"key_id"`
	Secret        string `json:"secret"`
	WebhookSecret string `json:"webhook_secret"`
}

// demoBackendOrigin is the origin the restaurant's mini program reaches
// its server at: the host's, with localhost spelled 127.0.0.1.
func demoBackendOrigin(hostURL string) string {
	u, err := url.Parse(hostURL)
	if err != nil {
		return hostURL
	}
	if u.Hostname() == "localhost" {
		host := "127.0.0.1"
		if port := u.Port(); port != "" {
			host += ":" + port
		}
		u.Host = host
	}
	return u.Scheme + "://" + u.Host
}

// seedDemoPay builds the demo's payments world; see the comment above.
func (p *Platform) seedDemoPay(ctx context.Context, w *demoWorld) error {
	noodles, ok := w.apps["noodles"]
	if !ok {
		return errors.New("payments: the demo restaurant mini program is missing")
	}
	m, err := p.Pay.CreateMerchant(ctx, pay.MerchantSpec{OrgID: w.devOrg.ID, Name: demoMerchantName, Category: "restaurant",
		Latitude: 31_238_240, Longitude: 121_484_710, Address: "88 Nanjing East Road, Huangpu, Shanghai · 上海市黄浦区南京东路88号"})
	if err != nil {
		return fmt.Errorf("merchant: %w", err)
	}
	if err := p.Pay.LinkApp(ctx, m.ID, noodles.ID); err != nil {
		return fmt.Errorf("link the restaurant app: %w", err)
	}
	key, err := p.Pay.CreateAPIKey(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("merchant API key: %w", err)
	}
	backend := demoBackendOrigin(p.URL)
	hookSecret, err := p.Pay.SetWebhook(ctx, m.ID, backend+demoServerPath+"webhook")
	if err != nil {
		return fmt.Errorf("merchant webhook: %w", err)
	}
	cfg := demoMerchantConfig{MerchantID: m.ID, AppID: noodles.ID, KeyID: key.KeyID, Secret: key.Secret, WebhookSecret: hookSecret}
	if err := p.saveDemoMerchant(cfg); err != nil {
		return err
	}
	// The mini program may call its server (a loopback development origin).
	domains := []string{backend}
	if _, err := p.Apps.Update(ctx, w.dev, noodles.ID, app.Settings{AllowedDomains: &domains}); err != nil {
		return fmt.Errorf("allow the restaurant's server: %w", err)
	}

	// Fees, a marketing budget and a coupon for first-time diners.
	for cat, bp := range map[string]int{"restaurant": 60, "cafe": 60, "supermarket": 38, "convenience": 38, "hotel": 100} {
		if err := p.Pay.SetFeeRate(ctx, cat, bp); err != nil {
			return fmt.Errorf("fee rate: %w", err)
		}
	}
	if err := p.Pay.FundMarketing(ctx, 1_000_00, "demo marketing budget"); err != nil {
		return fmt.Errorf("marketing budget: %w", err)
	}
	now := time.Now()
	c, err := p.Pay.CreateCampaign(ctx, pay.CampaignSpec{Name: "Welcome coupon 新客立减", Budget: 200_00, DiscountAmount: 5_00,
		MinSpend: 30_00, Categories: []string{"restaurant"}, PerUserLimit: 1, StartsAt: now.Add(-time.Minute), EndsAt: now.AddDate(0, 3, 0)})
	if err != nil {
		return fmt.Errorf("coupon campaign: %w", err)
	}

	// Every demo user starts with a sandbox top-up.
	for _, u := range w.users {
		if _, err := p.Pay.TopUpWallet(ctx, u.ID, 500_00, "demo-welcome-topup"); err != nil {
			return fmt.Errorf("top up %s: %w", u.Email, err)
		}
	}

	// The table codes, and a collection code for the counter.
	_, codes, err := p.QR.CreateBatch(ctx, qr.BatchTemplate{OrgID: w.devOrg.ID, AppID: noodles.ID, Name: "Noodle Bar tables · 桌码",
		Target: qr.Target{Kind: qr.KindPage, AppID: noodles.ID, Page: "pages/index", Query: map[string]string{"store": demoStore}},
		Param:  "table", From: 1, To: 20, LabelTemplate: "Table {n} · {n}号桌", Sublabel: "Noodle Bar 面馆 · Store " + demoStore,
		CreatedBy: w.dev.AccountID})
	if err != nil {
		return fmt.Errorf("table codes: %w", err)
	}
	counter, err := p.QR.Create(ctx, qr.NewCode{OrgID: w.devOrg.ID, Label: demoMerchantName, Sublabel: "Scan to pay · 扫码付款",
		Target: qr.Target{Kind: qr.KindCollect, MerchantID: strconv.FormatInt(m.ID, 10)}, CreatedBy: w.dev.AccountID})
	if err != nil {
		return fmt.Errorf("collection code: %w", err)
	}
	w.lines = append(w.lines, "Demo payments (sandbox money; the payment PIN is set at the first payment):",
		fmt.Sprintf("  merchant   %s, id %d, with a %s coupon over %s (campaign %d)", demoMerchantName, m.ID,
			pay.FormatAmount(c.DiscountAmount, c.Currency), pay.FormatAmount(c.MinSpend, c.Currency), c.ID),
		fmt.Sprintf("  wallet     every demo user holds %s", pay.FormatAmount(500_00, p.Pay.Currency())))
	if len(codes) >= 12 {
		w.lines = append(w.lines, fmt.Sprintf("  table 12   %s", p.QR.ShortURL(codes[11])))
	}
	w.lines = append(w.lines, fmt.Sprintf("  counter    %s", p.QR.ShortURL(counter)),
		fmt.Sprintf("  kitchen    %s%s (the restaurant's server: paid orders, verified webhooks)", backend, demoServerPath))
	return nil
}

func (p *Platform) saveDemoMerchant(cfg demoMerchantConfig) error {
	b, _ := json.MarshalIndent(cfg, "", "  ")
	path := filepath.Join(p.cfg.DataDir, demoMerchantFile)
	if err := os.MkdirAll(p.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("demo merchant credentials: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("demo merchant credentials: %w", err)
	}
	return nil
}

func (p *Platform) loadDemoMerchant() (demoMerchantConfig, error) {
	var cfg demoMerchantConfig
	b, err := os.ReadFile(filepath.Join(p.cfg.DataDir, demoMerchantFile))
	if err != nil {
		return cfg, err
	}
	err = json.Unmarshal(b, &cfg)
	return cfg, err
}

// withDemoServer mounts the demo restaurant's server in front of h when
// the platform runs with --demo.
func (p *Platform) withDemoServer(h http.Handler) http.Handler {
	if !p.cfg.Demo {
		return h
	}
	d := &demoRestaurant{p: p, client: &http.Client{Timeout: 15 * time.Second}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, demoServerPath) {
			d.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// demoRestaurant is the restaurant's own server (see the top of the file).
type demoRestaurant struct {
	p      *Platform
	client *http.Client

	mu      sync.Mutex
	tickets []demoTicket // verified order.paid webhooks, newest first
}

type demoTicket struct {
	EventID, OrderID, Type, Description, Amount string
	At                                          time.Time
}

// demoMenu is the restaurant's price list; the mini program shows the
// same (platform/demo/noodles/app.js), but the server prices the cart.
var demoMenu = []struct {
	ID, Name string
	Price    int64
}{
	{"beef", "Beef noodle soup 兰州牛肉面", 2800},
	{"dan", "Dan dan noodles 担担面", 2200},
	{"zha", "Zha jiang mian 炸酱面", 2400},
	{"dumpling", "Pork dumplings (8) 猪肉水饺", 1800},
	{"cucumber", "Smashed cucumber 拍黄瓜", 900},
	{"tea", "Jasmine tea 茉莉花茶", 600},
}

func (d *demoRestaurant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg, err := d.p.loadDemoMerchant()
	if err != nil {
		http.Error(w, "the demo restaurant's server has no merchant credentials ("+demoMerchantFile+" in the data directory): start on an empty platform with --demo", http.StatusServiceUnavailable)
		return
	}
	// The mini program calls from its own origin.
	if o := r.Header.Get("Origin"); o != "" && o == d.p.Web.AppOrigin(cfg.AppID) {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Vary", "Origin")
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	switch strings.TrimPrefix(r.URL.Path, demoServerPath) {
	case "orders":
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			http.Error(w, "POST a cart", http.StatusMethodNotAllowed)
			return
		}
		d.createOrder(w, r, cfg)
	case "webhook":
		d.receiveWebhook(w, r, cfg)
	case "":
		d.kitchen(w)
	default:
		http.NotFound(w, r)
	}
}

// demoCart is what the mini program sends: dish id -> count, and the
// table from its QR code.
type demoCart struct {
	Cart  map[string]int64 `json:"cart"`
	Table string           `json:"table"`
	Store string           `json:"store"`
}

// createOrder prices the cart and creates the payment order through the
// merchant API, as the restaurant's real server would.
func (d *demoRestaurant) createOrder(w http.ResponseWriter, r *http.Request, cfg demoMerchantConfig) {
	var c demoCart
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&c); err != nil {
		demoJSON(w, http.StatusBadRequest, map[string]string{"error": "send {cart: {dish: count}, table}"})
		return
	}
	req := pay.OrderRequest{AppID: cfg.AppID, ExpiresIn: 15 * 60}
	for _, dish := range demoMenu {
		n := c.Cart[dish.ID]
		if n <= 0 {
			continue
		}
		if n > 50 {
			demoJSON(w, http.StatusBadRequest, map[string]string{"error": "at most 50 of a dish"})
			return
		}
		req.Items = append(req.Items, pay.Item{Name: dish.Name, Quantity: n, UnitPrice: dish.Price})
		req.Amount += n * dish.Price
	}
	if req.Amount == 0 {
		demoJSON(w, http.StatusBadRequest, map[string]string{"error": "the cart is empty"})
		return
	}
	table := strings.TrimSpace(c.Table)
	if len(table) > 8 {
		table = table[:8]
	}
	req.Description = "Noodle Bar, table " + table
	if table == "" {
		req.Description = "Noodle Bar, take-away"
	}
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(r.Context(), http.MethodPost, d.p.URL+"/api/v1/merchant/orders", bytes.NewReader(body))
	if err != nil {
		demoJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	hreq.SetBasicAuth(cfg.KeyID, cfg.Secret)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Idempotency-Key", "noodlebar-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	resp, err := d.client.Do(hreq)
	if err != nil {
		demoJSON(w, http.StatusBadGateway, map[string]string{"error": "the payment platform did not answer: " + err.Error()})
		return
	}
	defer resp.Body.Close()
	var o pay.Order
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &o) != nil {
		d.p.Log.Warn("demo restaurant: creating the order failed", "status", resp.StatusCode, "body", string(raw))
		demoJSON(w, http.StatusBadGateway, map[string]string{"error": "the payment platform refused the order"})
		return
	}
	demoJSON(w, http.StatusCreated, map[string]any{"order_id": o.ID, "amount": o.Amount, "currency": o.Currency})
}

// receiveWebhook verifies a webhook's signature and keeps paid orders as
// kitchen tickets.
func (d *demoRestaurant) receiveWebhook(w http.ResponseWriter, r *http.Request, cfg demoMerchantConfig) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(cfg.WebhookSecret, r.Header.Get(webhook.Header), body, time.Now(), 5*time.Minute); err != nil {
		d.p.Log.Warn("demo restaurant: webhook refused", "err", err)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Order pay.Order `json:"order"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	seen := false
	for _, t := range d.tickets {
		seen = seen || t.EventID == ev.ID
	}
	if !seen {
		o := ev.Data.Order
		d.tickets = append([]demoTicket{{EventID: ev.ID, OrderID: o.ID, Type: ev.Type, Description: o.Description,
			Amount: pay.FormatAmount(o.Amount, o.Currency), At: time.Now()}}, d.tickets...)
		if len(d.tickets) > 100 {
			d.tickets = d.tickets[:100]
		}
	}
	d.mu.Unlock()
	d.p.Log.Info("demo restaurant: webhook verified", "event", ev.ID, "type", ev.Type, "order", ev.Data.Order.ID)
	w.WriteHeader(http.StatusNoContent)
}

var kitchenPage = template.Must(template.New("kitchen").Parse(`<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="10">
<title>Noodle Bar kitchen 厨房</title>
<body style="font-family:system-ui,sans-serif;margin:1rem;max-width:40rem">
<h1>Noodle Bar kitchen 厨房</h1>
<p>The restaurant's own server: these are the webhooks it received and verified. 餐厅服务器收到并验签的通知。</p>
<ul>{{range .}}<li><strong>{{.Type}}</strong> {{.Description}} ¥{{.Amount}} <code>{{.OrderID}}</code> {{.At.Format "15:04:05"}}</li>{{else}}<li>No orders yet. 暂无订单。</li>{{end}}</ul>
</body></html>`))

func (d *demoRestaurant) kitchen(w http.ResponseWriter) {
	d.mu.Lock()
	ts := append([]demoTicket(nil), d.tickets...)
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	kitchenPage.Execute(w, ts)
}

func demoJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
