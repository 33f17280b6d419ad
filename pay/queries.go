package pay

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Wallet is a user's balance and payment settings.
type Wallet struct {
	AccountID  int64  `json:"-"`
	Currency   string `json:"currency"`
	Balance    int64  `json:"balance"`
	PINSet     bool   `json:"pin_set"`
	NoPINLimit int64  `json:"no_pin_limit"`
}

// Wallet returns a user's wallet (balance 0 before the first top-up).
func (s *Service) Wallet(ctx context.Context, accountID int64) (*Wallet, error) {
	w := &Wallet{AccountID: accountID, Currency: s.cfg.Currency}
	err := s.db.QueryRow(ctx, `SELECT balance FROM pay_accounts WHERE kind = 'wallet' AND owner = ? AND currency = ?`,
		idOwner(accountID), s.cfg.Currency).Scan(&w.Balance)
	if err != nil && !isNotFound(err) {
		return nil, internal("wallet", err)
	}
	u, err := s.settings(ctx, s.db, accountID)
	if err != nil {
		return nil, internal("wallet", err)
	}
	w.PINSet, w.NoPINLimit = u.pinHash != "", u.noPINLimit
	return w, nil
}

// Transaction is one movement of a wallet: a top-up, a payment or a
// refund, with the balance after it.
type Transaction struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"` // topup, payment, refund
	Ref          string    `json:"ref"`  // the top-up or order id
	Memo         string    `json:"memo"` // merchant name, provider, refund id
	Amount       int64     `json:"amount"`
	BalanceAfter int64     `json:"balance_after"`
	CreatedAt    time.Time `json:"created_at"`
}

// TransactionQuery pages through a wallet's movements, newest first.
type TransactionQuery struct {
	AccountID int64
	Limit     int    // 1..200, default 50
	Before    string // cursor from the previous page
}

// Transactions lists a user's wallet movements and a cursor for the next
// page ("" at the end).
func (s *Service) Transactions(ctx context.Context, q TransactionQuery) ([]Transaction, string, error) {
	var acct int64
	err := s.db.QueryRow(ctx, `SELECT id FROM pay_accounts WHERE kind = 'wallet' AND owner = ? AND currency = ?`,
		idOwner(q.AccountID), s.cfg.Currency).Scan(&acct)
	if isNotFound(err) {
		return []Transaction{}, "", nil
	}
	if err != nil {
		return nil, "", internal("transactions", err)
	}
	limit, where, args, err := pageOn(q.Limit, q.Before, "p.created_at", "p.id", true, []string{"p.account_id = ?"}, []any{acct})
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT p.id, e.kind, e.ref, e.memo, p.amount, p.balance_after, p.created_at
		FROM pay_postings p JOIN pay_entries e ON e.id = p.entry_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY p.created_at DESC, p.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", internal("transactions", err)
	}
	defer rows.Close()
	out := []Transaction{}
	for rows.Next() {
		var t Transaction
		var c int64
		if err := rows.Scan(&t.ID, &t.Kind, &t.Ref, &t.Memo, &t.Amount, &t.BalanceAfter, &c); err != nil {
			return nil, "", internal("transactions", err)
		}
		t.CreatedAt = fromMS(c)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("transactions", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = cursor(last.CreatedAt, strconv.FormatInt(last.ID, 10))
	}
	return out, next, nil
}

// OrderQuery selects orders, newest first. Set MerchantID for a merchant's
// orders or PayerID for a user's; at least one is required.
type OrderQuery struct {
	MerchantID int64
	PayerID    int64
	State      string    // optional
	Source     string    // optional
	Since      time.Time // optional, created at or after
	Until      time.Time // optional, created before
	Limit      int       // 1..200, default 50
	Before     string    // cursor from the previous page
}

// Orders lists orders and a cursor for the next page ("" at the end).
// Errors: invalid for a query without merchant or payer, or a bad cursor.
func (s *Service) Orders(ctx context.Context, q OrderQuery) ([]*Order, string, error) {
	var where []string
	var args []any
	if q.MerchantID != 0 {
		where, args = append(where, "merchant_id = ?"), append(args, q.MerchantID)
	}
	if q.PayerID != 0 {
		where, args = append(where, "payer_id = ?"), append(args, q.PayerID)
	}
	if len(where) == 0 {
		return nil, "", invalid("an order query needs a merchant or a payer")
	}
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, q.State)
	}
	if q.Source != "" {
		where, args = append(where, "source = ?"), append(args, q.Source)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ms(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, ms(q.Until))
	}
	limit, where, args, err := page(q.Limit, q.Before, where, args)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT `+orderColumns+` FROM pay_orders WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", internal("list orders", err)
	}
	defer rows.Close()
	out := []*Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, "", internal("list orders", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("list orders", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = cursor(out[limit-1].CreatedAt, out[limit-1].ID)
	}
	return out, next, nil
}

// PendingOrders lists the payment-code orders waiting for the user's PIN
// (charged above the no-PIN limit), newest first, for the wallet to show.
func (s *Service) PendingOrders(ctx context.Context, accountID int64) ([]*Order, error) {
	rows, err := s.db.Query(ctx, `SELECT `+orderColumns+` FROM pay_orders WHERE payer_id = ? AND state = 'created' AND expires_at > ?
		ORDER BY created_at DESC LIMIT 20`, accountID, ms(s.now()))
	if err != nil {
		return nil, internal("pending orders", err)
	}
	defer rows.Close()
	out := []*Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, internal("pending orders", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// RefundQuery selects a merchant's refunds, newest first.
type RefundQuery struct {
	MerchantID int64
	OrderID    string // optional
	Limit      int    // 1..200, default 50
	Before     string // cursor from the previous page
}

// Refunds lists a merchant's refunds and a cursor for the next page.
func (s *Service) Refunds(ctx context.Context, q RefundQuery) ([]*Refund, string, error) {
	where := []string{"merchant_id = ?"}
	args := []any{q.MerchantID}
	if q.OrderID != "" {
		where, args = append(where, "order_id = ?"), append(args, q.OrderID)
	}
	limit, where, args, err := page(q.Limit, q.Before, where, args)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT `+refundColumns+` FROM pay_refunds WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", internal("list refunds", err)
	}
	defer rows.Close()
	out := []*Refund{}
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, "", internal("list refunds", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("list refunds", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = cursor(out[limit-1].CreatedAt, out[limit-1].ID)
	}
	return out, next, nil
}

// PlatformBalances returns the balances of the platform's own accounts:
// fee income (the sum of its rows), marketing budget, capital put in, and
// each top-up funding source (negative: money that came in from outside).
func (s *Service) PlatformBalances(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT kind, owner, balance FROM pay_accounts
		WHERE kind IN ('fee_income', 'marketing', 'capital', 'funding') AND currency = ?`, s.cfg.Currency)
	if err != nil {
		return nil, internal("platform balances", err)
	}
	defer rows.Close()
	out := map[string]int64{KindFeeIncome: 0, KindMarketing: 0, KindCapital: 0}
	for rows.Next() {
		var kind, owner string
		var bal int64
		if err := rows.Scan(&kind, &owner, &bal); err != nil {
			return nil, internal("platform balances", err)
		}
		if kind == KindFunding {
			kind += ":" + owner
		}
		out[kind] += bal
	}
	return out, rows.Err()
}

// MerchantBalance returns the balance of a merchant's settlement account.
func (s *Service) MerchantBalance(ctx context.Context, merchantID int64) (int64, error) {
	var bal int64
	err := s.db.QueryRow(ctx, `SELECT a.balance FROM pay_accounts a JOIN pay_merchants m ON m.account_id = a.id WHERE m.id = ?`, merchantID).Scan(&bal)
	if isNotFound(err) {
		return 0, notFound("merchant %d not found", merchantID)
	}
	if err != nil {
		return 0, internal("merchant balance", err)
	}
	return bal, nil
}

// cursor encodes a keyset position: the last row's time and id.
func cursor(t time.Time, id string) string {
	return strconv.FormatInt(t.UnixMilli(), 10) + "." + id
}

// page applies a limit and a cursor on created_at, id.
func page(limit int, before string, where []string, args []any) (int, []string, []any, error) {
	return pageOn(limit, before, "created_at", "id", false, where, args)
}

func pageOn(limit int, before, timeCol, idCol string, numericID bool, where []string, args []any) (int, []string, []any, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > 200 {
		limit = 200
	}
	if before == "" {
		return limit, where, args, nil
	}
	ts, id, ok := strings.Cut(before, ".")
	t, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 64 {
		return 0, nil, nil, invalid("malformed page cursor")
	}
	var idArg any = id
	if numericID {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return 0, nil, nil, invalid("malformed page cursor")
		}
		idArg = n
	}
	where = append(where, "("+timeCol+" < ? OR ("+timeCol+" = ? AND "+idCol+" < ?))")
	args = append(args, t, t, idArg)
	return limit, where, args, nil
}
