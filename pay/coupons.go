package pay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Campaign is a platform-funded coupon campaign. Its budget moves from the
// marketing budget into the campaign's own ledger account when it is
// created; each coupon is paid from that account, whose balance can never
// go below zero, so a campaign cannot spend past its budget even under
// concurrent payments.
type Campaign struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Budget   int64  `json:"budget"`
	// Remaining is the campaign account's balance: Budget minus coupons
	// used plus coupon shares returned by refunds.
	Remaining int64 `json:"remaining"`
	// A coupon takes DiscountAmount off, or DiscountBP basis points of the
	// order amount (rounded down) capped at MaxDiscount (0 = no cap); never
	// more than the order amount.
	DiscountAmount int64 `json:"discount_amount,omitempty"`
	DiscountBP     int   `json:"discount_bp,omitempty"`
	MaxDiscount    int64 `json:"max_discount,omitempty"`
	// Rules: orders of at least MinSpend, at merchants of one of
	// Categories (empty = any), at most PerUserLimit coupons per user.
	MinSpend     int64     `json:"min_spend"`
	Categories   []string  `json:"categories,omitempty"`
	PerUserLimit int       `json:"per_user_limit"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	State        string    `json:"state"` // active or closed
	CreatedAt    time.Time `json:"created_at"`

	accountID int64
}

// CampaignSpec describes a new campaign; see Campaign for the fields.
type CampaignSpec struct {
	Name           string
	Budget         int64
	DiscountAmount int64
	DiscountBP     int
	MaxDiscount    int64
	MinSpend       int64
	Categories     []string
	PerUserLimit   int // default 1
	StartsAt       time.Time
	EndsAt         time.Time
}

func (s *Service) validateCampaign(c *CampaignSpec) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.PerUserLimit == 0 {
		c.PerUserLimit = 1
	}
	switch {
	case c.Name == "" || utf8.RuneCountInString(c.Name) > 100:
		return invalid("campaign name must be 1 to 100 characters")
	case c.Budget <= 0:
		return invalid("campaign budget must be positive")
	case c.Budget > 1000*s.cfg.MaxAmount:
		return invalid("campaign budget is too large")
	case (c.DiscountAmount > 0) == (c.DiscountBP > 0):
		return invalid("give exactly one of discount_amount and discount_bp")
	case c.DiscountAmount < 0 || c.DiscountAmount > s.cfg.MaxAmount:
		return invalid("discount_amount %d is out of range", c.DiscountAmount)
	case c.DiscountBP < 0 || c.DiscountBP > 10000:
		return invalid("discount_bp %d is outside 0..10000", c.DiscountBP)
	case c.MaxDiscount < 0 || c.MinSpend < 0:
		return invalid("max_discount and min_spend must not be negative")
	case c.PerUserLimit < 1 || c.PerUserLimit > 1000:
		return invalid("per_user_limit %d is outside 1..1000", c.PerUserLimit)
	case !c.EndsAt.After(c.StartsAt):
		return invalid("campaign ends before it starts")
	}
	for _, cat := range c.Categories {
		if !validCategory(cat) {
			return invalid("unknown merchant category %q in campaign rules", clip(cat, 32))
		}
	}
	return nil
}

// FundMarketing moves amount from the platform's capital into its
// marketing budget (the operator's decision to spend on coupons).
func (s *Service) FundMarketing(ctx context.Context, amount int64, memo string) error {
	if err := s.checkAmount(amount); err != nil {
		return err
	}
	capital, err := s.platformAccount(ctx, KindCapital)
	if err != nil {
		return internal("fund marketing", err)
	}
	marketing, err := s.platformAccount(ctx, KindMarketing)
	if err != nil {
		return internal("fund marketing", err)
	}
	err = s.tx(ctx, func(tx *sqldb.Tx) error {
		_, err := s.post(ctx, tx, entry{kind: "marketing_fund", memo: clip(memo, 200), at: s.now(), postings: []posting{
			{capital, -amount}, {marketing, amount},
		}})
		return err
	})
	if err != nil {
		return internal("fund marketing", err)
	}
	return nil
}

// CreateCampaign starts a coupon campaign and moves its budget out of the
// marketing budget. Errors: invalid naming the rule at fault; conflict when
// the marketing budget holds less than the campaign's budget.
func (s *Service) CreateCampaign(ctx context.Context, spec CampaignSpec) (*Campaign, error) {
	if err := s.validateCampaign(&spec); err != nil {
		return nil, err
	}
	marketing, err := s.platformAccount(ctx, KindMarketing)
	if err != nil {
		return nil, internal("create campaign", err)
	}
	now := s.now()
	var id int64
	err = s.tx(ctx, func(tx *sqldb.Tx) error {
		var acct int64
		if err := tx.QueryRow(ctx, `INSERT INTO pay_accounts (kind, owner, currency, balance, allow_negative, created_at)
			VALUES ('campaign', ?, ?, 0, 0, ?) RETURNING id`, newID("new"), s.cfg.Currency, ms(now)).Scan(&acct); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO pay_campaigns (name, currency, account_id, budget, discount_amount, discount_bp, max_discount,
				min_spend, categories, per_user_limit, starts_at, ends_at, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?) RETURNING id`,
			spec.Name, s.cfg.Currency, acct, spec.Budget, spec.DiscountAmount, spec.DiscountBP, spec.MaxDiscount,
			spec.MinSpend, strings.Join(spec.Categories, ","), spec.PerUserLimit, ms(spec.StartsAt), ms(spec.EndsAt), ms(now)).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE pay_accounts SET owner = ? WHERE id = ?`, strconv.FormatInt(id, 10), acct); err != nil {
			return err
		}
		_, err := s.post(ctx, tx, entry{kind: "campaign_fund", ref: "campaign:" + strconv.FormatInt(id, 10), memo: clip(spec.Name, 200), at: now,
			postings: []posting{{marketing, -spec.Budget}, {accountRef{acct, KindCampaign}, spec.Budget}}})
		var ie *insufficientError
		if errors.As(err, &ie) {
			var have int64
			_ = tx.QueryRow(ctx, `SELECT balance FROM pay_accounts WHERE id = ?`, marketing.id).Scan(&have)
			return conflict("the marketing budget holds %s, less than the campaign budget of %s; fund it first",
				FormatAmount(have, s.cfg.Currency), FormatAmount(spec.Budget, s.cfg.Currency))
		}
		return err
	})
	if err != nil {
		return nil, internal("create campaign", err)
	}
	return s.Campaign(ctx, id)
}

// CloseCampaign ends a campaign at once and returns what is left of its
// budget to the marketing budget. Closing twice is not an error.
func (s *Service) CloseCampaign(ctx context.Context, id int64) (*Campaign, error) {
	marketing, err := s.platformAccount(ctx, KindMarketing)
	if err != nil {
		return nil, internal("close campaign", err)
	}
	now := s.now()
	err = s.tx(ctx, func(tx *sqldb.Tx) error {
		c, err := s.loadCampaign(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE pay_campaigns SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'active'`, ms(now), id); err != nil {
			return err
		}
		if c.Remaining == 0 {
			return nil
		}
		_, err = s.post(ctx, tx, entry{kind: "campaign_close", ref: "campaign:" + strconv.FormatInt(id, 10), at: now,
			postings: []posting{{accountRef{c.accountID, KindCampaign}, -c.Remaining}, {marketing, c.Remaining}}})
		return err
	})
	if err != nil {
		return nil, internal("close campaign", err)
	}
	return s.Campaign(ctx, id)
}

const campaignColumns = `c.id, c.name, c.currency, c.account_id, c.budget, a.balance, c.discount_amount, c.discount_bp, c.max_discount,
	c.min_spend, c.categories, c.per_user_limit, c.starts_at, c.ends_at, c.state, c.created_at`

func scanCampaign(row interface{ Scan(...any) error }) (*Campaign, error) {
	var c Campaign
	var cats string
	var starts, ends, created int64
	err := row.Scan(&c.ID, &c.Name, &c.Currency, &c.accountID, &c.Budget, &c.Remaining, &c.DiscountAmount, &c.DiscountBP,
		&c.MaxDiscount, &c.MinSpend, &cats, &c.PerUserLimit, &starts, &ends, &c.State, &created)
	if err != nil {
		return nil, err
	}
	if cats != "" {
		c.Categories = strings.Split(cats, ",")
	}
	c.StartsAt, c.EndsAt, c.CreatedAt = fromMS(starts), fromMS(ends), fromMS(created)
	return &c, nil
}

func (s *Service) loadCampaign(ctx context.Context, q sqldb.Querier, id int64, lock bool) (*Campaign, error) {
	query := `SELECT ` + campaignColumns + ` FROM pay_campaigns c JOIN pay_accounts a ON a.id = c.account_id WHERE c.id = ?`
	if lock && s.db.Dialect() == sqldb.Postgres {
		query += " FOR UPDATE OF c"
	}
	c, err := scanCampaign(q.QueryRow(ctx, query, id))
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, notFound("campaign %d not found", id)
	}
	return c, err
}

// Campaign returns a campaign with its remaining budget. Errors: not_found.
func (s *Service) Campaign(ctx context.Context, id int64) (*Campaign, error) {
	c, err := s.loadCampaign(ctx, s.db, id, false)
	if err != nil {
		return nil, internal("get campaign", err)
	}
	return c, nil
}

// Campaigns lists all campaigns, newest first.
func (s *Service) Campaigns(ctx context.Context) ([]*Campaign, error) {
	rows, err := s.db.Query(ctx, `SELECT `+campaignColumns+` FROM pay_campaigns c JOIN pay_accounts a ON a.id = c.account_id ORDER BY c.id DESC`)
	if err != nil {
		return nil, internal("list campaigns", err)
	}
	defer rows.Close()
	out := []*Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, internal("list campaigns", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// discountFor is the coupon value of the campaign on an order amount.
func (c *Campaign) discountFor(amount int64) int64 {
	d := c.DiscountAmount
	if c.DiscountBP > 0 {
		d = mulDiv(amount, int64(c.DiscountBP), 10000)
		if c.MaxDiscount > 0 {
			d = min(d, c.MaxDiscount)
		}
	}
	return min(d, amount)
}

// applies reports whether the campaign's rules allow a coupon on an order
// of amount at merchant m at now, and its value (budget and per-user
// limits are checked by the caller).
func (c *Campaign) applies(m *Merchant, amount int64, now time.Time) (int64, bool) {
	if c.State != "active" || now.Before(c.StartsAt) || !now.Before(c.EndsAt) || amount < c.MinSpend {
		return 0, false
	}
	if len(c.Categories) > 0 && !slices.Contains(c.Categories, m.Category) {
		return 0, false
	}
	d := c.discountFor(amount)
	return d, d > 0
}

func (s *Service) usedByUser(ctx context.Context, q sqldb.Querier, campaignID, accountID int64) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM pay_coupon_redemptions WHERE campaign_id = ? AND account_id = ? AND released = 0`,
		campaignID, accountID).Scan(&n)
	return n, err
}

// bestCampaign returns the campaign giving the largest coupon on an order
// (ties: the one ending first), or nil. exclude lists campaigns not to
// consider.
func (s *Service) bestCampaign(ctx context.Context, q sqldb.Querier, m *Merchant, accountID, amount int64, now time.Time, exclude []int64) (*Campaign, int64, error) {
	rows, err := q.Query(ctx, `SELECT `+campaignColumns+` FROM pay_campaigns c JOIN pay_accounts a ON a.id = c.account_id
		WHERE c.state = 'active' AND c.currency = ? AND c.starts_at <= ? AND c.ends_at > ? AND c.min_spend <= ? AND a.balance > 0
		ORDER BY c.ends_at, c.id LIMIT 50`, s.cfg.Currency, ms(now), ms(now), amount)
	if err != nil {
		return nil, 0, err
	}
	var cands []*Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var best *Campaign
	var bestD int64
	for _, c := range cands {
		if slices.Contains(exclude, c.ID) {
			continue
		}
		d, ok := c.applies(m, amount, now)
		if !ok || d > c.Remaining || d <= bestD {
			continue
		}
		used, err := s.usedByUser(ctx, q, c.ID, accountID)
		if err != nil {
			return nil, 0, err
		}
		if used >= c.PerUserLimit {
			continue
		}
		best, bestD = c, d
	}
	return best, bestD, nil
}

// redeem checks a campaign inside a payment's transaction (the payer's
// wallet row is locked, so the per-user count cannot race) and records the
// coupon. The campaign account's debit happens in the payment's ledger
// entry, which fails if the budget ran out.
func (s *Service) redeem(ctx context.Context, tx *sqldb.Tx, campaignID int64, m *Merchant, o *Order, payer int64, now time.Time) (*Campaign, int64, error) {
	c, err := s.loadCampaign(ctx, tx, campaignID, false)
	if openmini.ErrorCode(err) == openmini.ENOTFOUND {
		return nil, 0, ErrCouponUnavailable
	}
	if err != nil {
		return nil, 0, err
	}
	d, ok := c.applies(m, o.Amount, now)
	if !ok || d > c.Remaining {
		return nil, 0, ErrCouponUnavailable
	}
	used, err := s.usedByUser(ctx, tx, c.ID, payer)
	if err != nil {
		return nil, 0, err
	}
	if used >= c.PerUserLimit {
		return nil, 0, ErrCouponUnavailable
	}
	if _, err := tx.Exec(ctx, `INSERT INTO pay_coupon_redemptions (campaign_id, order_id, account_id, amount, released, created_at)
		VALUES (?, ?, ?, ?, 0, ?)`, c.ID, o.ID, payer, d, ms(now)); err != nil {
		return nil, 0, fmt.Errorf("redeem coupon: %w", err)
	}
	return c, d, nil
}
