package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/web"
)

// demoLogin signs a console client in as the demo account of role
// ("developer" or "operator") with the password the banner printed.
func (w *payWorld) demoLogin(t *testing.T, role string) *http.Client {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + role + `\s+(\S+@\S+)\s+(\S+)`).FindStringSubmatch(w.p.Out.String())
	if m == nil {
		t.Fatalf("no demo %s in the banner:\n%s", role, w.p.Out.String())
	}
	c := w.p.Client()
	resp, body := w.p.PostForm(t, c, "/signin", "email", m[1], "password", m[2])
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as the demo %s: %d\n%s", role, resp.StatusCode, body)
	}
	return c
}

var formKeyRE = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)

// TestMerchantConsole walks a developer through the merchant pages over
// HTTP (register a merchant with a location, an API key shown once that
// then works, the webhook secret rotated, a refund issued twice from one
// form that refunds once, the settlement and its CSV, a collection code
// and its printable kit, the delivery log), checks that outsiders see
// nothing, and that the pages fit a phone in Chromium.
func TestMerchantConsole(t *testing.T) {
	w := newPayWorld(t)
	ctx := context.Background()
	dev := w.demoLogin(t, "developer")
	m := fmt.Sprintf("/console/merchants/%d", w.merchant.ID)
	orgPage := fmt.Sprintf("/console/orgs/%d/merchants", w.merchant.OrgID)

	status, body := w.p.Get(t, dev, orgPage)
	if status != 200 || !strings.Contains(body, "Noodle Bar 面馆") || !strings.Contains(body, `href="`+m+`"`) {
		t.Fatalf("the organisation's merchants: %d", status)
	}
	resp, body := w.p.PostForm(t, dev, orgPage, "name", "Dumpling Cart", "category", "restaurant", "latitude", "91.5", "longitude", "121.47", "address", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "latitude") {
		t.Fatalf("a latitude past the pole: %d", resp.StatusCode)
	}
	resp, _ = w.p.PostForm(t, dev, orgPage, "name", "Dumpling Cart", "category", "restaurant", "latitude", "31.2304", "longitude", "121.4737", "address", "People's Square")
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/console/merchants/") {
		t.Fatalf("register a merchant: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cart pay.Merchant
	list, _ := w.p.Pay.Merchants(ctx, w.merchant.OrgID)
	for _, x := range list {
		if x.Name == "Dumpling Cart" {
			cart = *x
		}
	}
	if cart.Latitude != 31_230_400 || cart.Longitude != 121_473_700 || cart.Category != "restaurant" {
		t.Fatalf("registered merchant: %+v", cart)
	}

	// An API key is shown once and works at once.
	resp, body = w.p.PostForm(t, dev, m+"/keys")
	keyID := regexp.MustCompile(`id="new-key-id">([^<]+)<`).FindStringSubmatch(body)
	secret := regexp.MustCompile(`id="new-key-secret" class="wrap">([^<]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != 201 || keyID == nil || secret == nil {
		t.Fatalf("create a key: %d", resp.StatusCode)
	}
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant", auth: func(r *http.Request) { r.SetBasicAuth(keyID[1], secret[1]) }}, nil)
	if _, body = w.p.Get(t, dev, m); strings.Contains(body, secret[1]) {
		t.Fatal("the key's secret is shown again")
	}
	// Rotating the webhook secret shows the new one.
	old, _ := w.p.Pay.WebhookSecret(ctx, w.merchant.ID)
	_, body = w.p.PostForm(t, dev, m+"/webhook/rotate")
	now, _ := w.p.Pay.WebhookSecret(ctx, w.merchant.ID)
	if now == old || !strings.Contains(body, now) {
		t.Fatal("rotating the webhook secret")
	}

	// A paid order, refunded from the console: the same form sent twice
	// refunds once; a part, then the rest.
	u := w.user(t, "ada@example.com", 100_00)
	o := w.order(t, "console-1", pay.OrderRequest{Amount: 2000, Description: "table 5"})
	u.host(t, "/host/api/pay/pin", web.PINRequest{PIN: "135790"}, nil)
	if code := u.host(t, "/host/api/pay/pay", web.TradePayRequest{OrderID: o.ID, PIN: "135790"}, nil); code != 200 {
		t.Fatalf("pay: %d", code)
	}
	_, body = w.p.Get(t, dev, m+"/payments")
	keys := formKeyRE.FindAllStringSubmatch(body, -1)
	if len(keys) == 0 || !strings.Contains(body, o.ID) {
		t.Fatal("the payments page has no refund form for the paid order")
	}
	for range 2 {
		resp, body = w.p.PostForm(t, dev, m+"/payments/"+o.ID+"/refund", "key", keys[0][1], "amount", "5.00", "reason", "slow")
		if resp.StatusCode != 303 {
			t.Fatalf("refund from the console: %d\n%s", resp.StatusCode, body)
		}
	}
	got, _ := w.p.Pay.Order(ctx, o.ID)
	if got.Refunded != 500 {
		t.Fatalf("one refund form sent twice refunded %d, want 500", got.Refunded)
	}
	resp, body = w.p.PostForm(t, dev, m+"/payments/"+o.ID+"/refund", "key", "another-form-key", "amount", "15.01")
	if resp.StatusCode != 409 {
		t.Fatalf("refunding more than is left: %d", resp.StatusCode)
	}
	resp, _ = w.p.PostForm(t, dev, m+"/payments/"+o.ID+"/refund", "key", "rest-key", "amount", "")
	if got, _ = w.p.Pay.Order(ctx, o.ID); resp.StatusCode != 303 || got.State != pay.StateRefunded {
		t.Fatalf("refund the rest: %d %+v", resp.StatusCode, got)
	}

	// Settlement and its CSV.
	status, body = w.p.Get(t, dev, m+"/settlements")
	if status != 200 || !strings.Contains(body, "Reconciled with the ledger") {
		t.Fatalf("settlement page: %d", status)
	}
	day := regexp.MustCompile(`name="date" value="([0-9-]+)"`).FindStringSubmatch(body)
	status, hdr, csvBody := fetch(t, w.p, dev, m+"/settlements/"+day[1]+"/csv")
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(csvBody), "time,type,order_id") {
		t.Fatalf("settlement CSV: %d %s", status, hdr.Get("Content-Type"))
	}

	// A collection code for the counter, its page and its printable kit.
	resp, _ = w.p.PostForm(t, dev, m+"/codes", "label", "Counter 1", "sublabel", "Scan to pay")
	if resp.StatusCode != 303 {
		t.Fatalf("create a collection code: %d", resp.StatusCode)
	}
	_, body = w.p.Get(t, dev, m+"/codes")
	if !strings.Contains(body, "Counter 1") {
		t.Fatal("the new collection code is not listed")
	}
	status, hdr, pdf := fetch(t, w.p, dev, m+"/codes/kit.pdf")
	if status != 200 || hdr.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("collection codes kit: %d %s", status, hdr.Get("Content-Type"))
	}

	// The delivery log lists the events; one event shows its attempts.
	events, _, _ := w.p.Pay.Events(ctx, pay.EventQuery{MerchantID: w.merchant.ID, OrderID: o.ID})
	if len(events) == 0 {
		t.Fatal("no events")
	}
	status, body = w.p.Get(t, dev, m+"/webhooks?event="+events[0].ID)
	if status != 200 || !strings.Contains(body, events[0].ID) || !strings.Contains(body, "deliveries") {
		t.Fatalf("delivery log: %d", status)
	}
	resp, _ = w.p.PostForm(t, dev, m+"/webhooks/"+events[0].ID+"/redeliver")
	if resp.StatusCode != 303 {
		t.Fatalf("redeliver: %d", resp.StatusCode)
	}

	// The organisation's audit log has the changes.
	for _, action := range []string{"merchant.create", "merchant.key.create", "merchant.webhook.rotate", "merchant.refund", "merchant.code.create"} {
		var n int
		if err := w.p.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE org_id = ? AND action = ?`, w.merchant.OrgID, action).Scan(&n); err != nil || n == 0 {
			t.Errorf("no %s in the organisation's audit log (%v)", action, err)
		}
	}

	// Someone outside the organisation sees no merchant at all.
	outsider := w.user(t, "eve@example.com", 0)
	for _, path := range []string{m, m + "/payments", m + "/settlements", orgPage} {
		if status, _ := w.p.Get(t, outsider.c, path); status != 404 {
			t.Errorf("an outsider on %s: %d", path, status)
		}
	}

	// The pages fit a phone, in Chinese too.
	b := newBrowser(t, w.p.URL)
	for _, c := range dev.Jar.Cookies(mustURL(t, w.p.URL)) {
		if c.Name == "om_session" {
			b.signIn(c.Value)
		}
	}
	for _, path := range []string{orgPage, m, m + "/payments", m + "/refunds", m + "/settlements", m + "/codes", m + "/webhooks?event=" + events[0].ID} {
		for _, lang := range []string{"en", "zh-Hans"} {
			b.run(chromedp.Navigate(w.p.URL + path + sep(path) + "lang=" + lang))
			var overflow bool
			b.top(`document.documentElement.scrollWidth > innerWidth`, &overflow)
			if overflow {
				t.Errorf("%s (%s) scrolls sideways at 390px", path, lang)
			}
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// TestPayOperatorConsole: the operator sets fee rates and waivers,
// suspends a merchant, funds the marketing budget and runs a campaign;
// bad input names the field; developers cannot get in.
func TestPayOperatorConsole(t *testing.T) {
	w := newPayWorld(t)
	ctx := context.Background()
	op := w.demoLogin(t, "operator")

	status, body := w.p.Get(t, op, "/admin/pay")
	if status != 200 || !strings.Contains(body, "Fee income") || !strings.Contains(body, `id="fee-cafe"`) {
		t.Fatalf("operator payments page: %d", status)
	}
	resp, body := w.p.PostForm(t, op, "/admin/pay/fees", "category", "cafe", "percent", "abc")
	if resp.StatusCode != 400 || !strings.Contains(body, "percentage") {
		t.Fatalf("a fee that is not a number: %d", resp.StatusCode)
	}
	w.p.PostForm(t, op, "/admin/pay/fees", "category", "cafe", "percent", "0.55")
	if rates, _ := w.p.Pay.FeeRates(ctx); rates["cafe"] != 55 {
		t.Fatalf("cafe fee after setting 0.55%%: %d bp", rates["cafe"])
	}
	id := fmt.Sprint(w.merchant.ID)
	resp, _ = w.p.PostForm(t, op, "/admin/pay/waivers", "merchant_id", id, "starts", "2026-01-01", "ends", "2030-12-31", "volume_cap", "1000", "note", "launch offer")
	if ws, _ := w.p.Pay.FeeWaivers(ctx, w.merchant.ID); resp.StatusCode != 303 || len(ws) != 1 || ws[0].VolumeCap != 1000_00 {
		t.Fatalf("grant a waiver: %d %+v", resp.StatusCode, ws)
	}
	if status, body = w.p.Get(t, op, "/admin/pay?merchant="+id); !strings.Contains(body, "launch offer") {
		t.Fatalf("the merchant's waivers are not listed: %d", status)
	}
	w.p.PostForm(t, op, "/admin/pay/merchants/status", "merchant_id", id, "status", "suspended")
	var eb platformtest.ErrorBody
	if code, raw := w.api(t, merchantCall{method: "GET", path: "/api/v1/merchant"}, &eb); code != 403 {
		t.Fatalf("a suspended merchant's key: %d %s", code, raw)
	}
	w.p.PostForm(t, op, "/admin/pay/merchants/status", "merchant_id", id, "status", "active")

	bal, _ := w.p.Pay.PlatformBalances(ctx)
	w.p.PostForm(t, op, "/admin/pay/marketing", "amount", "300")
	resp, body = w.p.PostForm(t, op, "/admin/pay/campaigns", "name", "Lunch 午餐", "budget", "100000", "kind", "amount", "discount", "3",
		"min_spend", "20", "per_user", "2", "starts", "2026-01-01", "ends", "2030-01-01", "categories", "restaurant")
	if resp.StatusCode != 409 || !strings.Contains(body, "marketing budget") {
		t.Fatalf("a campaign larger than the marketing budget: %d", resp.StatusCode)
	}
	resp, _ = w.p.PostForm(t, op, "/admin/pay/campaigns", "name", "Lunch 午餐", "budget", "100", "kind", "percent", "discount", "10",
		"max_discount", "8", "min_spend", "20", "per_user", "2", "starts", "2026-01-01", "ends", "2030-01-01", "categories", "restaurant")
	if resp.StatusCode != 303 {
		t.Fatalf("create a campaign: %d", resp.StatusCode)
	}
	var lunch *pay.Campaign
	cs, _ := w.p.Pay.Campaigns(ctx)
	for _, c := range cs {
		if c.Name == "Lunch 午餐" {
			lunch = c
		}
	}
	if lunch == nil || lunch.DiscountBP != 1000 || lunch.MaxDiscount != 800 || lunch.PerUserLimit != 2 || len(lunch.Categories) != 1 {
		t.Fatalf("the campaign: %+v", lunch)
	}
	w.p.PostForm(t, op, fmt.Sprintf("/admin/pay/campaigns/%d/close", lunch.ID))
	after, _ := w.p.Pay.PlatformBalances(ctx)
	if after[pay.KindMarketing] != bal[pay.KindMarketing]+300_00 {
		t.Fatalf("marketing budget after funding 300 and closing an unused 100 campaign: %d, was %d", after[pay.KindMarketing], bal[pay.KindMarketing])
	}
	if status, _ = w.p.Get(t, op, "/admin/pay/campaigns?lang=zh-Hans"); status != 200 {
		t.Fatalf("campaigns page in Chinese: %d", status)
	}

	for _, action := range []string{"pay.fee.set", "pay.waiver.grant", "pay.merchant.status", "pay.marketing.fund", "pay.campaign.create", "pay.campaign.close"} {
		var n int
		if err := w.p.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil || n == 0 {
			t.Errorf("no %s in the audit log (%v)", action, err)
		}
	}
	dev := w.demoLogin(t, "developer")
	if status, _ = w.p.Get(t, dev, "/admin/pay"); status != 403 {
		t.Fatalf("a developer on the operator's payments page: %d", status)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
