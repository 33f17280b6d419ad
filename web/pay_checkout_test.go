package web_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/qr"
)

// TestCollectionCodeCheckout: scanning the demo's counter code leads a
// signed-out diner to sign in and back; the collection page asks for the
// amount, shows the sheet with the coupon, sets the PIN on first use
// (typed twice) and pays once even when the form is sent twice; the
// payment counts for the code; a bad amount and a wrong PIN are named.
func TestCollectionCodeCheckout(t *testing.T) {
	w := newPayWorld(t)
	ctx := context.Background()
	codes, err := w.p.QR.List(ctx, qr.ListFilter{OrgID: w.merchant.OrgID, Kind: qr.KindCollect})
	if err != nil || len(codes) != 1 {
		t.Fatalf("the demo's counter code: %v, %d codes", err, len(codes))
	}
	counter := codes[0]

	// A signed-out visitor is sent to sign in, and back.
	anon := w.p.Client()
	resp, err := anon.Get(w.p.QR.ShortURL(counter))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page := resp.Header.Get("Location")
	if want := "/pay/merchant/" + strconv.FormatInt(w.merchant.ID, 10) + "?om_qr=" + counter.Slug; resp.StatusCode != 302 || page != want {
		t.Fatalf("scanning the counter code: %d %q, want %q", resp.StatusCode, page, want)
	}
	resp, err = anon.Get(w.p.URL + page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || !strings.HasPrefix(loc, "/me/signin?next=") || !strings.Contains(loc, "om_qr") {
		t.Fatalf("signed out on the collection page: %d %s", resp.StatusCode, loc)
	}

	u := w.user(t, "li@example.com", 80_00)
	status, body := w.p.Get(t, u.c, page)
	if status != 200 || !strings.Contains(body, "Noodle Bar 面馆") || !strings.Contains(body, `id="amount-form"`) {
		t.Fatalf("collection page: %d", status)
	}
	path := "/pay/merchant/" + strconv.FormatInt(w.merchant.ID, 10)
	r, body := w.p.PostForm(t, u.c, path, "step", "quote", "amount", "12.345", "om_qr", counter.Slug)
	if r.StatusCode != 400 || !strings.Contains(body, "decimals") {
		t.Fatalf("an amount with three decimals: %d", r.StatusCode)
	}
	r, body = w.p.PostForm(t, u.c, path, "step", "quote", "amount", "36.50", "note", "two bowls", "om_qr", counter.Slug)
	if r.StatusCode != 200 || !strings.Contains(body, `id="sheet-discount">-¥5.00`) || !strings.Contains(body, `id="sheet-pays">¥31.50`) ||
		!strings.Contains(body, `name="new_pin" value="1"`) {
		t.Fatalf("the sheet for 36.50 with the welcome coupon:\n%s", body)
	}
	hidden := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in the sheet", name)
		}
		return m[1]
	}
	form := []string{"step", "pay", "amount", hidden("amount"), "note", hidden("note"), "key", hidden("key"), "om_qr", hidden("om_qr"), "campaign_id", hidden("campaign_id")}
	r, body = w.p.PostForm(t, u.c, path, append(form, "new_pin", "1", "pin", "135790", "confirm", "135791")...)
	if r.StatusCode != 400 || !strings.Contains(body, "differ") {
		t.Fatalf("two different new PINs: %d\n%s", r.StatusCode, body)
	}
	for range 2 {
		r, body = w.p.PostForm(t, u.c, path, append(form, "new_pin", "1", "pin", "135790", "confirm", "135790")...)
		if r.StatusCode != 200 || !strings.Contains(body, `id="paid-amount">¥31.50`) {
			// The second send: the PIN is set now, so new_pin fails; send it plainly.
			r, body = w.p.PostForm(t, u.c, path, append(form, "pin", "135790")...)
			if r.StatusCode != 200 || !strings.Contains(body, `id="paid-amount">¥31.50`) {
				t.Fatalf("paying the collection: %d\n%s", r.StatusCode, body)
			}
		}
	}
	orders, _, _ := w.p.Pay.Orders(ctx, pay.OrderQuery{PayerID: u.id})
	if len(orders) != 1 || orders[0].Source != pay.SourceCollection || orders[0].Amount != 3650 || orders[0].Description != "two bowls" {
		t.Fatalf("a collection form sent twice: %d orders %+v", len(orders), orders)
	}
	wallet, _ := w.p.Pay.Wallet(ctx, u.id)
	if wallet.Balance != 80_00-31_50 {
		t.Fatalf("wallet after paying 31.50: %d", wallet.Balance)
	}
	st, err := w.p.QR.CodeStats(ctx, counter.OrgID, counter.ID, qr.StatsRange{})
	if err != nil || st.Payments != 1 || len(st.Paid) != 1 || st.Paid[0].Minor != 3650 {
		t.Fatalf("the counter code's stats: %+v, %v", st, err)
	}

	// A wrong PIN is named and nothing is paid.
	r, body = w.p.PostForm(t, u.c, path, "step", "quote", "amount", "5", "om_qr", counter.Slug)
	form = []string{"step", "pay", "amount", "5", "key", regexp.MustCompile(`name="key" value="([^"]*)"`).FindStringSubmatch(body)[1], "campaign_id", "0"}
	r, body = w.p.PostForm(t, u.c, path, append(form, "pin", "111112")...)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong payment PIN") {
		t.Fatalf("a wrong PIN: %d", r.StatusCode)
	}
	if orders, _, _ = w.p.Pay.Orders(ctx, pay.OrderQuery{PayerID: u.id}); len(orders) != 1 {
		t.Fatalf("a wrong PIN paid something: %d orders", len(orders))
	}
}

// TestWalletAndMePagesShowTheTabBar: the wallet's pages and "Me" carry the
// host's bottom bar, with their own tab marked, so a user can go back to
// Home or Scan from them; the payment flows (counter, order) do not.
func TestWalletAndMePagesShowTheTabBar(t *testing.T) {
	w := newPayWorld(t)
	u := w.user(t, "mei@example.com", 10_00)
	tabs := regexp.MustCompile(`(?s)<nav class="om-tabs"[^>]*>(.*?)</nav>`)
	for path, on := range map[string]string{"/pay/wallet": "/pay/wallet", "/pay/code": "/pay/wallet", "/pay/pin": "/pay/wallet", "/me": "/me", "/me/apps": "/me"} {
		status, body := w.p.Get(t, u.c, path)
		m := tabs.FindStringSubmatch(body)
		if status != 200 || m == nil {
			t.Errorf("%s: %d, bottom bar %v", path, status, m != nil)
			continue
		}
		for _, href := range []string{`href="/"`, `href="/my"`, `href="/scan"`, `href="/me"`, `href="/pay/wallet"`} {
			if !strings.Contains(m[1], href) {
				t.Errorf("%s: the bottom bar has no %s: %s", path, href, m[1])
			}
		}
		if !strings.Contains(m[1], `href="`+on+`" class="om-on" aria-current="page"`) || strings.Count(m[1], "om-on") != 1 {
			t.Errorf("%s: the bottom bar does not mark %s alone: %s", path, on, m[1])
		}
	}
	req, _ := http.NewRequest("GET", w.p.URL+"/pay/wallet", nil)
	req.Header.Set("Accept-Language", "zh-CN")
	resp, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := tabs.FindStringSubmatch(string(b)); m == nil || !strings.Contains(m[1], "首页") || !strings.Contains(m[1], "钱包") {
		t.Errorf("the bottom bar in Chinese: %v", m)
	}
	status, body := w.p.Get(t, u.c, "/pay/merchant/"+strconv.FormatInt(w.merchant.ID, 10))
	if status != 200 || tabs.MatchString(body) {
		t.Errorf("the counter payment page: %d, with a bottom bar %v", status, tabs.MatchString(body))
	}
}
