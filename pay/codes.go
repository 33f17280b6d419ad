package pay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// User-presented payment codes: the wallet shows a one-time code (as a QR
// code and a barcode) that the cashier's system scans and charges through
// the merchant API. A code is 18 digits starting with "28", valid for
// Config.CodeTTL (about a minute), bound to the user and usable once; the
// host asks for a new one every ~30 seconds. Only its SHA-256 is stored.
// Up to the user's no-PIN limit the charge is paid at once; above it the
// order waits, bound to the user, until they confirm it with the PIN in
// the wallet (PayOrder).

// PaymentCode is a code to show to a cashier.
type PaymentCode struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

func hashCode(code string) string {
	sum := sha256.Sum256([]byte("openmini-paycode:" + code))
	return hex.EncodeToString(sum[:])
}

// randomDigits returns n uniformly random decimal digits (n <= 18).
func randomDigits(n int) string {
	limit := uint64(1)
	for range n {
		limit *= 10
	}
	// Rejection sampling keeps every value equally likely.
	max := ^uint64(0) - ^uint64(0)%limit
	var b [8]byte
	for {
		rand.Read(b[:])
		v := binary.BigEndian.Uint64(b[:])
		if v < max {
			s := strconv.FormatUint(v%limit, 10)
			for len(s) < n {
				s = "0" + s
			}
			return s
		}
	}
}

// IssuePaymentCode returns a fresh one-time payment code for the user.
// Earlier codes stay valid until they expire. Errors: rate_limited past
// 240 codes an hour.
func (s *Service) IssuePaymentCode(ctx context.Context, accountID int64) (*PaymentCode, error) {
	if err := s.limiter.Hit(ctx, "pay-code:"+strconv.FormatInt(accountID, 10), 240, time.Hour); err != nil {
		return nil, err
	}
	if _, err := s.walletAccount(ctx, accountID); err != nil {
		return nil, internal("issue payment code", err)
	}
	now := s.now()
	pc := &PaymentCode{Code: "28" + randomDigits(16), ExpiresAt: now.Add(s.cfg.CodeTTL).UTC().Truncate(time.Millisecond)}
	_, err := s.db.Exec(ctx, `INSERT INTO pay_codes (code_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hashCode(pc.Code), accountID, ms(now), ms(pc.ExpiresAt))
	if errors.Is(err, sqldb.ErrForeignKey) {
		return nil, notFound("account %d not found", accountID)
	}
	if err != nil {
		return nil, internal("issue payment code", err)
	}
	return pc, nil
}

// ChargeRequest is a merchant's charge of a user's payment code.
type ChargeRequest struct {
	Code            string `json:"code"`
	Amount          int64  `json:"amount"`
	Description     string `json:"description"`
	MerchantOrderNo string `json:"merchant_order_no,omitempty"`
	AppID           string `json:"app_id,omitempty"`
	Items           []Item `json:"items,omitempty"`
}

var errUnknownCode = &openmini.Error{Code: openmini.ENOTFOUND, Message: "payment code not recognised, already used or expired; ask the customer to refresh it"}

// ChargePaymentCode charges a user-presented payment code for a merchant,
// under an Idempotency-Key. It creates an order bound to the code's user
// and consumes the code. When the amount is within the user's no-PIN
// limit the order is paid at once (with the best coupon the user is
// entitled to) and returned in state paid; otherwise it is returned in
// state created and the user confirms it with the PIN in the wallet (the
// merchant learns the outcome from the order.paid or order.closed webhook,
// or by querying the order). Errors: invalid, not_found for an unknown,
// used or expired code (rate_limited after many), ErrInsufficientFunds,
// conflict for a reused key.
func (s *Service) ChargePaymentCode(ctx context.Context, merchantID int64, key string, req ChargeRequest) (*Order, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if len(req.Code) != 18 || req.Code[:2] != "28" || !allDigits(req.Code) {
		return nil, invalid("%q is not a payment code (18 digits starting with 28)", clip(req.Code, 24))
	}
	hash := requestHash("charge_code", req)
	codeHash := hashCode(req.Code)
	if err := s.warmFeeAccounts(ctx); err != nil {
		return nil, internal("charge payment code", err)
	}
	var exclude []int64
	for {
		now := s.now()
		var id string
		err := s.tx(ctx, func(tx *sqldb.Tx) error {
			m, err := loadMerchant(ctx, tx, merchantID)
			if err != nil {
				return err
			}
			o, err := s.newOrder(ctx, tx, m, OrderRequest{Amount: req.Amount, Description: req.Description,
				MerchantOrderNo: req.MerchantOrderNo, AppID: req.AppID, Items: req.Items}, SourcePaymentCode, now)
			if err != nil {
				return err
			}
			prev, err := claimKey(ctx, tx, merchantScope(merchantID), key, hash, o.ID, now)
			if err != nil || prev != "" {
				id = prev
				return err
			}
			id = o.ID
			var payer int64
			err = tx.QueryRow(ctx, `UPDATE pay_codes SET used_at = ?, order_id = ? WHERE code_hash = ? AND used_at = 0 AND expires_at > ?
				RETURNING account_id`, ms(now), o.ID, codeHash, ms(now)).Scan(&payer)
			if errors.Is(err, sqldb.ErrNotFound) {
				return errUnknownCode
			}
			if err != nil {
				return err
			}
			o.PayerID = payer
			if err := insertOrder(ctx, tx, o); err != nil {
				return err
			}
			u, err := s.settings(ctx, tx, payer)
			if err != nil {
				return err
			}
			if o.Amount > u.noPINLimit {
				return nil // waits for the user's PIN
			}
			return s.chargeExcluding(ctx, tx, m, o, payer, -1, exclude, nil, now)
		})
		var ce errCampaignExhausted
		if errors.As(err, &ce) {
			exclude = append(exclude, ce.id) // the coupon ran out meanwhile: pay without it
			continue
		}
		if errors.Is(err, errUnknownCode) {
			if lerr := s.limiter.Hit(ctx, "pay-code-miss:"+strconv.FormatInt(merchantID, 10), 60, time.Minute); lerr != nil {
				return nil, lerr
			}
		}
		s.notify()
		if err != nil {
			return nil, internal("charge payment code", err)
		}
		return s.Order(ctx, id)
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
