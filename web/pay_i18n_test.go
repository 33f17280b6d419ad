package web

import (
	"os"
	"regexp"
	"testing"

	"github.com/openmini/openmini/pay"
)

// TestPayStringsFromGoAreTranslated covers the words the payments pages'
// Go code hands to the templates (tabs, categories, states, notices,
// balance labels, page titles), which the template test cannot see.
func TestPayStringsFromGoAreTranslated(t *testing.T) {
	zh := catalogs["zh-Hans"]
	var msgs []string
	for _, defs := range [][]tabDef{merchantTabs, payAdminTabs, orgTabs, adminTabs} {
		for _, d := range defs {
			msgs = append(msgs, d.Label)
		}
	}
	for _, m := range []map[string]string{merchantCategories, orderStates, txnLabels, payNotices, consoleNotices, payAdminNotices, balanceLabels} {
		for _, v := range m {
			msgs = append(msgs, v)
		}
	}
	var f money
	for _, st := range []string{pay.EventPending, pay.EventDelivered, pay.EventFailed, pay.EventNoEndpoint} {
		msgs = append(msgs, f.EventState(st))
	}
	msgs = append(msgs, "Top-ups through %s (negative: money that came in)")
	title := regexp.MustCompile(`(?:s\.page\(w, r, |s\.newView\(r, |s\.payView\(r, )"([^"]+)"|(?:collectTitle|orderTitle) += "([^"]+)"`)
	n := 0
	for _, file := range []string{"pay.go", "pay_admin.go", "pay_checkout.go", "wallet.go", "merchant_console.go", "merchant_money.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range title.FindAllStringSubmatch(string(b), -1) {
			msgs = append(msgs, m[1]+m[2])
			n++
		}
	}
	if n < 10 {
		t.Fatalf("found only %d page titles; is the pattern right?", n)
	}
	for _, m := range msgs {
		if zh[m] == "" {
			t.Errorf("%q has no zh-Hans translation", m)
		}
	}
}
