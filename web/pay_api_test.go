package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/web"
)

// TestMerchantAPIAuthAndIdempotency: the merchant API takes a merchant key
// as HTTP Basic or Bearer {key id}.{secret} and nothing else; a create
// without an Idempotency-Key is refused; the same key and body give the
// same order (also ten at once), the same key with another body is a
// conflict naming the key; bad bodies name the field; another merchant's
// order does not exist for this one.
func TestMerchantAPIAuthAndIdempotency(t *testing.T) {
	w := newPayWorld(t)
	base := merchantCall{method: "GET", path: "/api/v1/merchant"}

	var eb platformtest.ErrorBody
	for name, auth := range map[string]func(*http.Request){
		"none":         func(*http.Request) {},
		"wrong secret": func(r *http.Request) { r.SetBasicAuth(w.keyID, w.secret+"x") },
		"org API key":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer omk_0123456789") },
		"no separator": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+w.keyID+w.secret) },
	} {
		c := base
		c.auth = auth
		if code, raw := w.api(t, c, &eb); code != 401 || eb.Error.Code != "unauthorized" {
			t.Errorf("%s: %d %s", name, code, raw)
		}
	}
	var me pay.Merchant
	w.must(t, 200, base, &me)
	bearer := base
	bearer.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+w.keyID+"."+w.secret) }
	w.must(t, 200, bearer, &me)
	if me.ID != w.merchant.ID || me.Name != "Noodle Bar 面馆" || len(me.Apps) != 1 {
		t.Fatalf("GET /api/v1/merchant: %+v", me)
	}

	req := pay.OrderRequest{Amount: 5200, Description: "table 7", MerchantOrderNo: "T7-0001", AppID: me.Apps[0],
		Items: []pay.Item{{Name: "Beef noodle soup", Quantity: 1, UnitPrice: 2800}, {Name: "Zha jiang mian", Quantity: 1, UnitPrice: 2400}}}
	create := merchantCall{method: "POST", path: "/api/v1/merchant/orders", body: req}
	if code, raw := w.api(t, create, &eb); code != 400 || !strings.Contains(eb.Error.Message, "Idempotency-Key") {
		t.Fatalf("create without Idempotency-Key: %d %s", code, raw)
	}
	create.key = "k-7-0001"
	first := w.order(t, create.key, req)
	again := w.order(t, create.key, req)
	if first.ID != again.ID || first.State != pay.StateCreated || first.Amount != 5200 {
		t.Fatalf("the same key twice: %+v then %+v", first, again)
	}
	other := req
	other.Amount, other.Items = 5300, nil
	create.body = other
	if code, raw := w.api(t, create, &eb); code != 409 || eb.Error.Code != "conflict" || !strings.Contains(eb.Error.Message, `"k-7-0001"`) {
		t.Fatalf("the same key with another body: %d %s", code, raw)
	}
	for i, bad := range []struct {
		body any
		word string
	}{
		{map[string]any{"amount": 100, "colour": "red"}, `"colour"`},
		{map[string]any{"amount": 100, "items": []map[string]any{{"name": "tea", "quantity": 1, "unit_price": 600}}}, "items add up to"},
		{map[string]any{"amount": 0}, "amount"},
		{map[string]any{"amount": 100, "app_id": "mpnotlinked0000"}, "not linked"},
	} {
		if code, raw := w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/orders", key: "bad-" + strconv.Itoa(i), body: bad.body}, &eb); code != 400 || !strings.Contains(eb.Error.Message, bad.word) {
			t.Errorf("bad order %v: %d %s", bad.body, code, raw)
		}
	}

	// One key sent ten times at once: one order.
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var o pay.Order
			code, raw := w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/orders", key: "parallel-1",
				body: pay.OrderRequest{Amount: 990, MerchantOrderNo: "P-1", Description: "parallel"}}, &o)
			if code != 201 {
				t.Errorf("parallel create %d: %d %s", i, code, raw)
			}
			ids[i] = o.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one key in parallel gave several orders: %v", ids)
		}
	}
	var list web.OrderList
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/orders?limit=200"}, &list)
	n := 0
	for _, o := range list.Orders {
		if o.MerchantOrderNo == "P-1" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d orders P-1 listed, want 1", n)
	}

	var got pay.Order
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/orders/" + first.ID}, &got)
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/orders/by-number/T7-0001"}, &got)
	if got.ID != first.ID || len(got.Items) != 2 {
		t.Fatalf("order by number: %+v", got)
	}

	// A second merchant of the same organisation cannot see the first's orders.
	ctx := context.Background()
	m2, err := w.p.Pay.CreateMerchant(ctx, pay.MerchantSpec{OrgID: w.merchant.OrgID, Name: "Tea House", Category: "cafe", Latitude: 31_000_000, Longitude: 121_000_000})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := w.p.Pay.CreateAPIKey(ctx, m2.ID)
	if err != nil {
		t.Fatal(err)
	}
	as2 := func(r *http.Request) { r.SetBasicAuth(k2.KeyID, k2.Secret) }
	for _, path := range []string{"/api/v1/merchant/orders/" + first.ID, "/api/v1/merchant/orders/by-number/T7-0001"} {
		if code, raw := w.api(t, merchantCall{method: "GET", path: path, auth: as2}, &eb); code != 404 {
			t.Errorf("another merchant's GET %s: %d %s", path, code, raw)
		}
	}
	if code, raw := w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/orders/" + first.ID + "/close", auth: as2}, &eb); code != 404 {
		t.Errorf("another merchant closing the order: %d %s", code, raw)
	}
	// A revoked key stops working at once.
	if err := w.p.Pay.RevokeAPIKey(ctx, m2.ID, k2.KeyID); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.api(t, merchantCall{method: "GET", path: "/api/v1/merchant", auth: as2}, &eb); code != 401 {
		t.Errorf("a revoked key: %d", code)
	}
}

// TestMerchantAPIPaymentsRefundsAndSettlement follows money through the
// HTTP surfaces: an order paid with tradePay's host endpoints (PIN set on
// first use, a wrong PIN refused), its signed webhook, partial and full
// refunds that cannot exceed what was paid, closing, the order code, a
// payment code charged by the cashier (with and without the PIN), the
// settlement report (reconciled, CSV) and the event log.
func TestMerchantAPIPaymentsRefundsAndSettlement(t *testing.T) {
	w := newPayWorld(t)
	rc := w.listen(t)
	u := w.user(t, "mei@example.com", 200_00)
	app := w.merchant.Apps[0]

	o := w.order(t, "pay-1", pay.OrderRequest{Amount: 4600, Description: "table 3", AppID: app, MerchantOrderNo: "T3-1"})
	var sheet web.TradeSheet
	var perr web.PayAPIError
	// tradePay from a mini program the merchant has not linked is refused.
	if code := u.host(t, "/host/api/pay/quote", web.TradeQuoteRequest{OrderID: o.ID, App: "mpsomeoneelse00"}, &perr); code != 403 || perr.Error.Reason != "not_linked" {
		t.Fatalf("quote from an unlinked mini program: %d %+v", code, perr)
	}
	if code := u.host(t, "/host/api/pay/quote", web.TradeQuoteRequest{OrderID: o.ID, App: app}, &sheet); code != 200 {
		t.Fatalf("quote: %d", code)
	}
	// The demo's welcome coupon (5.00 off from 30.00 at restaurants) applies.
	if sheet.MerchantName != "Noodle Bar 面馆" || sheet.Amount != 4600 || sheet.Discount != 500 || sheet.UserPays != 4100 ||
		sheet.Balance != 200_00 || !sheet.Sufficient || sheet.PINSet || sheet.Display["user_pays"] != "¥41.00" {
		t.Fatalf("payment sheet: %+v", sheet)
	}
	if code := u.host(t, "/host/api/pay/pay", web.TradePayRequest{OrderID: o.ID, PIN: "135790", CampaignID: sheet.CampaignID}, &perr); code != 409 || perr.Error.Reason != "pin_not_set" {
		t.Fatalf("paying before a PIN is set: %d %+v", code, perr)
	}
	if code := u.host(t, "/host/api/pay/pin", web.PINRequest{PIN: "123456"}, &perr); code != 400 || perr.Error.Reason != "invalid" {
		t.Fatalf("a guessable PIN: %d %+v", code, perr)
	}
	if code := u.host(t, "/host/api/pay/pin", web.PINRequest{PIN: "135790"}, nil); code != 200 {
		t.Fatalf("set PIN: %d", code)
	}
	if code := u.host(t, "/host/api/pay/pay", web.TradePayRequest{OrderID: o.ID, PIN: "135791", CampaignID: sheet.CampaignID}, &perr); code != 401 || perr.Error.Reason != "wrong_pin" {
		t.Fatalf("wrong PIN: %d %+v", code, perr)
	}
	var res web.TradeResult
	if code := u.host(t, "/host/api/pay/pay", web.TradePayRequest{OrderID: o.ID, App: "mpsomeoneelse00", PIN: "135790", CampaignID: sheet.CampaignID}, &perr); code != 403 {
		t.Fatalf("pay from an unlinked mini program: %d %+v", code, perr)
	}
	var raw json.RawMessage
	if code := u.host(t, "/host/api/pay/pay", web.TradePayRequest{OrderID: o.ID, App: app, PIN: "135790", CampaignID: sheet.CampaignID}, &raw); code != 200 ||
		json.Unmarshal(raw, &res) != nil || res.Status != "paid" || res.OrderID != o.ID || res.UserPaid != 4100 || res.Discount != 500 ||
		res.Order == nil || res.Order.UserPaid != 4100 || res.Order.State != "paid" {
		t.Fatalf("pay: %d %s", code, raw)
	}
	// The mini program runs in the user's browser: the merchant's fee and
	// net are not in what tradePay resolves with.
	var order map[string]any
	if err := json.Unmarshal(raw, &struct {
		Order *map[string]any `json:"order"`
	}{&order}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"fee", "net", "refunded_fee", "merchant_id"} {
		if _, ok := order[k]; ok {
			t.Errorf("tradePay's order carries the merchant's %q: %s", k, raw)
		}
	}
	// A second tap is harmless.
	if code := u.host(t, "/host/api/pay/pay", web.TradePayRequest{OrderID: o.ID, PIN: "135790", CampaignID: sheet.CampaignID}, &res); code != 200 || res.Status != "paid" {
		t.Fatalf("pay again: %d %+v", code, res)
	}
	ev := rc.wait("order.paid", o.ID)
	if ev.Data.Order.Amount != 4600 || ev.Data.Order.Discount != 500 || ev.Data.Order.Fee != 28 || ev.Data.Order.Net != 4572 {
		t.Fatalf("order.paid webhook: %+v", ev.Data.Order)
	}
	// Anonymous visitors are asked to sign in.
	anon := &payUser{c: w.p.Client(), p: w.p}
	if code := anon.host(t, "/host/api/pay/quote", web.TradeQuoteRequest{OrderID: o.ID}, &perr); code != 401 || perr.Error.Reason != "sign_in" {
		t.Fatalf("anonymous quote: %d %+v", code, perr)
	}

	// Refunds: partial, then more than is left (refused), then the rest.
	var eb platformtest.ErrorBody
	refund := func(key string, amount int64) (int, []byte) {
		return w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/refunds", key: key, body: pay.RefundRequest{OrderID: o.ID, Amount: amount, Reason: "cold soup"}}, &eb)
	}
	var r1 pay.Refund
	w.must(t, 201, merchantCall{method: "POST", path: "/api/v1/merchant/refunds", key: "rf-1", body: pay.RefundRequest{OrderID: o.ID, Amount: 1000, Reason: "cold soup"}}, &r1)
	if r1.Amount != 1000 || r1.CouponAmount+r1.UserAmount != 1000 {
		t.Fatalf("partial refund: %+v", r1)
	}
	if code, raw := refund("rf-2", 3601); code != 409 {
		t.Fatalf("refunding more than is left: %d %s", code, raw)
	}
	if code, raw := refund("rf-1", 1000); code != 201 || !strings.Contains(string(raw), r1.ID) {
		t.Fatalf("the same refund again: %d %s", code, raw)
	}
	w.must(t, 201, merchantCall{method: "POST", path: "/api/v1/merchant/refunds", key: "rf-3", body: pay.RefundRequest{OrderID: o.ID, Amount: 3600}}, nil)
	var after pay.Order
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/orders/" + o.ID}, &after)
	if after.State != pay.StateRefunded || after.Refunded != 4600 || after.RefundedDiscount != 500 || after.RefundedFee != 28 {
		t.Fatalf("after refunding everything: %+v", after)
	}
	rc.wait("order.refunded", o.ID)
	var rl web.RefundList
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/refunds?order_id=" + o.ID}, &rl)
	if len(rl.Refunds) != 2 {
		t.Fatalf("refunds of the order: %+v", rl)
	}
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/refunds/" + r1.ID}, &r1)
	wallet, _ := w.p.Pay.Wallet(context.Background(), u.id)
	if wallet.Balance != 200_00 {
		t.Fatalf("the wallet after a full refund holds %d, want 20000", wallet.Balance)
	}

	// Closing: an unpaid order closes, a refunded one cannot.
	open := w.order(t, "close-1", pay.OrderRequest{Amount: 800, Description: "tea"})
	var closed pay.Order
	w.must(t, 200, merchantCall{method: "POST", path: "/api/v1/merchant/orders/" + open.ID + "/close"}, &closed)
	if closed.State != pay.StateClosed {
		t.Fatalf("closed order: %+v", closed)
	}
	if code, raw := w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/orders/" + o.ID + "/close"}, &eb); code != 409 {
		t.Fatalf("closing a refunded order: %d %s", code, raw)
	}
	rc.wait("order.closed", open.ID)
	if code := u.host(t, "/host/api/pay/quote", web.TradeQuoteRequest{OrderID: open.ID}, &perr); code != 409 || perr.Error.Reason != "not_payable" {
		t.Fatalf("quoting a closed order: %d %+v", code, perr)
	}

	// An order code for the cashier's screen leads to the order's payment page.
	billed := w.order(t, "code-1", pay.OrderRequest{Amount: 1500, Description: "take-away"})
	var oc web.OrderCode
	w.must(t, 201, merchantCall{method: "POST", path: "/api/v1/merchant/orders/" + billed.ID + "/code"}, &oc)
	resp, err := u.c.Get(oc.ShortURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.HasPrefix(loc, "/pay/order/"+billed.ID+"?om_qr=") {
		t.Fatalf("scanning the order code: %d %s", resp.StatusCode, loc)
	}
	if code, raw := w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/orders/" + open.ID + "/code"}, &eb); code != 409 {
		t.Fatalf("a code for a closed order: %d %s", code, raw)
	}

	// The cashier charges the customer's payment code. Without a no-PIN
	// limit the order waits for the PIN in the wallet.
	var pc web.PaymentCodeView
	if code := u.host(t, "/host/api/pay/code", map[string]any{}, &pc); code != 200 || len(pc.Code) != 18 || !strings.HasPrefix(string(pc.QR), "data:image/png;base64,") {
		t.Fatalf("payment code: %d %+v", code, pc.Code)
	}
	var charged pay.Order
	w.must(t, 201, merchantCall{method: "POST", path: "/api/v1/merchant/charges", key: "ch-1", body: pay.ChargeRequest{Code: pc.Code, Amount: 1200, Description: "counter"}}, &charged)
	if charged.State != pay.StateCreated || charged.Source != pay.SourcePaymentCode {
		t.Fatalf("charge above the no-PIN limit: %+v", charged)
	}
	if code, raw := w.api(t, merchantCall{method: "POST", path: "/api/v1/merchant/charges", key: "ch-2", body: pay.ChargeRequest{Code: pc.Code, Amount: 1200}}, &eb); code != 404 {
		t.Fatalf("a used payment code: %d %s", code, raw)
	}
	status, body := w.p.Get(t, u.c, "/pay/wallet")
	if status != 200 || !strings.Contains(body, "/pay/order/"+charged.ID) {
		t.Fatalf("the wallet lists the charge waiting for the PIN: %d", status)
	}
	resp2, body := w.p.PostForm(t, u.c, "/pay/order/"+charged.ID, "pin", "135790", "campaign_id", "0")
	if resp2.StatusCode != 200 || !strings.Contains(body, `id="receipt"`) {
		t.Fatalf("confirming the charge in the wallet: %d\n%s", resp2.StatusCode, body)
	}
	rc.wait("order.paid", charged.ID)
	// With a no-PIN limit of 50.00 a small charge is paid at once.
	resp2, body = w.p.PostForm(t, u.c, "/pay/pin/limit", "limit", "50", "pin", "135790")
	if resp2.StatusCode != 303 {
		t.Fatalf("no-PIN limit: %d\n%s", resp2.StatusCode, body)
	}
	u.host(t, "/host/api/pay/code", map[string]any{}, &pc)
	w.must(t, 201, merchantCall{method: "POST", path: "/api/v1/merchant/charges", key: "ch-3", body: pay.ChargeRequest{Code: pc.Code, Amount: 1800, Description: "counter"}}, &charged)
	if charged.State != pay.StatePaid {
		t.Fatalf("charge within the no-PIN limit: %+v", charged)
	}

	// Today's settlement reconciles with the ledger, in JSON and CSV.
	day := time.Now().UTC().Format("2006-01-02")
	var rep pay.SettlementReport
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/settlements/" + day}, &rep)
	if !rep.Reconciled || rep.Payments != 3 || rep.Refunds != 2 || rep.Net != rep.LedgerNet || rep.Gross != 1200+1800 {
		t.Fatalf("settlement: %+v", rep)
	}
	code, raw := w.api(t, merchantCall{method: "GET", path: "/api/v1/merchant/settlements/" + day + "/csv"}, nil)
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if code != 200 || err != nil || rows[0][0] != "time" || len(rows) != 1+5+4 {
		t.Fatalf("settlement CSV: %d %v\n%s", code, err, raw)
	}
	if code, raw := w.api(t, merchantCall{method: "GET", path: "/api/v1/merchant/settlements/2026-02-30"}, &eb); code != 400 {
		t.Fatalf("a day that does not exist: %d %s", code, raw)
	}

	// The event log, and a redelivery.
	var evs web.EventList
	w.must(t, 200, merchantCall{method: "GET", path: "/api/v1/merchant/events?order_id=" + o.ID}, &evs)
	types := map[string]bool{}
	for _, e := range evs.Events {
		types[e.Type] = true
	}
	if !types["order.paid"] || !types["refund.succeeded"] || !types["order.partly_refunded"] || !types["order.refunded"] {
		t.Fatalf("events of the order: %v", types)
	}
	w.must(t, 202, merchantCall{method: "POST", path: "/api/v1/merchant/events/" + ev.ID + "/redeliver"}, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := w.p.Pay.Deliveries(context.Background(), w.merchant.ID, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) >= 2 && ds[0].Manual != ds[len(ds)-1].Manual {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no manual redelivery logged: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
