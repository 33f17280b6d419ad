package pay

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/openmini/openmini/sqldb"
)

// SetFeeRate sets the platform fee for a merchant category in basis points
// (60 = 0.6%). It applies to payments from now on; paid orders keep the fee
// they were charged. Errors: invalid for an unknown category or a rate
// outside 0..10000.
func (s *Service) SetFeeRate(ctx context.Context, category string, bp int) error {
	if !validCategory(category) {
		return invalid("unknown merchant category %q", clip(category, 32))
	}
	if bp < 0 || bp > 10000 {
		return invalid("fee rate %d basis points is outside 0..10000", bp)
	}
	_, err := s.db.Exec(ctx, `INSERT INTO pay_fee_rates (category, fee_bp, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (category) DO UPDATE SET fee_bp = excluded.fee_bp, updated_at = excluded.updated_at`,
		category, bp, ms(s.now()))
	if err != nil {
		return internal("set fee rate", err)
	}
	s.fees.invalidate()
	return nil
}

// FeeRates returns the fee of every category in basis points, the
// configured default where no rate was set.
func (s *Service) FeeRates(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, c := range Categories() {
		out[c] = s.cfg.DefaultFeeBP
	}
	rows, err := s.db.Query(ctx, `SELECT category, fee_bp FROM pay_fee_rates`)
	if err != nil {
		return nil, internal("fee rates", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var bp int
		if err := rows.Scan(&c, &bp); err != nil {
			return nil, internal("fee rates", err)
		}
		out[c] = bp
	}
	return out, rows.Err()
}

// FeeWaiver is an operator's promotion for a merchant: no platform fee
// from StartsAt until EndsAt, on at most VolumeCap of order amounts (0 =
// no volume cap). An order that crosses the cap pays the fee on the part
// above it.
type FeeWaiver struct {
	ID         int64     `json:"id"`
	MerchantID int64     `json:"merchant_id"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	VolumeCap  int64     `json:"volume_cap"`
	VolumeUsed int64     `json:"volume_used"`
	Note       string    `json:"note"`
}

// GrantFeeWaiver adds a waiver. Errors: invalid (an empty period, a
// negative cap), not_found for an unknown merchant.
func (s *Service) GrantFeeWaiver(ctx context.Context, w FeeWaiver) (*FeeWaiver, error) {
	switch {
	case !w.EndsAt.After(w.StartsAt):
		return nil, invalid("fee waiver ends before it starts")
	case w.VolumeCap < 0:
		return nil, invalid("fee waiver volume cap is negative")
	case len(w.Note) > 200:
		return nil, invalid("fee waiver note is longer than 200 bytes")
	}
	if _, err := loadMerchant(ctx, s.db, w.MerchantID); err != nil {
		return nil, err
	}
	err := s.db.QueryRow(ctx, `INSERT INTO pay_fee_waivers (merchant_id, starts_at, ends_at, volume_cap, volume_used, note, created_at)
		VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id`, w.MerchantID, ms(w.StartsAt), ms(w.EndsAt), w.VolumeCap, w.Note, ms(s.now())).Scan(&w.ID)
	if err != nil {
		return nil, internal("grant fee waiver", err)
	}
	s.fees.invalidate()
	w.VolumeUsed = 0
	w.StartsAt, w.EndsAt = w.StartsAt.UTC().Truncate(time.Millisecond), w.EndsAt.UTC().Truncate(time.Millisecond)
	return &w, nil
}

// FeeWaivers lists a merchant's waivers, newest first.
func (s *Service) FeeWaivers(ctx context.Context, merchantID int64) ([]FeeWaiver, error) {
	rows, err := s.db.Query(ctx, `SELECT id, starts_at, ends_at, volume_cap, volume_used, note FROM pay_fee_waivers
		WHERE merchant_id = ? ORDER BY id DESC`, merchantID)
	if err != nil {
		return nil, internal("fee waivers", err)
	}
	defer rows.Close()
	out := []FeeWaiver{}
	for rows.Next() {
		w := FeeWaiver{MerchantID: merchantID}
		var a, b int64
		if err := rows.Scan(&w.ID, &a, &b, &w.VolumeCap, &w.VolumeUsed, &w.Note); err != nil {
			return nil, internal("fee waivers", err)
		}
		w.StartsAt, w.EndsAt = fromMS(a), fromMS(b)
		out = append(out, w)
	}
	return out, rows.Err()
}

// quoteFee computes the fee of an order without changing anything: the
// category rate on the part of the amount no waiver covers. With lock (in a
// payment's transaction on PostgreSQL) the waiver's row is locked and read
// again, so concurrent payments use up its volume one after the other.
func (s *Service) quoteFee(ctx context.Context, q sqldb.Querier, m *Merchant, amount int64, now time.Time, lock bool) (fee int64, waiverID, waived int64, err error) {
	var bp, id, cap, used sql.NullInt64
	err = q.QueryRow(ctx, `SELECT (SELECT fee_bp FROM pay_fee_rates WHERE category = ?), w.id, w.volume_cap, w.volume_used
		FROM (SELECT 1 AS one) x LEFT JOIN pay_fee_waivers w ON w.id = (
			SELECT id FROM pay_fee_waivers
			WHERE merchant_id = ? AND starts_at <= ? AND ends_at > ? AND (volume_cap = 0 OR volume_used < volume_cap)
			ORDER BY ends_at, id LIMIT 1)`, m.Category, m.ID, ms(now), ms(now)).Scan(&bp, &id, &cap, &used)
	if err != nil {
		return 0, 0, 0, err
	}
	rate := s.cfg.DefaultFeeBP
	if bp.Valid {
		rate = int(bp.Int64)
	}
	if id.Valid && lock && s.db.Dialect() == sqldb.Postgres {
		err := q.QueryRow(ctx, `SELECT volume_cap, volume_used FROM pay_fee_waivers WHERE id = ? FOR UPDATE`, id.Int64).Scan(&cap, &used)
		if err != nil {
			return 0, 0, 0, err
		}
		if cap.Int64 > 0 && used.Int64 >= cap.Int64 {
			id.Valid = false // used up meanwhile
		}
	}
	switch {
	case !id.Valid:
	case cap.Int64 == 0:
		waiverID, waived = id.Int64, amount
	default:
		waiverID, waived = id.Int64, min(amount, cap.Int64-used.Int64)
	}
	return feeFor(amount-waived, rate), waiverID, waived, nil
}

// chargeFee computes the fee inside a payment's transaction and uses up the
// waiver's volume.
func (s *Service) chargeFee(ctx context.Context, tx *sqldb.Tx, m *Merchant, amount int64, now time.Time) (int64, error) {
	fee, waiverID, waived, err := s.quoteFee(ctx, tx, m, amount, now, true)
	if err != nil || waiverID == 0 || waived == 0 {
		return fee, err
	}
	_, err = tx.Exec(ctx, `UPDATE pay_fee_waivers SET volume_used = volume_used + ? WHERE id = ?`, waived, waiverID)
	return fee, err
}

// feeCacheTTL bounds how long a replica pays with fee rates and waiver
// lists read before: a rate or waiver set on another replica applies there
// within this time (at once on the replica that set it).
const feeCacheTTL = 5 * time.Second

// feeCache keeps the category rates and the merchants that have a current
// or future waiver, so a payment without a waiver needs no fee query.
type feeCache struct {
	mu      sync.Mutex
	at      time.Time
	rates   map[string]int
	waivers map[int64]bool
}

func (c *feeCache) invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// cachedFee returns the fee for an order at merchant m, or waiverID -1 when
// the merchant has a waiver and the fee must be computed in the payment's
// transaction.
func (s *Service) cachedFee(ctx context.Context, m *Merchant, amount int64, now time.Time) (fee, waiverID int64, err error) {
	c := &s.fees
	c.mu.Lock()
	defer c.mu.Unlock()
	if age := now.Sub(c.at); c.rates == nil || age < 0 || age > feeCacheTTL {
		rates := map[string]int{}
		rows, err := s.db.Query(ctx, `SELECT category, fee_bp FROM pay_fee_rates`)
		if err != nil {
			return 0, 0, err
		}
		for rows.Next() {
			var cat string
			var bp int
			if err := rows.Scan(&cat, &bp); err != nil {
				rows.Close()
				return 0, 0, err
			}
			rates[cat] = bp
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, err
		}
		waivers := map[int64]bool{}
		rows, err = s.db.Query(ctx, `SELECT DISTINCT merchant_id FROM pay_fee_waivers WHERE ends_at > ? AND (volume_cap = 0 OR volume_used < volume_cap)`, ms(now))
		if err != nil {
			return 0, 0, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, 0, err
			}
			waivers[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, err
		}
		c.at, c.rates, c.waivers = now, rates, waivers
	}
	if c.waivers[m.ID] {
		return 0, -1, nil
	}
	bp, ok := c.rates[m.Category]
	if !ok {
		bp = s.cfg.DefaultFeeBP
	}
	return feeFor(amount, bp), 0, nil
}
