package pay

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// Ledger account kinds.
const (
	KindWallet    = "wallet"     // a user's wallet; owner = accounts.id
	KindMerchant  = "merchant"   // a merchant's settlement account; owner = merchant id
	KindCampaign  = "campaign"   // a coupon campaign's remaining budget; owner = campaign id
	KindFeeIncome = "fee_income" // the platform's fee income, in feeShards rows; owner = feeOwner(order)
	KindMarketing = "marketing"  // the platform's marketing budget; owner = "platform"
	KindCapital   = "capital"    // money the platform puts in (may go negative); owner = "platform"
	KindFunding   = "funding"    // a top-up provider's funding source (may go negative); owner = provider name
)

// lockRank orders the accounts a transaction updates, so concurrent
// transactions take row locks in one global order and never deadlock:
// per-user rows first, shared platform rows last (held for the shortest
// time before commit).
var lockRank = map[string]int{
	KindWallet: 1, KindCampaign: 2, KindMerchant: 3, KindMarketing: 4,
	KindFeeIncome: 5, KindCapital: 6, KindFunding: 7,
}

type accountRef struct {
	id   int64
	kind string
}

type accountKey struct{ kind, owner, currency string }

// account returns the ledger account of a holder, creating it when
// missing. It runs on its own (outside any transaction: on SQLite a call
// inside WithTx would wait for the write connection the transaction holds),
// so an account it returns always exists and can be cached.
func (s *Service) account(ctx context.Context, kind, owner string) (accountRef, error) {
	key := accountKey{kind, owner, s.cfg.Currency}
	if v, ok := s.accounts.Load(key); ok {
		return v.(accountRef), nil
	}
	neg := allowNegative(kind)
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM pay_accounts WHERE kind = ? AND owner = ? AND currency = ?`,
		kind, owner, s.cfg.Currency).Scan(&id)
	if errors.Is(err, sqldb.ErrNotFound) {
		_, err = s.db.Exec(ctx, `INSERT INTO pay_accounts (kind, owner, currency, balance, allow_negative, created_at)
			VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (kind, owner, currency) DO NOTHING`,
			kind, owner, s.cfg.Currency, neg, ms(s.now()))
		if err == nil {
			// Read through the write pool's view: the row is committed now.
			err = s.db.QueryRow(ctx, `SELECT id FROM pay_accounts WHERE kind = ? AND owner = ? AND currency = ?`,
				kind, owner, s.cfg.Currency).Scan(&id)
		}
	}
	if err != nil {
		return accountRef{}, fmt.Errorf("ledger account %s/%s: %w", kind, owner, err)
	}
	ref := accountRef{id: id, kind: kind}
	s.accounts.Store(key, ref)
	return ref, nil
}

func (s *Service) platformAccount(ctx context.Context, kind string) (accountRef, error) {
	return s.account(ctx, kind, "platform")
}

// feeShards is how many rows hold the platform's fee income. Every
// payment on the platform credits fee income, and a balance row is locked
// from its update to the commit: in one row, all payments would take turns
// on it. A payment credits the row its order's ID picks (feeOwner), a
// refund of that order debits the same row, and the platform's fee income
// is the sum of the rows (PlatformBalances). docs/payments.md, "Hot
// accounts".
const feeShards = 16

// feeOwners are the owners of the fee income rows: "platform" (the row
// that held all fee income before it was split), then "platform/1" …
// "platform/15".
var feeOwners = func() (o [feeShards]string) {
	o[0] = "platform"
	for k := 1; k < feeShards; k++ {
		o[k] = "platform/" + strconv.Itoa(k)
	}
	return o
}()

// feeOwner is the owner of the fee income row of an order.
func feeOwner(orderID string) string {
	h := fnv.New32a()
	h.Write([]byte(orderID))
	return feeOwners[h.Sum32()%feeShards]
}

// feeAccount is the fee income row of an order.
func (s *Service) feeAccount(ctx context.Context, orderID string) (accountRef, error) {
	return s.account(ctx, KindFeeIncome, feeOwner(orderID))
}

// warmFeeAccounts makes sure every fee income row exists (and is cached).
func (s *Service) warmFeeAccounts(ctx context.Context) error {
	for _, owner := range feeOwners {
		if _, err := s.account(ctx, KindFeeIncome, owner); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) walletAccount(ctx context.Context, accountID int64) (accountRef, error) {
	if accountID <= 0 {
		return accountRef{}, invalid("no user account given")
	}
	return s.account(ctx, KindWallet, strconv.FormatInt(accountID, 10))
}

// allowNegative is 1 for the accounts that stand for money outside the
// platform (capital, funding sources) and may go below zero, and for the
// rows of fee income: the platform's own money, whose total is what
// counts. (A refund debits its order's row, which that order's fee
// credited; only an order paid before fee income was split into rows can
// take its row below zero, while "platform" holds its fee.) Wallets,
// merchants' accounts and budgets, which hold money owed to someone,
// never go below zero.
func allowNegative(kind string) int {
	if kind == KindCapital || kind == KindFunding || kind == KindFeeIncome {
		return 1
	}
	return 0
}

type posting struct {
	acct   accountRef
	amount int64
}

// entry is one journal entry: postings that sum to zero.
type entry struct {
	kind, ref, memo string
	at              time.Time
	postings        []posting
}

// insufficientError says which account's balance could not cover its
// debit; callers turn it into the error their user understands.
type insufficientError struct{ acct accountRef }

func (e *insufficientError) Error() string {
	return fmt.Sprintf("ledger account %d (%s) has too little balance", e.acct.id, e.acct.kind)
}

// normalized returns the entry's postings ready to write: one per
// account, zero ones dropped, checked to sum to zero, in lock order.
func (e entry) normalized() ([]posting, error) {
	ps := make([]posting, 0, len(e.postings))
	var sum int64
	for _, p := range e.postings {
		if p.acct.id == 0 {
			return nil, fmt.Errorf("post %s %s: posting without account", e.kind, e.ref)
		}
		sum += p.amount
		merged := false
		for i := range ps {
			if ps[i].acct.id == p.acct.id {
				ps[i].amount += p.amount // one posting per account and entry
				merged = true
			}
		}
		if !merged {
			ps = append(ps, p)
		}
	}
	ps = slices.DeleteFunc(ps, func(p posting) bool { return p.amount == 0 })
	if sum != 0 {
		return nil, fmt.Errorf("post %s %s: postings sum to %d, not zero", e.kind, e.ref, sum)
	}
	if len(ps) < 2 {
		return nil, fmt.Errorf("post %s %s: fewer than two non-zero postings", e.kind, e.ref)
	}
	sort.SliceStable(ps, func(i, j int) bool {
		ri, rj := lockRank[ps[i].acct.kind], lockRank[ps[j].acct.kind]
		if ri != rj {
			return ri < rj
		}
		return ps[i].acct.id < ps[j].acct.id
	})
	return ps, nil
}

// post writes a journal entry and updates the balances of its accounts,
// inside tx. Zero postings are dropped. A debit that would take an account
// below zero (except capital and funding) fails with *insufficientError and
// nothing is written; the caller's transaction must then roll back.
func (s *Service) post(ctx context.Context, tx sqldb.Querier, e entry) (int64, error) {
	ps, err := e.normalized()
	if err != nil {
		return 0, err
	}
	at := ms(e.at)
	if s.db.Dialect() == sqldb.Postgres {
		return s.postPG(ctx, tx, e, ps)
	}
	var entryID int64
	err = tx.QueryRow(ctx, `INSERT INTO pay_entries (kind, ref, memo, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		e.kind, e.ref, e.memo, at).Scan(&entryID)
	if err != nil {
		return 0, fmt.Errorf("post %s %s: entry: %w", e.kind, e.ref, err)
	}
	// Balances last: the rows of shared accounts stay locked (PostgreSQL)
	// from here to the commit, so as little as possible happens after.
	balances, err := s.applyBalances(ctx, tx, e, ps)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO pay_postings (entry_id, account_id, currency, amount, balance_after, created_at) VALUES `)
	args := make([]any, 0, 6*len(ps))
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, entryID, p.acct.id, s.cfg.Currency, p.amount, balances[i], at)
	}
	if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
		return 0, fmt.Errorf("post %s %s: postings: %w", e.kind, e.ref, err)
	}
	return entryID, nil
}

// postPG updates the balances row by row in lock order, then writes the
// entry and its postings in one statement.
func (s *Service) postPG(ctx context.Context, tx sqldb.Querier, e entry, ps []posting) (int64, error) {
	balances, err := s.applyBalances(ctx, tx, e, ps)
	if err != nil {
		return 0, err
	}
	at := ms(e.at)
	var q strings.Builder
	args := []any{e.kind, e.ref, e.memo, at}
	q.WriteString(`WITH e AS (INSERT INTO pay_entries (kind, ref, memo, created_at) VALUES (?, ?, ?, ?) RETURNING id)
		INSERT INTO pay_postings (entry_id, account_id, currency, amount, balance_after, created_at)
		SELECT e.id, v.account_id, v.currency, v.amount, v.balance_after, v.created_at FROM e,
		(VALUES `)
	for i, p := range ps {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?::bigint, ?::text, ?::bigint, ?::bigint, ?::bigint)")
		args = append(args, p.acct.id, s.cfg.Currency, p.amount, balances[i], at)
	}
	q.WriteString(`) AS v (account_id, currency, amount, balance_after, created_at) RETURNING entry_id`)
	var entryID int64
	if err := tx.QueryRow(ctx, q.String(), args...).Scan(&entryID); err != nil {
		return 0, fmt.Errorf("post %s %s: %w", e.kind, e.ref, err)
	}
	return entryID, nil
}

// applyBalances adds the postings to their accounts' balances and returns
// the new balances, in the order of ps. On PostgreSQL each row is updated
// on its own, in ps's (lock) order; on SQLite, which has no row locks, one
// statement updates them all and the CHECK constraint refuses a negative
// balance.
func (s *Service) applyBalances(ctx context.Context, tx sqldb.Querier, e entry, ps []posting) ([]int64, error) {
	balances := make([]int64, len(ps))
	if s.db.Dialect() == sqldb.SQLite {
		var q strings.Builder
		args := make([]any, 0, 3*len(ps))
		q.WriteString(`UPDATE pay_accounts SET balance = balance + CASE id`)
		for _, p := range ps {
			q.WriteString(` WHEN ? THEN ?`)
			args = append(args, p.acct.id, p.amount)
		}
		q.WriteString(` END WHERE id IN (?` + strings.Repeat(`, ?`, len(ps)-1) + `) RETURNING id, balance`)
		for _, p := range ps {
			args = append(args, p.acct.id)
		}
		rows, err := tx.Query(ctx, q.String(), args...)
		if err == nil {
			got := map[int64]int64{}
			for rows.Next() {
				var id, bal int64
				if err = rows.Scan(&id, &bal); err != nil {
					break
				}
				got[id] = bal
			}
			if err == nil {
				err = rows.Err()
			}
			rows.Close()
			for i, p := range ps {
				bal, ok := got[p.acct.id]
				if err == nil && !ok {
					err = fmt.Errorf("post %s %s: account %d not updated", e.kind, e.ref, p.acct.id)
				}
				balances[i] = bal
			}
		}
		// The driver may report the CHECK failure while stepping through
		// the rows, where sqldb does not translate it: match the
		// constraint's name too.
		if errors.Is(err, sqldb.ErrCheck) || (err != nil && strings.Contains(err.Error(), "pay_accounts_balance_nonneg")) {
			return nil, s.whichInsufficient(ctx, tx, ps)
		}
		if err != nil {
			return nil, fmt.Errorf("post %s %s: balances: %w", e.kind, e.ref, err)
		}
		return balances, nil
	}
	for i, p := range ps {
		err := tx.QueryRow(ctx, `UPDATE pay_accounts SET balance = balance + ?
			WHERE id = ? AND (allow_negative = 1 OR balance + ? >= 0) RETURNING balance`,
			p.amount, p.acct.id, p.amount).Scan(&balances[i])
		if errors.Is(err, sqldb.ErrNotFound) || errors.Is(err, sqldb.ErrCheck) {
			return nil, &insufficientError{acct: p.acct}
		}
		if err != nil {
			return nil, fmt.Errorf("post %s %s: balance of account %d: %w", e.kind, e.ref, p.acct.id, err)
		}
	}
	return balances, nil
}

// whichInsufficient names the first debited account whose balance cannot
// cover its posting.
func (s *Service) whichInsufficient(ctx context.Context, tx sqldb.Querier, ps []posting) error {
	for _, p := range ps {
		if p.amount >= 0 {
			continue
		}
		var bal int64
		var neg int
		if err := tx.QueryRow(ctx, `SELECT balance, allow_negative FROM pay_accounts WHERE id = ?`, p.acct.id).Scan(&bal, &neg); err != nil {
			return err
		}
		if neg == 0 && bal+p.amount < 0 {
			return &insufficientError{acct: p.acct}
		}
	}
	return errors.New("post: a balance check failed but no account is short")
}

// CheckLedger verifies the ledger's invariants and returns an error listing
// the first violations found: every entry has at least two postings that
// sum to zero per currency; every posting is in its account's currency;
// every account's balance equals the sum of its postings and the
// balance_after of its latest posting; no account that must not go negative
// is negative; no order has refunded more than it was paid. It reads
// through q, so it can run inside a transaction for a consistent view.
func CheckLedger(ctx context.Context, q sqldb.Querier) error {
	checks := []struct{ what, query string }{
		{"entry does not sum to zero", `SELECT entry_id || ' ' || currency || ' sums to ' || SUM(amount)
			FROM pay_postings GROUP BY entry_id, currency HAVING SUM(amount) <> 0`},
		{"entry has fewer than two postings", `SELECT e.id || ' has ' || COUNT(p.id)
			FROM pay_entries e LEFT JOIN pay_postings p ON p.entry_id = e.id GROUP BY e.id HAVING COUNT(p.id) < 2`},
		{"posting currency differs from its account", `SELECT p.id || ' ' || p.currency || ' on ' || a.currency
			FROM pay_postings p JOIN pay_accounts a ON a.id = p.account_id WHERE p.currency <> a.currency`},
		{"balance differs from its postings", `SELECT a.id || ' balance ' || a.balance || ' postings ' || COALESCE(SUM(p.amount), 0)
			FROM pay_accounts a LEFT JOIN pay_postings p ON p.account_id = a.id
			GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(p.amount), 0)`},
		{"balance differs from the last posting's balance_after", `SELECT a.id || ' balance ' || a.balance || ' last ' || p.balance_after
			FROM pay_accounts a JOIN pay_postings p ON p.id = (SELECT MAX(id) FROM pay_postings WHERE account_id = a.id)
			WHERE p.balance_after <> a.balance`},
		{"negative balance", `SELECT id || ' ' || kind || ' ' || balance FROM pay_accounts WHERE allow_negative = 0 AND balance < 0`},
		{"order refunded more than paid", `SELECT id || ' refunded ' || refunded || ' of ' || amount FROM pay_orders WHERE refunded > amount`},
		{"order refunds differ from its refunds", `SELECT o.id || ' refunded ' || o.refunded || ' refunds ' || COALESCE(SUM(r.amount), 0)
			FROM pay_orders o LEFT JOIN pay_refunds r ON r.order_id = o.id
			GROUP BY o.id, o.refunded HAVING o.refunded <> COALESCE(SUM(r.amount), 0)`},
	}
	var problems []string
	for _, c := range checks {
		rows, err := q.Query(ctx, c.query+" LIMIT 5")
		if err != nil {
			return fmt.Errorf("check ledger: %s: %w", c.what, err)
		}
		for rows.Next() {
			var detail string
			if err := rows.Scan(&detail); err != nil {
				rows.Close()
				return fmt.Errorf("check ledger: %w", err)
			}
			problems = append(problems, c.what+": "+detail)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("check ledger: %s: %w", c.what, err)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("ledger check failed:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// CheckLedger runs the package-level CheckLedger on the Service's
// database. Run it while no payments are in flight, or pass a transaction
// to the package-level function for one consistent view.
func (s *Service) CheckLedger(ctx context.Context) error {
	return CheckLedger(ctx, s.db)
}

// accountTx returns a holder's ledger account inside tx, creating it in
// the transaction when missing. Accounts created here are not cached: the
// transaction may still roll back.
func (s *Service) accountTx(ctx context.Context, tx *sqldb.Tx, kind, owner string) (accountRef, error) {
	if v, ok := s.accounts.Load(accountKey{kind, owner, s.cfg.Currency}); ok {
		return v.(accountRef), nil
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM pay_accounts WHERE kind = ? AND owner = ? AND currency = ?`, kind, owner, s.cfg.Currency).Scan(&id)
	if errors.Is(err, sqldb.ErrNotFound) {
		// A concurrent transaction may be creating the same account: DO
		// NOTHING waits for it, and the SELECT then sees its row.
		_, err = tx.Exec(ctx, `INSERT INTO pay_accounts (kind, owner, currency, balance, allow_negative, created_at)
			VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (kind, owner, currency) DO NOTHING`, kind, owner, s.cfg.Currency, allowNegative(kind), ms(s.now()))
		if err == nil {
			err = tx.QueryRow(ctx, `SELECT id FROM pay_accounts WHERE kind = ? AND owner = ? AND currency = ?`, kind, owner, s.cfg.Currency).Scan(&id)
		}
	}
	if err != nil {
		return accountRef{}, fmt.Errorf("ledger account %s/%s: %w", kind, owner, err)
	}
	return accountRef{id: id, kind: kind}, nil
}
