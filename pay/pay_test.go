package pay_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/sqldb"
)

// TestPayOrder walks the mini program flow: top up, the merchant creates an
// order, the user sees the sheet and pays with the PIN; money lands where
// the fee rule says, and the payment shows in the wallet's transactions.
func TestPayOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("restaurant")
		user := e.newUser(100_00)
		o := e.order(m, 38_50)
		if o.State != pay.StateCreated || o.Currency != "CNY" || !o.ExpiresAt.After(o.CreatedAt) {
			t.Fatalf("new order %+v", o)
		}
		sheet, err := e.svc.QuoteOrder(e.ctx, user, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sheet.UserPays != 38_50 || sheet.Balance != 100_00 || !sheet.Sufficient || !sheet.PINSet || sheet.MerchantName != "Noodle House" {
			t.Fatalf("sheet %+v", sheet)
		}
		paid := e.pay(user, o)
		// 0.6% of 38.50 is 0.231, rounded half up to 0.23.
		if paid.State != pay.StatePaid || paid.Fee != 23 || paid.Net != 38_27 || paid.UserPaid != 38_50 || paid.PaidAt.IsZero() {
			t.Fatalf("paid order %+v", paid)
		}
		if b := e.balance(user); b != 61_50 {
			t.Fatalf("wallet %d, want 6150", b)
		}
		if b := e.merchantBalance(m); b != 38_27 {
			t.Fatalf("merchant %d, want 3827", b)
		}
		pb, err := e.svc.PlatformBalances(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pb[pay.KindFeeIncome] != 23 || pb["funding:sandbox"] != -100_00 {
			t.Fatalf("platform balances %v", pb)
		}
		// Paying again (a second tap) returns the same paid order and moves
		// no money.
		again := e.pay(user, o)
		if again.PaidAt != paid.PaidAt || e.balance(user) != 61_50 {
			t.Fatalf("second pay changed something: %+v", again)
		}
		// Another user cannot pay a paid order.
		other := e.newUser(100_00)
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: other, OrderID: o.ID, PIN: testPIN})
		wantCode(t, err, openmini.ECONFLICT)

		txs, next, err := e.svc.Transactions(e.ctx, pay.TransactionQuery{AccountID: user})
		if err != nil {
			t.Fatal(err)
		}
		if next != "" || len(txs) != 2 || txs[0].Kind != "payment" || txs[0].Amount != -38_50 || txs[0].BalanceAfter != 61_50 ||
			txs[0].Ref != o.ID || txs[1].Kind != "topup" || txs[1].Amount != 100_00 {
			t.Fatalf("transactions %+v", txs)
		}
		if n := e.count(`SELECT COUNT(*) FROM pay_events WHERE order_id = ? AND type = 'order.paid'`, o.ID); n != 1 {
			t.Fatalf("%d order.paid events, want 1", n)
		}
		orders, _, err := e.svc.Orders(e.ctx, pay.OrderQuery{PayerID: user})
		if err != nil || len(orders) != 1 || orders[0].ID != o.ID {
			t.Fatalf("user's orders %v, %v", orders, err)
		}

		// An order past its expiry is refused, naming the expiry, before
		// the expiry job has closed it: the attempt closes it (with its
		// order.closed event) and no money moves.
		late := e.order(m, 10_00)
		e.clock.Advance(16 * time.Minute)
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: late.ID, PIN: testPIN})
		wantCode(t, err, openmini.ECONFLICT)
		if !strings.Contains(err.Error(), "expired") {
			t.Fatalf("paying an expired order: %v", err)
		}
		if b := e.balance(user); b != 61_50 {
			t.Fatalf("wallet %d after an expired order, want 6150", b)
		}
		if n := e.count(`SELECT COUNT(*) FROM pay_events WHERE order_id = ? AND type = 'order.paid'`, late.ID); n != 0 {
			t.Fatalf("%d order.paid events for the expired order", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM pay_orders WHERE id = ? AND state = 'closed'`, late.ID); n != 1 {
			t.Fatalf("the expired order is not closed after the attempt")
		}
	})
}

// TestConcurrentPaymentsOneWallet: N payments race on one wallet; exactly
// floor(balance/amount) succeed, the rest are refused for the balance, and
// the wallet never goes below zero.
func TestConcurrentPaymentsOneWallet(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("supermarket")
		const balance, amount, n = 10_00, 3_00, 16
		user := e.newUser(balance)
		orders := make([]*pay.Order, n)
		for i := range orders {
			orders[i] = e.order(m, amount)
		}
		errs := parallel(n, func(i int) error {
			_, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: orders[i].ID, PIN: testPIN})
			return err
		})
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case err == pay.ErrInsufficientFunds || strings.Contains(fmt.Sprint(err), pay.ErrInsufficientFunds.Message):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != balance/amount {
			t.Fatalf("%d payments succeeded, want %d", ok, balance/amount)
		}
		if b := e.balance(user); b != int64(balance-ok*amount) {
			t.Fatalf("wallet %d, want %d", b, balance-ok*amount)
		}
		if paid := e.count(`SELECT COUNT(*) FROM pay_orders WHERE state = 'paid'`); paid != ok {
			t.Fatalf("%d orders paid, want %d", paid, ok)
		}
	})
}

// TestIdempotency: one key sent in parallel creates one order (and with a
// payment code, one payment); the same key with another body is a conflict
// naming the key.
func TestIdempotency(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("restaurant")
		req := pay.OrderRequest{Amount: 12_00, Description: "table 12", MerchantOrderNo: "T12-0001",
			Items: []pay.Item{{Name: "noodles", Quantity: 2, UnitPrice: 5_00}, {Name: "tea", Quantity: 1, UnitPrice: 2_00}}}
		ids := make([]string, 12)
		errs := parallel(len(ids), func(i int) error {
			o, err := e.svc.CreateOrder(e.ctx, m.ID, "key-1", req)
			if err == nil {
				ids[i] = o.ID
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if ids[i] != ids[0] {
				t.Fatalf("request %d got order %s, request 0 got %s", i, ids[i], ids[0])
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM pay_orders`); n != 1 {
			t.Fatalf("%d orders, want 1", n)
		}
		changed := req
		changed.Amount = 13_00
		changed.Items = nil
		_, err := e.svc.CreateOrder(e.ctx, m.ID, "key-1", changed)
		wantCode(t, err, openmini.ECONFLICT)
		if !strings.Contains(openmini.ErrorMessage(err), `"key-1"`) {
			t.Fatalf("conflict message %q does not name the key", openmini.ErrorMessage(err))
		}
		// Keys are per merchant: another merchant may use the same one.
		m2 := e.newMerchant("restaurant")
		if _, err := e.svc.CreateOrder(e.ctx, m2.ID, "key-1", req); err != nil {
			t.Fatal(err)
		}
		// A merchant_order_no is unique per merchant, under any key.
		_, err = e.svc.CreateOrder(e.ctx, m.ID, "key-2", req)
		wantCode(t, err, openmini.ECONFLICT)

		// One payment-code charge sent in parallel: one payment.
		user := e.newUser(100_00)
		if err := e.svc.SetNoPINLimit(e.ctx, user, testPIN, 50_00); err != nil {
			t.Fatal(err)
		}
		code, err := e.svc.IssuePaymentCode(e.ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		charge := pay.ChargeRequest{Code: code.Code, Amount: 20_00, Description: "counter 3"}
		chargeIDs := make([]string, 10)
		errs = parallel(len(chargeIDs), func(i int) error {
			o, err := e.svc.ChargePaymentCode(e.ctx, m.ID, "charge-1", charge)
			if err == nil {
				chargeIDs[i] = o.ID
				if o.State != pay.StatePaid {
					return fmt.Errorf("state %s", o.State)
				}
			}
			return err
		})
		for i, err := range errs {
			if err != nil || chargeIDs[i] != chargeIDs[0] {
				t.Fatalf("charge %d: %s, %v (first %s)", i, chargeIDs[i], err, chargeIDs[0])
			}
		}
		if b := e.balance(user); b != 80_00 {
			t.Fatalf("wallet %d after one charge of 20.00, want 8000", b)
		}

		// A collection payment submitted twice in parallel pays once.
		cr := pay.CollectionRequest{AccountID: user, MerchantID: m.ID, Amount: 5_00, PIN: testPIN, IdempotencyKey: "sheet-1"}
		errs = parallel(6, func(int) error { _, err := e.svc.PayCollection(e.ctx, cr); return err })
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if b := e.balance(user); b != 75_00 {
			t.Fatalf("wallet %d after one collection payment of 5.00, want 7500", b)
		}
	})
}

// TestConcurrentRefunds: partial refunds race on one order; together they
// never exceed what was paid, and the coupon and fee come back by the
// documented rule.
func TestConcurrentRefunds(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("restaurant")
		user := e.newUser(100_00)
		fundCampaign(t, e, pay.CampaignSpec{Name: "3 off", Budget: 100_00, DiscountAmount: 3_00})
		o := e.order(m, 10_01)
		sheet, err := e.svc.QuoteOrder(e.ctx, user, o.ID)
		if err != nil || sheet.CampaignID == 0 || sheet.Discount != 3_00 {
			t.Fatalf("sheet %+v, %v", sheet, err)
		}
		paid, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: user, OrderID: o.ID, PIN: testPIN, CampaignID: sheet.CampaignID})
		if err != nil {
			t.Fatal(err)
		}
		if paid.Discount != 3_00 || paid.UserPaid != 7_01 || paid.Fee != 6 {
			t.Fatalf("paid %+v", paid)
		}
		const each, n = 1_50, 12
		errs := parallel(n, func(i int) error {
			_, err := e.svc.RefundOrder(e.ctx, m.ID, fmt.Sprintf("refund-%d", i), pay.RefundRequest{OrderID: o.ID, Amount: each})
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantCode(t, err, openmini.ECONFLICT)
			}
		}
		if ok != int(paid.Amount/each) {
			t.Fatalf("%d refunds succeeded, want %d", ok, paid.Amount/each)
		}
		after, err := e.svc.Order(e.ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Refunded != int64(ok)*each || after.State != pay.StatePartlyRefunded {
			t.Fatalf("order after refunds %+v", after)
		}
		// Refund the rest: coupon and fee come back exactly.
		left := after.Amount - after.Refunded
		r, err := e.svc.RefundOrder(e.ctx, m.ID, "refund-rest", pay.RefundRequest{OrderID: o.ID, Amount: left, Reason: "rest"})
		if err != nil {
			t.Fatal(err)
		}
		final, _ := e.svc.Order(e.ctx, o.ID)
		if final.State != pay.StateRefunded || final.RefundedDiscount != 3_00 || final.RefundedFee != 6 || r.UserAmount+r.CouponAmount != left {
			t.Fatalf("fully refunded order %+v, last refund %+v", final, r)
		}
		if b := e.balance(user); b != 100_00 {
			t.Fatalf("wallet %d after full refund, want 10000", b)
		}
		if b := e.merchantBalance(m); b != 0 {
			t.Fatalf("merchant %d after full refund, want 0", b)
		}
		_, err = e.svc.RefundOrder(e.ctx, m.ID, "refund-more", pay.RefundRequest{OrderID: o.ID, Amount: 1})
		wantCode(t, err, openmini.ECONFLICT)
		refunds, _, err := e.svc.Refunds(e.ctx, pay.RefundQuery{MerchantID: m.ID, OrderID: o.ID})
		if err != nil || len(refunds) != ok+1 {
			t.Fatalf("%d refunds listed, want %d (%v)", len(refunds), ok+1, err)
		}
		// Replaying a refund's key returns that refund, not a new one.
		again, err := e.svc.RefundOrder(e.ctx, m.ID, "refund-rest", pay.RefundRequest{OrderID: o.ID, Amount: left, Reason: "rest"})
		if err != nil || again.ID != r.ID {
			t.Fatalf("replayed refund %+v, %v; want %s", again, err, r.ID)
		}
	})
}

func fundCampaign(t *testing.T, e *env, spec pay.CampaignSpec) *pay.Campaign {
	t.Helper()
	if err := e.svc.FundMarketing(e.ctx, spec.Budget, "test"); err != nil {
		t.Fatal(err)
	}
	if spec.StartsAt.IsZero() {
		spec.StartsAt = e.clock.Now().Add(-time.Hour)
		spec.EndsAt = e.clock.Now().Add(24 * time.Hour)
	}
	c, err := e.svc.CreateCampaign(e.ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCouponBudget: many users race for a campaign's last coupons; the
// budget is never overspent and nobody gets more than the per-user limit.
func TestCouponBudget(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("cafe")
		c := fundCampaign(t, e, pay.CampaignSpec{Name: "coffee", Budget: 5_00, DiscountAmount: 1_00, MinSpend: 10_00,
			Categories: []string{"cafe", "restaurant"}, PerUserLimit: 1})
		const n = 12
		users := make([]int64, n)
		orders := make([]*pay.Order, n)
		for i := range users {
			users[i] = e.newUser(20_00)
			orders[i] = e.order(m, 12_00)
		}
		errs := parallel(n, func(i int) error {
			_, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: users[i], OrderID: orders[i].ID, PIN: testPIN, CampaignID: c.ID})
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantIs(t, err, pay.ErrCouponUnavailable)
			}
		}
		if ok != 5 {
			t.Fatalf("%d coupons used, want 5 (budget 5.00 at 1.00 each)", ok)
		}
		after, err := e.svc.Campaign(e.ctx, c.ID)
		if err != nil || after.Remaining != 0 {
			t.Fatalf("campaign after %+v, %v", after, err)
		}
		// The merchant got the full amounts minus fees; the users paid less.
		var net int64
		for i, err := range errs {
			if err == nil {
				o, _ := e.svc.Order(e.ctx, orders[i].ID)
				if o.UserPaid != 11_00 || o.Discount != 1_00 || o.Net != 12_00-o.Fee {
					t.Fatalf("order with coupon %+v", o)
				}
				net += o.Net
			}
		}
		if b := e.merchantBalance(m); b != net {
			t.Fatalf("merchant %d, want %d", b, net)
		}
		// Per-user limit, rules: a second coupon for a winner, a small order,
		// another category.
		c2 := fundCampaign(t, e, pay.CampaignSpec{Name: "second", Budget: 10_00, DiscountBP: 1000, MaxDiscount: 1_50, MinSpend: 5_00, Categories: []string{"cafe"}})
		u := e.newUser(50_00)
		o1 := e.order(m, 20_00)
		paid, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: u, OrderID: o1.ID, PIN: testPIN, CampaignID: c2.ID})
		if err != nil || paid.Discount != 1_50 {
			t.Fatalf("10%% capped at 1.50 on 20.00: %+v, %v", paid, err)
		}
		o2 := e.order(m, 20_00)
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: u, OrderID: o2.ID, PIN: testPIN, CampaignID: c2.ID})
		wantIs(t, err, pay.ErrCouponUnavailable)
		sheet, err := e.svc.QuoteOrder(e.ctx, u, o2.ID)
		if err != nil || sheet.CampaignID != 0 || sheet.UserPays != 20_00 {
			t.Fatalf("sheet after using the coupon %+v, %v", sheet, err)
		}
		hotel := e.newMerchant("hotel")
		o3 := e.order(hotel, 20_00)
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: e.newUser(50_00), OrderID: o3.ID, PIN: testPIN, CampaignID: c2.ID})
		wantIs(t, err, pay.ErrCouponUnavailable)
		small := e.order(m, 4_00)
		_, err = e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: e.newUser(50_00), OrderID: small.ID, PIN: testPIN, CampaignID: c2.ID})
		wantIs(t, err, pay.ErrCouponUnavailable)
		// Closing returns the rest of the budget to marketing.
		closed, err := e.svc.CloseCampaign(e.ctx, c2.ID)
		if err != nil || closed.State != "closed" || closed.Remaining != 0 {
			t.Fatalf("closed campaign %+v, %v", closed, err)
		}
		pb, _ := e.svc.PlatformBalances(e.ctx)
		if pb[pay.KindMarketing] != 10_00-1_50 {
			t.Fatalf("marketing %d, want 850", pb[pay.KindMarketing])
		}
		// A campaign cannot be bigger than the marketing budget.
		_, err = e.svc.CreateCampaign(e.ctx, pay.CampaignSpec{Name: "too big", Budget: 100_00, DiscountAmount: 1_00,
			StartsAt: e.clock.Now(), EndsAt: e.clock.Now().Add(time.Hour)})
		wantCode(t, err, openmini.ECONFLICT)
	})
}

// TestFeeIncomeRows: concurrent payments credit the platform's fee income
// spread over its rows (so they do not all wait on one), the platform's
// fee income is their sum, and refunding every order returns each row to
// zero: a refund debits the row its payment credited.
func TestFeeIncomeRows(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		m := e.newMerchant("restaurant")
		const n = 40
		users := make([]int64, n)
		orders := make([]*pay.Order, n)
		for i := range n {
			users[i] = e.newUser(100_00)
			orders[i] = e.order(m, 100_00)
		}
		for _, err := range parallel(n, func(i int) error {
			_, err := e.svc.PayOrder(e.ctx, pay.PayRequest{AccountID: users[i], OrderID: orders[i].ID, PIN: testPIN})
			return err
		}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		pb, err := e.svc.PlatformBalances(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pb[pay.KindFeeIncome] != n*60 { // 0.6% of 100.00
			t.Fatalf("fee income %d, want %d", pb[pay.KindFeeIncome], n*60)
		}
		if rows := e.count(`SELECT COUNT(*) FROM pay_accounts WHERE kind = 'fee_income' AND balance > 0`); rows < 8 {
			t.Fatalf("%d payments credited only %d fee income rows", n, rows)
		}

		for _, err := range parallel(n, func(i int) error {
			_, err := e.svc.RefundOrder(e.ctx, m.ID, fmt.Sprintf("refund-%d", i), pay.RefundRequest{OrderID: orders[i].ID, Amount: 100_00})
			return err
		}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if rows := e.count(`SELECT COUNT(*) FROM pay_accounts WHERE kind = 'fee_income' AND balance <> 0`); rows != 0 {
			t.Fatalf("after refunding every order, %d fee income rows are not zero", rows)
		}
		if b := e.merchantBalance(m); b != 0 {
			t.Fatalf("merchant %d after refunding everything", b)
		}
	})
}
