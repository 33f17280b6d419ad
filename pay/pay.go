package pay

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// PaymentSheet is what the host shows before the user confirms a payment:
// who is paid, the amount, the coupon the platform applies and what the
// user pays from the wallet.
type PaymentSheet struct {
	Order        *Order `json:"order,omitempty"` // nil for a collection payment, created on Pay
	MerchantID   int64  `json:"merchant_id"`
	MerchantName string `json:"merchant_name"`
	Category     string `json:"category"`
	Currency     string `json:"currency"`
	Amount       int64  `json:"amount"`
	Discount     int64  `json:"discount"`
	CampaignID   int64  `json:"campaign_id,omitempty"` // pass back in PayRequest/CollectionRequest to use the coupon
	CampaignName string `json:"campaign_name,omitempty"`
	UserPays     int64  `json:"user_pays"`
	Balance      int64  `json:"balance"`
	Sufficient   bool   `json:"sufficient"`
	PINSet       bool   `json:"pin_set"`
}

func (s *Service) sheet(ctx context.Context, accountID int64, m *Merchant, amount int64) (*PaymentSheet, error) {
	now := s.now()
	c, d, err := s.bestCampaign(ctx, s.db, m, accountID, amount, now, nil)
	if err != nil {
		return nil, internal("quote", err)
	}
	w, err := s.Wallet(ctx, accountID)
	if err != nil {
		return nil, err
	}
	sh := &PaymentSheet{MerchantID: m.ID, MerchantName: m.Name, Category: m.Category, Currency: s.cfg.Currency,
		Amount: amount, Discount: d, UserPays: amount - d, Balance: w.Balance, PINSet: w.PINSet}
	if c != nil {
		sh.CampaignID, sh.CampaignName = c.ID, c.Name
	}
	sh.Sufficient = sh.Balance >= sh.UserPays
	return sh, nil
}

// QuoteOrder prepares the payment sheet of an order for a user (tradePay
// in a mini program, or an order code). Errors: not_found (also for an
// order bound to another user), conflict when the order cannot be paid.
func (s *Service) QuoteOrder(ctx context.Context, accountID int64, orderID string) (*PaymentSheet, error) {
	o, err := s.Order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if o.State == StateCreated && o.PayerID != 0 && o.PayerID != accountID {
		return nil, notFound("order %q not found", clip(orderID, 40))
	}
	if err := payable(o, s.now()); err != nil {
		return nil, err
	}
	m, err := loadMerchant(ctx, s.db, o.MerchantID)
	if err != nil {
		return nil, err
	}
	sh, err := s.sheet(ctx, accountID, m, o.Amount)
	if err != nil {
		return nil, err
	}
	sh.Order = o
	return sh, nil
}

// QuoteCollection prepares the payment sheet for paying a merchant an
// amount the user typed after scanning its collection code.
func (s *Service) QuoteCollection(ctx context.Context, accountID, merchantID, amount int64) (*PaymentSheet, error) {
	if err := s.checkAmount(amount); err != nil {
		return nil, err
	}
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return nil, err
	}
	if m.Status != MerchantActive {
		return nil, openmini.Errorf(openmini.EFORBIDDEN, "merchant %d is suspended and cannot take payments", m.ID)
	}
	return s.sheet(ctx, accountID, m, amount)
}

// payable says why an order cannot be paid now, or nil.
func payable(o *Order, now time.Time) error {
	switch o.State {
	case StateCreated:
		if !now.Before(o.ExpiresAt) {
			return conflict("order %s expired at %s", o.ID, o.ExpiresAt.Format(time.RFC3339))
		}
		return nil
	case StateClosed:
		return conflict("order %s is closed", o.ID)
	default:
		return conflict("order %s is already paid", o.ID)
	}
}

// PayRequest is a user's confirmation of a payment sheet.
type PayRequest struct {
	AccountID  int64
	OrderID    string
	PIN        string
	CampaignID int64 // the sheet's coupon; 0 pays without one
}

// PayOrder pays an order from the user's wallet after checking the PIN.
// Paying an order this user already paid returns it unchanged, so a
// repeated tap is harmless. Errors: ErrPINNotSet, ErrWrongPIN, rate_limited
// (lockout), ErrInsufficientFunds, ErrCouponUnavailable, not_found, and
// conflict for a closed, expired or already paid order.
func (s *Service) PayOrder(ctx context.Context, r PayRequest) (*Order, error) {
	// One read for the order, its merchant and the payer's PIN settings
	// (outside any transaction: on SQLite the read pool runs beside the
	// single writer; the payment re-checks what can change).
	o, m, u, err := s.loadOrderAndPayer(ctx, r.OrderID, r.AccountID)
	if errors.Is(err, sqldb.ErrNotFound) {
		// No such order: the PIN is still checked first, as for any order.
		if err := s.verifyPIN(ctx, r.AccountID, r.PIN); err != nil {
			return nil, err
		}
		return nil, notFound("order %q not found", clip(r.OrderID, 40))
	}
	if err != nil {
		return nil, internal("pay order", err)
	}
	if err := s.checkPIN(ctx, r.AccountID, r.PIN, u); err != nil {
		return nil, err
	}
	return s.payLoaded(ctx, r, o, m)
}

// payOrder pays an order whose payer is already authenticated.
func (s *Service) payOrder(ctx context.Context, r PayRequest) (*Order, error) {
	o, m, err := s.loadOrderForPayment(ctx, s.db, r.OrderID, false)
	if err != nil {
		return nil, internal("pay order", err)
	}
	return s.payLoaded(ctx, r, o, m)
}

// payLoaded pays order o of merchant m, read before any transaction.
func (s *Service) payLoaded(ctx context.Context, r PayRequest, o *Order, m *Merchant) (*Order, error) {
	if err := s.warmAccounts(ctx, r.AccountID); err != nil {
		return nil, internal("pay order", err)
	}
	now := s.now()
	if o.State == StateCreated && o.PayerID != 0 && o.PayerID != r.AccountID {
		// Bound to another user's payment code.
		return nil, notFound("order %q not found", clip(r.OrderID, 40))
	}
	if !o.PaidAt.IsZero() && o.PayerID == r.AccountID {
		return o, nil // paid by this user already: a repeated tap
	}
	if err := payable(o, now); err != nil && o.State != StateCreated {
		return nil, err
	}
	fee, waiverID, err := s.cachedFee(ctx, m, o.Amount, now)
	if err != nil {
		return nil, internal("pay order", err)
	}
	if s.db.Dialect() == sqldb.Postgres && r.CampaignID == 0 && waiverID == 0 && m.Status == MerchantActive && o.State == StateCreated {
		// The common case on PostgreSQL: one statement, one round trip.
		paid, err := s.payOrderPG(ctx, m, o, r.AccountID, fee, now)
		if err == nil {
			s.notify()
			return paid, nil
		}
		if !errors.Is(err, errOrderNotOpen) {
			return nil, internal("pay order", err)
		}
		// Nothing was written; the transaction below says why.
	}
	var expired error
	var paid *Order
	err = s.tx(ctx, func(tx *sqldb.Tx) error {
		expired, paid = nil, nil
		c := o.copy()
		err := s.chargeExcluding(ctx, tx, m, c, r.AccountID, r.CampaignID, nil, &feeQuote{fee: fee, waiverID: waiverID}, now)
		if err == nil {
			paid = c
			return nil
		}
		if !errors.Is(err, errOrderNotOpen) {
			return err
		}
		// Nothing was written yet: say why the order could not be taken.
		cur, err := s.loadOrder(ctx, tx, o.ID, true)
		if err != nil {
			return err
		}
		switch {
		case !cur.PaidAt.IsZero() && cur.PayerID == r.AccountID:
			return nil // paid meanwhile by this user
		case cur.State == StateCreated && cur.PayerID != 0 && cur.PayerID != r.AccountID:
			return notFound("order %q not found", clip(r.OrderID, 40))
		case cur.State == StateCreated:
			if expired = payable(cur, now); expired == nil {
				return conflict("order %s changed while paying; try again", cur.ID)
			}
			// Expired but not yet closed by the job: close it now.
			return s.closeOrder(ctx, tx, cur, now)
		}
		return payable(cur, now)
	})
	if err == nil && expired != nil {
		err = expired
	}
	s.notify()
	if err != nil {
		return nil, internal("pay order", err)
	}
	if paid != nil {
		return paid, nil
	}
	return s.Order(ctx, r.OrderID)
}

// feeQuote is a fee computed before a payment's transaction; with no
// waiver involved (waiverID 0) it stands, otherwise the fee is computed
// again inside.
type feeQuote struct{ fee, waiverID int64 }

// CollectionRequest pays a merchant an amount the user typed after
// scanning its collection code. IdempotencyKey is generated by the host
// for each payment sheet, so a repeated submit pays once.
type CollectionRequest struct {
	AccountID      int64
	MerchantID     int64
	Amount         int64
	Note           string // shown to the merchant as the order's description
	PIN            string
	CampaignID     int64
	IdempotencyKey string
}

// PayCollection creates a collection order and pays it in one transaction:
// either both happen or neither. Errors: those of PayOrder, invalid for a
// bad amount or note, conflict for a reused idempotency key.
func (s *Service) PayCollection(ctx context.Context, r CollectionRequest) (*Order, error) {
	if err := validKey(r.IdempotencyKey); err != nil {
		return nil, err
	}
	if err := s.checkAmount(r.Amount); err != nil {
		return nil, err
	}
	if err := s.verifyPIN(ctx, r.AccountID, r.PIN); err != nil {
		return nil, err
	}
	if err := s.warmAccounts(ctx, r.AccountID); err != nil {
		return nil, internal("pay collection", err)
	}
	hash := requestHash("collection", struct {
		M, A, C int64
		N       string
	}{r.MerchantID, r.Amount, r.CampaignID, r.Note})
	now := s.now()
	var id string
	err := s.tx(ctx, func(tx *sqldb.Tx) error {
		m, err := loadMerchant(ctx, tx, r.MerchantID)
		if err != nil {
			return err
		}
		o, err := s.newOrder(ctx, tx, m, OrderRequest{Amount: r.Amount, Description: r.Note}, SourceCollection, now)
		if err != nil {
			return err
		}
		prev, err := claimKey(ctx, tx, userScope(r.AccountID), r.IdempotencyKey, hash, o.ID, now)
		if err != nil || prev != "" {
			id = prev
			return err
		}
		id = o.ID
		o.PayerID = r.AccountID
		if err := insertOrder(ctx, tx, o); err != nil {
			return err
		}
		return s.charge(ctx, tx, m, o, r.AccountID, r.CampaignID, now)
	})
	s.notify()
	if err != nil {
		return nil, internal("pay collection", err)
	}
	return s.Order(ctx, id)
}

// errOrderNotOpen says the order was no longer open when a payment tried
// to take it; the caller reads it again to say why.
var errOrderNotOpen = errors.New("order not open")

// errCampaignExhausted says the chosen campaign's budget could not cover
// the coupon when the ledger entry was posted.
type errCampaignExhausted struct{ id int64 }

func (e errCampaignExhausted) Error() string {
	return "campaign " + strconv.FormatInt(e.id, 10) + " budget exhausted"
}

// charge pays the locked, created order o from payer's wallet inside tx:
// the fee (using up a waiver), the coupon (campaignID, or the best one when
// campaignID is -1), the order's new state, the order.paid event and its
// webhook job, then the ledger entry. Any failure leaves the transaction to
// be rolled back.
func (s *Service) charge(ctx context.Context, tx *sqldb.Tx, m *Merchant, o *Order, payer, campaignID int64, now time.Time) error {
	return s.chargeExcluding(ctx, tx, m, o, payer, campaignID, nil, nil, now)
}

func (s *Service) chargeExcluding(ctx context.Context, tx *sqldb.Tx, m *Merchant, o *Order, payer, campaignID int64, exclude []int64, fq *feeQuote, now time.Time) error {
	if m.Status != MerchantActive {
		return openmini.Errorf(openmini.EFORBIDDEN, "merchant %d is suspended and cannot take payments", m.ID)
	}
	fees, err := s.accountTx(ctx, tx, KindFeeIncome, feeOwner(o.ID))
	if err != nil {
		return err
	}
	wallet, err := s.accountTx(ctx, tx, KindWallet, strconv.FormatInt(payer, 10))
	if err != nil {
		return err
	}
	// The order's row first (the lock every payment and refund of it takes
	// first), moved to paid only if it is still open, not expired and not
	// bound to another payer. The common case (fee known, no coupon) is
	// this one statement.
	known := fq != nil && fq.waiverID == 0
	var fee int64
	if known {
		fee = fq.fee
	}
	res, err := tx.Exec(ctx, `UPDATE pay_orders SET state = 'paid', payer_id = ?, fee = ?, paid_at = ?, updated_at = ?
		WHERE id = ? AND state = 'created' AND expires_at > ? AND (payer_id IS NULL OR payer_id = ?)`,
		payer, fee, ms(now), ms(now), o.ID, ms(now), payer)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errOrderNotOpen
	}
	if campaignID != 0 && s.db.Dialect() == sqldb.Postgres {
		// The payer's wallet row next: it serialises this user's coupon
		// payments, so the per-user count in redeem cannot race.
		var bal int64
		if err := tx.QueryRow(ctx, `SELECT balance FROM pay_accounts WHERE id = ? FOR UPDATE`, wallet.id).Scan(&bal); err != nil {
			return err
		}
	}
	if !known {
		if fee, err = s.chargeFee(ctx, tx, m, o.Amount, now); err != nil {
			return err
		}
	}
	var c *Campaign
	var discount int64
	switch {
	case campaignID > 0:
		c, discount, err = s.redeem(ctx, tx, campaignID, m, o, payer, now)
	case campaignID < 0:
		var best *Campaign
		best, _, err = s.bestCampaign(ctx, tx, m, payer, o.Amount, now, exclude)
		if err == nil && best != nil {
			c, discount, err = s.redeem(ctx, tx, best.ID, m, o, payer, now)
		}
	}
	if err != nil {
		return err
	}
	if !known || c != nil {
		var campaignRef any
		if c != nil {
			campaignRef = c.ID
		}
		if _, err := tx.Exec(ctx, `UPDATE pay_orders SET campaign_id = ?, discount = ?, fee = ? WHERE id = ?`, campaignRef, discount, fee, o.ID); err != nil {
			return err
		}
	}
	o.State, o.PayerID, o.Discount, o.Fee = StatePaid, payer, discount, fee
	o.PaidAt = now.UTC().Truncate(time.Millisecond)
	o.UserPaid, o.Net = o.Amount-discount, o.Amount-fee
	if c != nil {
		o.CampaignID = c.ID
	}
	if err := s.emit(ctx, tx, m, EventOrderPaid, o, nil, now); err != nil {
		return err
	}
	ps := []posting{
		{wallet, -(o.Amount - discount)},
		{accountRef{m.AccountID, KindMerchant}, o.Amount - fee},
		{fees, fee},
	}
	if c != nil {
		ps = append(ps, posting{accountRef{c.accountID, KindCampaign}, -discount})
	}
	_, err = s.post(ctx, tx, entry{kind: "payment", ref: o.ID, memo: clip(m.Name, 100), at: now, postings: ps})
	var ie *insufficientError
	if errors.As(err, &ie) {
		switch ie.acct.kind {
		case KindWallet:
			return ErrInsufficientFunds
		case KindCampaign:
			if campaignID < 0 {
				return errCampaignExhausted{c.ID}
			}
			return ErrCouponUnavailable
		}
	}
	return err
}

// warmAccounts makes sure the payer's wallet and the fee income rows
// exist (and are cached) before a payment's transaction, so it does not
// have to create them.
func (s *Service) warmAccounts(ctx context.Context, payer int64) error {
	if _, err := s.walletAccount(ctx, payer); err != nil {
		return err
	}
	return s.warmFeeAccounts(ctx)
}

func (s *Service) platformAccountTx(ctx context.Context, tx *sqldb.Tx, kind string) (accountRef, error) {
	return s.accountTx(ctx, tx, kind, "platform")
}
