package pay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// payOrderPG pays an open order from payer's wallet in one PostgreSQL
// statement, the common case of a payment: no coupon and a fee known
// before (no waiver to use up). One statement is atomic on its own, so
// the order's new state, the balances, the journal entry with its
// postings, the order.paid event and its webhook job are all written or
// none is, in one round trip instead of a transaction of nine.
//
// The rows are locked in the same order as everywhere else: the order
// first, then the accounts in lock order (each balance update waits for
// the one before it through EXISTS). A wallet that cannot cover the
// amount trips pay_accounts_balance_nonneg and nothing is written. It
// returns errOrderNotOpen, writing nothing, when the order was no longer
// open; the caller's transactional path then says why. Any other failure
// leaves nothing written either.
func (s *Service) payOrderPG(ctx context.Context, m *Merchant, o *Order, payer, fee int64, now time.Time) (*Order, error) {
	fees, err := s.feeAccount(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	wallet, err := s.walletAccount(ctx, payer)
	if err != nil {
		return nil, err
	}
	paid := o.copy()
	paid.State, paid.PayerID, paid.Discount, paid.Fee = StatePaid, payer, 0, fee
	paid.PaidAt = now.UTC().Truncate(time.Millisecond)
	paid.UserPaid, paid.Net = paid.Amount, paid.Amount-fee
	e := entry{kind: "payment", ref: o.ID, memo: clip(m.Name, 100), at: now, postings: []posting{
		{wallet, -o.Amount},
		{accountRef{m.AccountID, KindMerchant}, o.Amount - fee},
		{fees, fee},
	}}
	ps, err := e.normalized()
	if err != nil {
		return nil, err
	}
	evID, body, evState, err := newEvent(m, EventOrderPaid, paid, nil, now)
	if err != nil {
		return nil, err
	}
	at := ms(now)

	// The arguments, in the order of payStatement's placeholders.
	args := []any{payer, fee, at, o.ID} // $1..$4
	for _, p := range ps {
		args = append(args, p.amount, p.acct.id)
	}
	args = append(args, evID, m.ID, EventOrderPaid, string(body), evState)
	job := evState == EventPending
	if job {
		payload, err := json.Marshal(webhookJob{EventID: evID})
		if err != nil {
			return nil, err
		}
		nowMS := time.Now().UnixMilli()
		args = append(args, KindWebhook, string(payload), s.webhookAttempts, nowMS, nowMS)
	}
	args = append(args, e.kind, e.ref, e.memo, s.cfg.Currency)
	for _, p := range ps {
		args = append(args, p.acct.id, p.amount)
	}

	var took, complete int
	err = retryBusy(ctx, func() error { return s.db.QueryRow(ctx, payStatement(len(ps), job), args...).Scan(&took, &complete) })
	switch {
	case errors.Is(err, sqldb.ErrCheck) && strings.Contains(err.Error(), "pay_accounts_balance_nonneg"):
		return nil, ErrInsufficientFunds
	case err != nil:
		return nil, fmt.Errorf("pay order %s in one statement: %w", o.ID, err)
	case took == 0:
		return nil, errOrderNotOpen
	}
	return paid, nil
}

// payStatements caches payStatement's text by shape.
var payStatements sync.Map // payShape → string

type payShape struct {
	postings int
	job      bool
}

// payStatement is the text of payOrderPG's statement for n postings, with
// or without a webhook job. Its placeholders are, in order: $1 payer, $2
// fee, $3 now (ms), $4 order ID; an amount and an account per posting (in
// lock order); the event's ID, merchant, type, body and state; with a job
// its kind, payload, attempts, run_at and created_at; the entry's kind,
// ref and memo; the currency; and an account and an amount per posting.
func payStatement(n int, job bool) string {
	if q, ok := payStatements.Load(payShape{n, job}); ok {
		return q.(string)
	}
	var q strings.Builder
	next := 4
	arg := func() string {
		next++
		return "$" + strconv.Itoa(next)
	}
	// The order is found by its primary key; "IS TRUE" keeps the planner
	// from taking the index of open orders by expiry instead, whose dead
	// entries (orders paid since the last vacuum) a busy platform
	// accumulates.
	q.WriteString(`WITH o AS (UPDATE pay_orders SET state = 'paid', payer_id = $1, fee = $2, paid_at = $3, updated_at = $3
		WHERE id = $4 AND (state = 'created') IS TRUE AND expires_at > $3 AND (payer_id IS NULL OR payer_id = $1) RETURNING id)`)
	prev := "o"
	for i := range n {
		fmt.Fprintf(&q, `, b%d AS (UPDATE pay_accounts SET balance = balance + %s::bigint WHERE id = %s::bigint AND EXISTS (SELECT 1 FROM %s) RETURNING id, balance)`,
			i, arg(), arg(), prev)
		prev = "b" + strconv.Itoa(i)
	}
	fmt.Fprintf(&q, `, ev AS (INSERT INTO pay_events (id, merchant_id, type, order_id, payload, state, created_at)
		SELECT %s, %s::bigint, %s, id, %s, %s, $3 FROM o RETURNING id)`, arg(), arg(), arg(), arg(), arg())
	if job {
		fmt.Fprintf(&q, `, jb AS (INSERT INTO jobs (kind, payload, state, max_attempts, run_at, created_at)
			SELECT %s, %s, 'queued', %s::bigint, %s::bigint, %s::bigint FROM ev RETURNING id)`, arg(), arg(), arg(), arg(), arg())
	}
	fmt.Fprintf(&q, `, en AS (INSERT INTO pay_entries (kind, ref, memo, created_at) SELECT %s, %s, %s, $3 FROM %s RETURNING id)`,
		arg(), arg(), arg(), prev)
	q.WriteString(`, po AS (INSERT INTO pay_postings (entry_id, account_id, currency, amount, balance_after, created_at)
		SELECT en.id, b.id, ` + arg() + `, v.amount, b.balance, $3 FROM en, (`)
	for i := range n {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "SELECT id, balance FROM b%d", i)
	}
	q.WriteString(`) b JOIN (VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "(%s::bigint, %s::bigint)", arg(), arg())
	}
	// The last line refuses, by a division by zero that rolls the whole
	// statement back, to take the order without all of its postings
	// (which cannot happen while every account exists).
	fmt.Fprintf(&q, `) AS v (account_id, amount) ON v.account_id = b.id RETURNING entry_id)
		SELECT (SELECT count(*) FROM o), 1 / ((SELECT count(*) FROM o) = 0 OR (SELECT count(*) FROM po) = %d)::int`, n)
	stmt, _ := payStatements.LoadOrStore(payShape{n, job}, q.String())
	return stmt.(string)
}
