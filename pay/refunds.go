package pay

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini/sqldb"
)

// Refund is money returned for a paid order. Refunds are immediate (the
// wallet is ours), so every refund that exists has succeeded.
//
// How a refund is split (the rule merchants and the operator rely on):
// a refund of Amount, out of an order of A with coupon D and fee F, returns
// shares of the coupon and fee in proportion, computed on running totals so
// rounding never drifts. After refunds totalling R,
//
//	coupon returned so far = floor(D * R / A)   (back to the campaign's budget)
//	fee returned so far    = floor(F * R / A)   (back from the platform's fee income)
//
// and this refund's shares are the increase of those totals. The user gets
// Amount - coupon share into the wallet; the merchant's settlement account
// gives Amount - fee share. A full refund (R = A) therefore returns exactly
// D and F. A fully refunded order's coupon no longer counts against the
// user's per-campaign limit; a partly refunded one still does. Volume used
// from a fee waiver is not given back. If the campaign was closed, the
// coupon share goes to the marketing budget instead.
type Refund struct {
	ID           string    `json:"id"`
	OrderID      string    `json:"order_id"`
	MerchantID   int64     `json:"merchant_id"`
	Amount       int64     `json:"amount"`
	UserAmount   int64     `json:"user_amount"`   // back to the user's wallet
	CouponAmount int64     `json:"coupon_amount"` // back to the coupon campaign
	FeeAmount    int64     `json:"fee_amount"`    // platform fee returned to the merchant
	Reason       string    `json:"reason,omitempty"`
	State        string    `json:"state"`
	CreatedAt    time.Time `json:"created_at"`
}

// RefundRequest is a merchant's refund of (part of) an order.
type RefundRequest struct {
	OrderID string `json:"order_id"`
	Amount  int64  `json:"amount"` // minor units; at most what is left to refund
	Reason  string `json:"reason,omitempty"`
}

// RefundOrder refunds all or part of a merchant's paid order, under an
// Idempotency-Key: a retry with the same key and body returns the same
// refund. Concurrent refunds of one order are serialised on the order, so
// together they never exceed what was paid. Errors: invalid, not_found,
// conflict for an order that is not paid or an amount above what is left
// (the message says how much is left), or a reused key.
func (s *Service) RefundOrder(ctx context.Context, merchantID int64, key string, req RefundRequest) (*Refund, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := s.checkAmount(req.Amount); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(req.Reason) > 200 || !utf8.ValidString(req.Reason) {
		return nil, invalid("reason must be UTF-8 text of at most 200 characters")
	}
	marketing, err := s.platformAccount(ctx, KindMarketing)
	if err != nil {
		return nil, internal("refund", err)
	}
	hash := requestHash("refund", req)
	now := s.now()
	var id string
	err = s.tx(ctx, func(tx *sqldb.Tx) error {
		r := &Refund{ID: newID("rfd"), OrderID: req.OrderID, MerchantID: merchantID, Amount: req.Amount, Reason: req.Reason,
			State: "succeeded", CreatedAt: now.UTC().Truncate(time.Millisecond)}
		prev, err := claimKey(ctx, tx, merchantScope(merchantID), key, hash, r.ID, now)
		if err != nil || prev != "" {
			id = prev
			return err
		}
		id = r.ID
		o, err := s.loadOrder(ctx, tx, req.OrderID, true)
		if err != nil {
			return err
		}
		if o.MerchantID != merchantID {
			return notFound("order %q not found", clip(req.OrderID, 40))
		}
		if o.State != StatePaid && o.State != StatePartlyRefunded {
			if o.State == StateRefunded {
				return conflict("order %s is already fully refunded", o.ID)
			}
			return conflict("order %s is %s; only paid orders can be refunded", o.ID, o.State)
		}
		left := o.Amount - o.Refunded
		if req.Amount > left {
			return conflict("refund of %s is more than the %s left to refund on order %s",
				FormatAmount(req.Amount, o.Currency), FormatAmount(left, o.Currency), o.ID)
		}
		m, err := loadMerchant(ctx, tx, o.MerchantID)
		if err != nil {
			return err
		}
		total := o.Refunded + req.Amount
		couponTotal := mulDiv(o.Discount, total, o.Amount)
		feeTotal := mulDiv(o.Fee, total, o.Amount)
		r.CouponAmount = couponTotal - o.RefundedDiscount
		r.FeeAmount = feeTotal - o.RefundedFee
		r.UserAmount = req.Amount - r.CouponAmount
		state := StatePartlyRefunded
		if total == o.Amount {
			state = StateRefunded
		}
		res, err := tx.Exec(ctx, `UPDATE pay_orders SET state = ?, refunded = ?, refunded_discount = ?, refunded_fee = ?, updated_at = ?
			WHERE id = ? AND refunded = ?`, state, total, couponTotal, feeTotal, ms(now), o.ID, o.Refunded)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return conflict("order %s changed during the refund; try again", o.ID)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pay_refunds (id, order_id, merchant_id, amount, user_amount, coupon_amount, fee_amount, reason, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'succeeded', ?)`, r.ID, o.ID, merchantID, r.Amount, r.UserAmount, r.CouponAmount, r.FeeAmount, r.Reason, ms(now)); err != nil {
			return err
		}
		o.State, o.Refunded, o.RefundedDiscount, o.RefundedFee = state, total, couponTotal, feeTotal
		if err := s.emit(ctx, tx, m, EventRefundSucceeded, o, r, now); err != nil {
			return err
		}
		evt := EventOrderPartlyRefunded
		if state == StateRefunded {
			evt = EventOrderRefunded
		}
		if err := s.emit(ctx, tx, m, evt, o, r, now); err != nil {
			return err
		}
		wallet, err := s.accountTx(ctx, tx, KindWallet, idOwner(o.PayerID))
		if err != nil {
			return err
		}
		fees, err := s.accountTx(ctx, tx, KindFeeIncome, feeOwner(o.ID))
		if err != nil {
			return err
		}
		ps := []posting{
			{accountRef{m.AccountID, KindMerchant}, -(r.Amount - r.FeeAmount)},
			{fees, -r.FeeAmount},
			{wallet, r.UserAmount},
		}
		if r.CouponAmount > 0 {
			c, err := s.loadCampaign(ctx, tx, o.CampaignID, false)
			if err != nil {
				return err
			}
			target := accountRef{c.accountID, KindCampaign}
			if c.State != "active" {
				target = marketing
			}
			ps = append(ps, posting{target, r.CouponAmount})
			if state == StateRefunded {
				if _, err := tx.Exec(ctx, `UPDATE pay_coupon_redemptions SET released = 1 WHERE campaign_id = ? AND order_id = ?`, c.ID, o.ID); err != nil {
					return err
				}
			}
		}
		_, err = s.post(ctx, tx, entry{kind: "refund", ref: o.ID, memo: r.ID, at: now, postings: ps})
		if ie, ok := err.(*insufficientError); ok && ie.acct.kind == KindMerchant {
			return conflict("the merchant's settlement balance cannot cover this refund")
		}
		return err
	})
	s.notify()
	if err != nil {
		return nil, internal("refund", err)
	}
	return s.Refund(ctx, merchantID, id)
}

const refundColumns = `id, order_id, merchant_id, amount, user_amount, coupon_amount, fee_amount, reason, state, created_at`

func scanRefund(row interface{ Scan(...any) error }) (*Refund, error) {
	var r Refund
	var c int64
	if err := row.Scan(&r.ID, &r.OrderID, &r.MerchantID, &r.Amount, &r.UserAmount, &r.CouponAmount, &r.FeeAmount, &r.Reason, &r.State, &c); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMS(c)
	return &r, nil
}

// Refund returns one of a merchant's refunds. Errors: not_found.
func (s *Service) Refund(ctx context.Context, merchantID int64, id string) (*Refund, error) {
	r, err := scanRefund(s.db.QueryRow(ctx, `SELECT `+refundColumns+` FROM pay_refunds WHERE id = ? AND merchant_id = ?`, id, merchantID))
	if err != nil {
		if isNotFound(err) {
			return nil, notFound("refund %q not found", clip(id, 40))
		}
		return nil, internal("get refund", err)
	}
	return r, nil
}
