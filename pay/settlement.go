package pay

import (
	"context"
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// SettlementLine is one payment or refund in a settlement report. Refund
// lines carry negative amounts.
type SettlementLine struct {
	Time            time.Time `json:"time"`
	Type            string    `json:"type"` // payment or refund
	OrderID         string    `json:"order_id"`
	MerchantOrderNo string    `json:"merchant_order_no,omitempty"`
	RefundID        string    `json:"refund_id,omitempty"`
	Amount          int64     `json:"amount"`    // order amount (gross)
	Coupon          int64     `json:"coupon"`    // part paid by the platform's coupon
	UserPaid        int64     `json:"user_paid"` // part paid from the user's wallet
	Fee             int64     `json:"fee"`       // platform fee
	Net             int64     `json:"net"`       // Amount - Fee: the change of the merchant's balance
}

// SettlementReport is a merchant's day: every payment and refund, the
// totals, and the same day read from the ledger. Reconciled is true when
// the sum of the lines' Net equals the sum of the ledger postings on the
// merchant's settlement account in the day, to the minor unit.
type SettlementReport struct {
	MerchantID     int64            `json:"merchant_id"`
	MerchantName   string           `json:"merchant_name"`
	Date           string           `json:"date"` // YYYY-MM-DD in Location
	Location       string           `json:"location"`
	Start          time.Time        `json:"start"`
	End            time.Time        `json:"end"`
	Currency       string           `json:"currency"`
	Payments       int              `json:"payments"`
	Refunds        int              `json:"refunds"`
	Gross          int64            `json:"gross"`   // payments minus refunds, order amounts
	Coupons        int64            `json:"coupons"` // platform-funded part of Gross
	Fees           int64            `json:"fees"`    // fees charged minus fees returned
	Net            int64            `json:"net"`     // Gross - Fees
	LedgerNet      int64            `json:"ledger_net"`
	OpeningBalance int64            `json:"opening_balance"`
	ClosingBalance int64            `json:"closing_balance"`
	Reconciled     bool             `json:"reconciled"`
	Lines          []SettlementLine `json:"lines"`

	loc *time.Location
}

// Settlement builds a merchant's report for a day (YYYY-MM-DD, in
// Config.Location), read in one transaction so the lines and the ledger
// agree. A day that has ended never changes; today's report is as of now.
// Errors: invalid date, not_found merchant.
func (s *Service) Settlement(ctx context.Context, merchantID int64, date string) (*SettlementReport, error) {
	day, err := time.ParseInLocation("2006-01-02", date, s.cfg.Location)
	if err != nil {
		return nil, invalid("date %q is not YYYY-MM-DD", clip(date, 20))
	}
	start := day
	end := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, s.cfg.Location)
	r := &SettlementReport{MerchantID: merchantID, Date: date, Location: s.cfg.Location.String(),
		Start: start, End: end, Currency: s.cfg.Currency, Lines: []SettlementLine{}, loc: s.cfg.Location}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if s.db.Dialect() == sqldb.Postgres {
			if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
				return err
			}
		}
		m, err := loadMerchant(ctx, tx, merchantID)
		if err != nil {
			return err
		}
		r.MerchantName = m.Name
		// An order is paid within a day of its creation (expires_in is at
		// most 86400 s), so the (merchant_id, created_at) index bounds the
		// search.
		rows, err := tx.Query(ctx, `SELECT id, COALESCE(merchant_order_no, ''), paid_at, amount, discount, fee FROM pay_orders
			WHERE merchant_id = ? AND created_at >= ? AND created_at < ? AND paid_at >= ? AND paid_at < ?`,
			merchantID, ms(start.Add(-25*time.Hour)), ms(end), ms(start), ms(end))
		if err != nil {
			return err
		}
		for rows.Next() {
			l := SettlementLine{Type: "payment"}
			var at int64
			if err := rows.Scan(&l.OrderID, &l.MerchantOrderNo, &at, &l.Amount, &l.Coupon, &l.Fee); err != nil {
				rows.Close()
				return err
			}
			l.Time, l.UserPaid, l.Net = fromMS(at), l.Amount-l.Coupon, l.Amount-l.Fee
			r.Lines = append(r.Lines, l)
			r.Payments++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT r.id, r.order_id, COALESCE(o.merchant_order_no, ''), r.created_at, r.amount, r.coupon_amount, r.user_amount, r.fee_amount
			FROM pay_refunds r JOIN pay_orders o ON o.id = r.order_id
			WHERE r.merchant_id = ? AND r.created_at >= ? AND r.created_at < ?`, merchantID, ms(start), ms(end))
		if err != nil {
			return err
		}
		for rows.Next() {
			l := SettlementLine{Type: "refund"}
			var at int64
			if err := rows.Scan(&l.RefundID, &l.OrderID, &l.MerchantOrderNo, &at, &l.Amount, &l.Coupon, &l.UserPaid, &l.Fee); err != nil {
				rows.Close()
				return err
			}
			l.Time = fromMS(at)
			l.Amount, l.Coupon, l.UserPaid, l.Fee = -l.Amount, -l.Coupon, -l.UserPaid, -l.Fee
			l.Net = l.Amount - l.Fee
			r.Lines = append(r.Lines, l)
			r.Refunds++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM pay_postings WHERE account_id = ? AND created_at < ?`,
			m.AccountID, ms(start)).Scan(&r.OpeningBalance); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM pay_postings WHERE account_id = ? AND created_at >= ? AND created_at < ?`,
			m.AccountID, ms(start), ms(end)).Scan(&r.LedgerNet)
	})
	if err != nil {
		return nil, internal("settlement", err)
	}
	sort.SliceStable(r.Lines, func(i, j int) bool { return r.Lines[i].Time.Before(r.Lines[j].Time) })
	for _, l := range r.Lines {
		r.Gross += l.Amount
		r.Coupons += l.Coupon
		r.Fees += l.Fee
		r.Net += l.Net
	}
	r.ClosingBalance = r.OpeningBalance + r.LedgerNet
	r.Reconciled = r.Net == r.LedgerNet
	return r, nil
}

// WriteCSV writes the report as CSV: a header, one row per payment or
// refund (amounts in major units, e.g. 12.34, refunds negative), then
// summary rows whose type is total, ledger_net, opening_balance and
// closing_balance, with their figure in the net column.
func (r *SettlementReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	f := func(v int64) string { return FormatAmount(v, r.Currency) }
	loc := r.loc
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(r.Location); err != nil {
			loc = time.UTC
		}
	}
	cw.Write([]string{"time", "type", "order_id", "merchant_order_no", "refund_id", "currency", "amount", "coupon", "user_paid", "fee", "net"})
	for _, l := range r.Lines {
		cw.Write([]string{l.Time.In(loc).Format(time.RFC3339), l.Type, l.OrderID, csvSafe(l.MerchantOrderNo), l.RefundID, r.Currency,
			f(l.Amount), f(l.Coupon), f(l.UserPaid), f(l.Fee), f(l.Net)})
	}
	day := r.Date
	cw.Write([]string{day, "total", strconv.Itoa(r.Payments) + " payments", strconv.Itoa(r.Refunds) + " refunds", "", r.Currency,
		f(r.Gross), f(r.Coupons), f(r.Gross - r.Coupons), f(r.Fees), f(r.Net)})
	for _, row := range []struct {
		name string
		v    int64
	}{{"ledger_net", r.LedgerNet}, {"opening_balance", r.OpeningBalance}, {"closing_balance", r.ClosingBalance}} {
		cw.Write([]string{day, row.name, "", "", "", r.Currency, "", "", "", "", f(row.v)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a merchant-chosen value from being read as a formula by a
// spreadsheet.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
