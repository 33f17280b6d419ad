package web_test

import (
	"context"
	"encoding/base64"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/qrtest"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/qr"
)

// TestPayInTheBrowser is the end to end test: on a phone-sized
// headless Chromium a diner scans the table code of the demo restaurant
// from an image in the host's scanner, orders in the restaurant's mini
// program, which asks the restaurant's own server for a payment order
// (created with the merchant's API key) and calls openmini.tradePay; the
// host's payment sheet shows the merchant, the items, the coupon and the
// balance and asks for a new payment PIN twice; the payment goes through,
// the mini program shows its thank-you page, and the merchant's test
// server receives the order.paid webhook and verifies its signature. A
// second order is paid with the PIN after a wrong one. The wallet and
// payment code pages then show the money in English and Chinese without
// sideways scrolling.
func TestPayInTheBrowser(t *testing.T) {
	w := newPayWorld(t)
	rc := w.listen(t)
	ctx := context.Background()
	u := w.user(t, "diner@example.com", 100_00)
	appID := w.merchant.Apps[0]

	// The demo's code for table 12 of store 88, as printed.
	codes, err := w.p.QR.List(ctx, qr.ListFilter{OrgID: w.merchant.OrgID, AppID: appID, Kind: qr.KindPage})
	if err != nil {
		t.Fatal(err)
	}
	var table12 *qr.Code
	for _, c := range codes {
		if c.Target.Query["table"] == "12" && c.Target.Query["store"] == "88" {
			table12 = c
		}
	}
	if table12 == nil {
		t.Fatalf("no demo code for table 12 among %d codes", len(codes))
	}
	status, _, img := fetch(t, w.p, w.p.Client(), "/s/"+table12.Slug+".png?size=400")
	if status != 200 {
		t.Fatalf("table code image: %d", status)
	}

	b := newBrowser(t, w.p.URL)
	b.signIn(u.token)
	scanImage(b, writeTemp(t, "table-12.png", img))
	b.waitIn(appID, `location.pathname.endsWith('/pages/index.html') && document.querySelectorAll('.dish button').length === 6`)
	var tableText string
	b.in(appID, `new Promise((ok) => setTimeout(() => ok(document.getElementById('table').textContent), 300))`, &tableText)
	if !strings.Contains(tableText, "12") {
		t.Fatalf("the menu does not show table 12: %q", tableText)
	}

	// Order two dishes and a tea, then pay.
	for _, dish := range []string{"beef", "zha", "tea"} {
		b.in(appID, `document.querySelector('button[data-dish="`+dish+`"]').click()`, nil)
		b.waitIn(appID, `true`)
	}
	b.waitIn(appID, `document.getElementById('count').textContent === '3'`)
	b.in(appID, `document.getElementById('go').click()`, nil)
	waitPage(t, b, appID, "pages/cart", `document.getElementById('total').textContent === '¥58.00'`)
	b.in(appID, `document.getElementById('pay').click()`, nil)

	// The host's payment sheet: merchant, items, coupon, what the wallet pays.
	b.waitTop(`document.querySelector('.om-pay-layer .om-pay-form input[name=confirm]')`)
	var sheet struct {
		Merchant, Total, Amount, Discount, Balance string
		Items                                      int
		Overflow                                   bool
	}
	b.top(`({merchant: document.querySelector('.om-pay-merchant').textContent, total: document.querySelector('.om-pay-total').textContent,
		amount: document.querySelector('.om-pay-amount').textContent, discount: document.querySelector('.om-pay-discount')?.textContent || '',
		balance: document.querySelector('.om-pay-balance').textContent, items: document.querySelectorAll('.om-pay-sheet .om-item').length,
		overflow: document.querySelector('.om-pay-sheet').scrollWidth > innerWidth})`, &sheet)
	if sheet.Merchant != "Noodle Bar 面馆" || sheet.Total != "¥53.00" || sheet.Amount != "¥58.00" || sheet.Discount != "-¥5.00" ||
		sheet.Balance != "¥100.00" || sheet.Items != 3 || sheet.Overflow {
		t.Fatalf("payment sheet: %+v", sheet)
	}
	// A new PIN, typed twice (set on first use).
	b.run(chromedp.SendKeys(`.om-pay-form input[name=pin]`, "135790", chromedp.ByQuery),
		chromedp.SendKeys(`.om-pay-form input[name=confirm]`, "135790", chromedp.ByQuery),
		chromedp.Click(`.om-pay-form .om-pay-go`, chromedp.ByQuery))
	b.waitIn(appID, `location.pathname.endsWith('/pages/done.html')`)
	b.waitTop(`!document.querySelector('.om-pay-layer')`)

	first := orderOf(t, w, u.id, 0)
	if first.Amount != 5800 || first.Discount != 500 || first.UserPaid != 5300 || first.AppID != appID || !strings.Contains(first.Description, "table 12") {
		t.Fatalf("the paid order: %+v", first)
	}
	ev := rc.wait("order.paid", first.ID)
	if ev.Data.Order.Amount != 5800 || len(ev.Data.Order.Items) != 3 || ev.Data.Order.State != pay.StatePaid {
		t.Fatalf("order.paid webhook received by the merchant's server: %+v", ev.Data.Order)
	}

	// A second order: the PIN is set now; a wrong one is refused in the sheet.
	b.in(appID, `openmini.reLaunch({url: '/pages/index'})`, nil)
	b.waitIn(appID, `location.pathname.endsWith('/pages/index.html') && document.querySelectorAll('.dish button').length === 6`)
	b.in(appID, `document.querySelector('button[data-dish="dan"]').click()`, nil)
	b.waitIn(appID, `document.getElementById('count').textContent === '1'`)
	b.in(appID, `document.getElementById('go').click()`, nil)
	waitPage(t, b, appID, "pages/cart", `document.getElementById('total').textContent === '¥22.00'`)
	b.in(appID, `document.getElementById('pay').click()`, nil)
	b.waitTop(`document.querySelector('.om-pay-layer .om-pay-form input[name=pin]')`)
	var confirmFields int
	b.top(`document.querySelectorAll('.om-pay-form input').length`, &confirmFields)
	if confirmFields != 1 {
		t.Fatalf("with a PIN set the sheet asks for it once, not %d fields", confirmFields)
	}
	b.run(chromedp.SendKeys(`.om-pay-form input[name=pin]`, "135791", chromedp.ByQuery), chromedp.Click(`.om-pay-form .om-pay-go`, chromedp.ByQuery))
	b.waitTop(`document.querySelector('.om-pay-msg')?.textContent === 'Wrong PIN. Try again.'`)
	b.run(chromedp.SendKeys(`.om-pay-form input[name=pin]`, "135790", chromedp.ByQuery), chromedp.Click(`.om-pay-form .om-pay-go`, chromedp.ByQuery))
	b.waitIn(appID, `location.pathname.endsWith('/pages/done.html')`)
	second := orderOf(t, w, u.id, 0)
	if second.ID == first.ID || second.Amount != 2200 || second.Discount != 0 {
		t.Fatalf("the second order (the coupon is once per user, and below the minimum spend anyway): %+v", second)
	}
	rc.wait("order.paid", second.ID)

	// The wallet shows the balance and both payments; the payment code
	// page shows a code that decodes; both fit the phone, in Chinese too.
	for _, lang := range []string{"en", "zh-Hans"} {
		b.run(chromedp.Navigate(w.p.URL+"/pay/wallet?lang="+lang), chromedp.WaitVisible(`#balance`, chromedp.ByQuery))
		var wallet struct {
			Balance, Title string
			Txns           int
			Overflow       bool
		}
		b.top(`({balance: document.getElementById('balance').textContent, title: document.querySelector('h1').textContent,
			txns: document.querySelectorAll('#txns li').length, overflow: document.documentElement.scrollWidth > innerWidth})`, &wallet)
		wantTitle := map[string]string{"en": "Wallet", "zh-Hans": "钱包"}[lang]
		if wallet.Balance != "¥25.00" || wallet.Txns != 3 || wallet.Overflow || wallet.Title != wantTitle {
			t.Fatalf("wallet page (%s): %+v", lang, wallet)
		}
		b.run(chromedp.Navigate(w.p.URL+"/pay/code?lang="+lang), chromedp.WaitVisible(`#pay-qr`, chromedp.ByQuery))
		var code struct {
			Digits, QR string
			Overflow   bool
		}
		b.top(`({digits: document.getElementById('pay-digits').textContent, qr: document.getElementById('pay-qr').src,
			overflow: document.documentElement.scrollWidth > innerWidth})`, &code)
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(code.QR, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		im, err := png.Decode(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if got := qrtest.Gozxing(t, im); got != strings.ReplaceAll(code.Digits, " ", "") || len(got) != 18 || code.Overflow {
			t.Fatalf("payment code page (%s): QR %q, digits %q, sideways scroll %v", lang, got, code.Digits, code.Overflow)
		}
		// The PIN settings and a collection code's page fit too.
		for _, path := range []string{"/pay/pin", "/pay/merchant/" + strconv.FormatInt(w.merchant.ID, 10), "/pay/order/" + second.ID} {
			b.run(chromedp.Navigate(w.p.URL + path + "?lang=" + lang))
			var page struct {
				Overflow bool
				Forms    int
			}
			b.top(`({overflow: document.documentElement.scrollWidth > innerWidth, forms: document.querySelectorAll('main form, #receipt').length})`, &page)
			if page.Overflow || page.Forms == 0 {
				t.Errorf("%s (%s): sideways scroll %v, %d forms", path, lang, page.Overflow, page.Forms)
			}
		}
	}
}

// waitPage waits up to a minute for appID's visible page to be page
// (its route) with cond true there, and says what it saw instead.
func waitPage(t *testing.T, b *browser, appID, page, cond string) {
	t.Helper()
	expr := `({path: location.pathname, ok: !!(location.pathname.endsWith('/` + page + `.html') && (` + cond + `)),
		body: document.body ? document.body.innerText.slice(0, 300) : ''})`
	var last struct {
		Path, Body string
		OK         bool
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if err := b.tryIn(appID, expr, &last); err == nil && last.OK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s with %s; the page is %s showing:\n%s", page, cond, last.Path, last.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// orderOf returns the user's newest order (i = 0) or an older one.
func orderOf(t *testing.T, w *payWorld, user int64, i int) *pay.Order {
	t.Helper()
	list, _, err := w.p.Pay.Orders(context.Background(), pay.OrderQuery{PayerID: user})
	if err != nil || len(list) <= i {
		t.Fatalf("orders of user %d: %v, %d", user, err, len(list))
	}
	return list[i]
}
