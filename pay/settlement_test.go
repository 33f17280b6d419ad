package pay_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

// TestSettlement: a day's payments and refunds, with coupons and fees,
// reconcile with the merchant's ledger postings to the cent, and the CSV
// carries the same figures.
func TestSettlement(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		shanghai := time.FixedZone("CST", 8*3600)
		e := newEnv(t, db, func(c *pay.Config) { c.Location = shanghai })
		m := e.newMerchant("restaurant")
		user := e.newUser(1_000_00)
		c := fundCampaign(t, e, pay.CampaignSpec{Name: "2 off", Budget: 10_00, DiscountAmount: 2_00, PerUserLimit: 5})

		// Yesterday: one payment (the opening balance).
		e.clock.Advance(-24 * time.Hour)
		y := e.pay(user, e.order(m, 10_00))
		e.clock.Advance(24 * time.Hour)
		day := e.clock.Now().In(shanghai).Format("2006-01-02")

		o1 := e.pay(user, e.order(m, 123_45))
		o2 := e.order(m, 50_00)
		if _, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o2.ID, PIN: testPIN, CampaignID: c.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RefundOrder(e.ctx, m.ID, "r1", pay.RefundRequest{OrderID: o2.ID, Amount: 20_00}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RefundOrder(e.ctx, m.ID, "r2", pay.RefundRequest{OrderID: y.ID, Amount: 10_00}); err != nil {
			t.Fatal(err)
		}
		rep, err := e.svc.Settlement(e.ctx, m.ID, day)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Reconciled || rep.Net != rep.LedgerNet {
			t.Fatalf("not reconciled: net %d, ledger %d", rep.Net, rep.LedgerNet)
		}
		if rep.Payments != 2 || rep.Refunds != 2 || len(rep.Lines) != 4 {
			t.Fatalf("report %+v", rep)
		}
		if rep.Gross != 123_45+50_00-20_00-10_00 || rep.Coupons != 2_00-80 {
			t.Fatalf("gross %d coupons %d", rep.Gross, rep.Coupons)
		}
		if rep.OpeningBalance != y.Net {
			t.Fatalf("opening %d, want yesterday's %d", rep.OpeningBalance, y.Net)
		}
		if bal := e.merchantBalance(m); rep.ClosingBalance != bal {
			t.Fatalf("closing %d, merchant balance %d", rep.ClosingBalance, bal)
		}
		if rep.Lines[0].OrderID != o1.ID || rep.Lines[0].Net != o1.Net {
			t.Fatalf("first line %+v", rep.Lines[0])
		}

		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+4+4 || rows[0][0] != "time" || rows[5][1] != "total" {
			t.Fatalf("csv rows %q", rows)
		}
		net := rows[5][10]
		if net != pay.FormatAmount(rep.Net, "CNY") || rows[6][1] != "ledger_net" || rows[6][10] != net {
			t.Fatalf("csv totals %q", rows[5:])
		}
		if !strings.HasSuffix(rows[1][0], "+08:00") {
			t.Fatalf("times not in the settlement zone: %q", rows[1][0])
		}

		// Yesterday's report holds yesterday's payment only.
		prev := e.clock.Now().Add(-24 * time.Hour).In(shanghai).Format("2006-01-02")
		if yr, err := e.svc.Settlement(e.ctx, m.ID, prev); err != nil || yr.Payments != 1 || !yr.Reconciled || yr.Net != y.Net {
			t.Fatalf("yesterday %+v, %v", yr, err)
		}
		_, err = e.svc.Settlement(e.ctx, m.ID, "2026-13-01")
		wantCode(t, err, openmini.EINVALID)
	})
}

// TestLedgerInvariants: postings cannot be changed, and CheckLedger finds a
// balance that disagrees with its postings.
func TestLedgerInvariants(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		user := e.newUser(10_00)
		if _, err := db.Exec(e.ctx, `UPDATE pay_postings SET amount = amount + 1`); err == nil {
			t.Fatal("a posting was updated")
		}
		if _, err := db.Exec(e.ctx, `DELETE FROM pay_entries`); err == nil {
			t.Fatal("an entry was deleted")
		}
		if _, err := db.Exec(e.ctx, `UPDATE pay_accounts SET balance = balance - 11_00 WHERE kind = 'wallet'`); err == nil {
			t.Fatal("a wallet went below zero")
		}
		if _, err := db.Exec(e.ctx, `UPDATE pay_accounts SET balance = balance + 1 WHERE kind = 'wallet'`); err != nil {
			t.Fatal(err)
		}
		err := pay.CheckLedger(e.ctx, db)
		if err == nil || !strings.Contains(err.Error(), "balance differs from its postings") {
			t.Fatalf("CheckLedger = %v", err)
		}
		if _, err := db.Exec(e.ctx, `UPDATE pay_accounts SET balance = balance - 1 WHERE kind = 'wallet'`); err != nil {
			t.Fatal(err)
		}
		if err := pay.CheckLedger(e.ctx, db); err != nil {
			t.Fatal(err)
		}
		if b := e.balance(user); b != 10_00 {
			t.Fatalf("balance %d", b)
		}
	})
}
