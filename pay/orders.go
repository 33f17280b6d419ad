package pay

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Order states. created -> paid -> partly_refunded -> refunded, or
// created -> closed (expired or closed by the merchant).
const (
	StateCreated        = "created"
	StatePaid           = "paid"
	StatePartlyRefunded = "partly_refunded"
	StateRefunded       = "refunded"
	StateClosed         = "closed"
)

// Order sources.
const (
	SourceAPI         = "api"          // created by the merchant's server (mini program, order code)
	SourceCollection  = "collection"   // the user scanned the merchant's collection code and typed the amount
	SourcePaymentCode = "payment_code" // the merchant charged the user's payment code
)

// Item is one line of an order, shown on the payment sheet.
type Item struct {
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"` // minor units
}

// Order is a payment order. Amounts are minor units of Currency.
type Order struct {
	ID              string `json:"id"`
	MerchantID      int64  `json:"merchant_id"`
	AppID           string `json:"app_id,omitempty"`
	MerchantOrderNo string `json:"merchant_order_no,omitempty"`
	Source          string `json:"source"`
	Description     string `json:"description"`
	Items           []Item `json:"items,omitempty"`
	Currency        string `json:"currency"`
	Amount          int64  `json:"amount"`
	State           string `json:"state"`
	// PayerID is the user who paid (or, for a payment code awaiting the
	// PIN, the only user who may pay). Not sent to merchants.
	PayerID    int64 `json:"-"`
	CampaignID int64 `json:"campaign_id,omitempty"`
	// Discount is the platform-funded coupon; the user paid
	// UserPaid = Amount - Discount.
	Discount int64 `json:"discount"`
	UserPaid int64 `json:"user_paid"`
	// Fee is the platform fee; the merchant received Net = Amount - Fee.
	Fee              int64     `json:"fee"`
	Net              int64     `json:"net"`
	Refunded         int64     `json:"refunded"`
	RefundedDiscount int64     `json:"refunded_discount"`
	RefundedFee      int64     `json:"refunded_fee"`
	CreatedAt        time.Time `json:"created_at"`
	ExpiresAt        time.Time `json:"expires_at"`
	PaidAt           time.Time `json:"paid_at,omitzero"`
	ClosedAt         time.Time `json:"closed_at,omitzero"`
}

// copy returns a copy that shares nothing mutable with o.
func (o *Order) copy() *Order {
	c := *o
	c.Items = append([]Item(nil), o.Items...)
	return &c
}

// Refundable is what may still be refunded.
func (o *Order) Refundable() int64 {
	if o.State != StatePaid && o.State != StatePartlyRefunded {
		return 0
	}
	return o.Amount - o.Refunded
}

// OrderRequest is what a merchant's server sends to create an order.
type OrderRequest struct {
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency,omitempty"` // empty = the Service's currency
	Description     string `json:"description"`
	MerchantOrderNo string `json:"merchant_order_no,omitempty"` // the merchant's own reference, unique per merchant
	AppID           string `json:"app_id,omitempty"`            // a mini program linked to the merchant
	Items           []Item `json:"items,omitempty"`             // when given, they must add up to Amount
	ExpiresIn       int    `json:"expires_in,omitempty"`        // seconds, 60..86400; 0 = Config.OrderTTL
}

// validate checks a request and returns the order it describes.
func (s *Service) newOrder(ctx context.Context, q sqldb.Querier, m *Merchant, req OrderRequest, source string, now time.Time) (*Order, error) {
	if m.Status != MerchantActive {
		return nil, openmini.Errorf(openmini.EFORBIDDEN, "merchant %d is suspended and cannot take payments", m.ID)
	}
	if req.Currency != "" && !strings.EqualFold(req.Currency, s.cfg.Currency) {
		return nil, invalid("currency %q is not supported here; orders are in %s", clip(req.Currency, 8), s.cfg.Currency)
	}
	if err := s.checkAmount(req.Amount); err != nil {
		return nil, err
	}
	desc := strings.TrimSpace(req.Description)
	if utf8.RuneCountInString(desc) > 256 || !utf8.ValidString(desc) {
		return nil, invalid("description must be UTF-8 text of at most 256 characters")
	}
	if len(req.MerchantOrderNo) > 64 {
		return nil, invalid("merchant_order_no is longer than 64 characters")
	}
	for i := 0; i < len(req.MerchantOrderNo); i++ {
		if c := req.MerchantOrderNo[i]; c < 0x21 || c > 0x7e {
			return nil, invalid("merchant_order_no must be printable ASCII without spaces")
		}
	}
	if len(req.Items) > 100 {
		return nil, invalid("an order has at most 100 items, got %d", len(req.Items))
	}
	if len(req.Items) > 0 {
		var total int64
		for i, it := range req.Items {
			name := strings.TrimSpace(it.Name)
			switch {
			case name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name):
				return nil, invalid("items[%d].name must be 1 to 100 characters", i)
			case it.Quantity < 1 || it.Quantity > 10000:
				return nil, invalid("items[%d].quantity %d is outside 1..10000", i, it.Quantity)
			case it.UnitPrice < 0 || it.UnitPrice > s.cfg.MaxAmount:
				return nil, invalid("items[%d].unit_price %d is outside 0..%d", i, it.UnitPrice, s.cfg.MaxAmount)
			}
			total += it.Quantity * it.UnitPrice
			if total > s.cfg.MaxAmount {
				return nil, invalid("items add up to more than the order limit")
			}
		}
		if total != req.Amount {
			return nil, invalid("items add up to %s but amount is %s", FormatAmount(total, s.cfg.Currency), FormatAmount(req.Amount, s.cfg.Currency))
		}
	}
	ttl := s.cfg.OrderTTL
	if req.ExpiresIn != 0 {
		if req.ExpiresIn < 60 || req.ExpiresIn > 86400 {
			return nil, invalid("expires_in %d is outside 60..86400 seconds", req.ExpiresIn)
		}
		ttl = time.Duration(req.ExpiresIn) * time.Second
	}
	if req.AppID != "" {
		var one int
		err := q.QueryRow(ctx, `SELECT 1 FROM pay_merchant_apps WHERE merchant_id = ? AND app_id = ?`, m.ID, req.AppID).Scan(&one)
		if errors.Is(err, sqldb.ErrNotFound) {
			return nil, invalid("mini program %q is not linked to merchant %d", clip(req.AppID, 64), m.ID)
		}
		if err != nil {
			return nil, err
		}
	}
	now = now.UTC().Truncate(time.Millisecond)
	return &Order{
		ID:              newID("ord"),
		MerchantID:      m.ID,
		AppID:           req.AppID,
		MerchantOrderNo: req.MerchantOrderNo,
		Source:          source,
		Description:     desc,
		Items:           req.Items,
		Currency:        s.cfg.Currency,
		Amount:          req.Amount,
		State:           StateCreated,
		CreatedAt:       now,
		ExpiresAt:       now.Add(ttl),
	}, nil
}

func (s *Service) checkAmount(amount int64) error {
	if amount <= 0 {
		return invalid("amount must be a positive number of minor units (fen), got %d", amount)
	}
	if amount > s.cfg.MaxAmount {
		return &openmini.Error{Code: openmini.ETOOLARGE, Message: fmt.Sprintf("amount %s is above the limit of %s",
			FormatAmount(amount, s.cfg.Currency), FormatAmount(s.cfg.MaxAmount, s.cfg.Currency))}
	}
	return nil
}

func orderArgs(o *Order) []any {
	var items string
	if len(o.Items) > 0 {
		b, _ := json.Marshal(o.Items)
		items = string(b)
	}
	return []any{o.ID, o.MerchantID, nullString(o.AppID), nullString(o.MerchantOrderNo), o.Source, o.Description, items, o.Currency,
		o.Amount, o.State, nullInt(o.PayerID), ms(o.CreatedAt), ms(o.ExpiresAt), ms(o.CreatedAt)}
}

const insertOrderColumns = `pay_orders (id, merchant_id, app_id, merchant_order_no, source, description, items, currency,
	amount, state, payer_id, created_at, expires_at, updated_at)`

func insertOrder(ctx context.Context, tx *sqldb.Tx, o *Order) error {
	_, err := tx.Exec(ctx, `INSERT INTO `+insertOrderColumns+` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, orderArgs(o)...)
	return orderNoConflict(ctx, tx, o, err)
}

// orderNoConflict turns a unique violation on merchant_order_no into a
// conflict naming the order that has it.
func orderNoConflict(ctx context.Context, q sqldb.Querier, o *Order, err error) error {
	if errors.Is(err, sqldb.ErrUnique) && o.MerchantOrderNo != "" {
		var other string
		_ = q.QueryRow(ctx, `SELECT id FROM pay_orders WHERE merchant_id = ? AND merchant_order_no = ?`, o.MerchantID, o.MerchantOrderNo).Scan(&other)
		return conflict("merchant_order_no %q is already used by order %s", o.MerchantOrderNo, other)
	}
	return err
}

// createOrderPG claims the idempotency key and inserts the order in one
// PostgreSQL statement, only while the merchant is active. A concurrent
// request with the same key waits for this one (ON CONFLICT) and then
// finds its key; a missing or suspended merchant is reported after.
func (s *Service) createOrderPG(ctx context.Context, o *Order, scope, key, hash string, now time.Time) (*Order, error) {
	args := append([]any{scope, key, hash, o.ID, ms(now), o.MerchantID}, orderArgs(o)...)
	res, err := s.db.Exec(ctx, `WITH k AS (
			INSERT INTO pay_idempotency (scope, idem_key, request_hash, result_id, created_at)
			SELECT ?::text, ?::text, ?::text, ?::text, ?::bigint WHERE EXISTS (SELECT 1 FROM pay_merchants WHERE id = ? AND status = 'active')
			ON CONFLICT (scope, idem_key) DO NOTHING RETURNING 1)
		INSERT INTO `+insertOrderColumns+`
		SELECT ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::bigint, ?::bigint, ?::bigint, ?::bigint FROM k`,
		args...)
	if err != nil {
		return nil, orderNoConflict(ctx, s.db, o, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return o, nil
	}
	m, err := loadMerchant(ctx, s.db, o.MerchantID)
	if err != nil {
		return nil, err
	}
	if m.Status != MerchantActive {
		return nil, openmini.Errorf(openmini.EFORBIDDEN, "merchant %d is suspended and cannot take payments", m.ID)
	}
	var prevHash, prev string
	if err := s.db.QueryRow(ctx, `SELECT request_hash, result_id FROM pay_idempotency WHERE scope = ? AND idem_key = ?`, scope, key).Scan(&prevHash, &prev); err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	if prevHash != hash {
		return nil, conflict("Idempotency-Key %q was already used with a different request", key)
	}
	return s.loadOrder(ctx, s.db, prev, false)
}

// CreateOrder creates a payment order for a merchant's server, under the
// request's Idempotency-Key (see the idempotency rules in idempotency.go):
// retrying with the same key and body returns the same order in its
// current state. Errors: invalid naming the field, conflict for a reused key
// or merchant_order_no, forbidden for a suspended merchant.
func (s *Service) CreateOrder(ctx context.Context, merchantID int64, key string, req OrderRequest) (*Order, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	hash := requestHash("create_order", req)
	now := s.now()
	var id string
	var created *Order
	if s.db.Dialect() == sqldb.Postgres {
		// One statement, atomic without a transaction: the key and the order
		// are written together, or neither is, and only while the merchant
		// is active (checked in the statement; a refusal reads the merchant
		// to say why).
		o, err := s.newOrder(ctx, s.db, &Merchant{ID: merchantID, Status: MerchantActive}, req, SourceAPI, now)
		if err != nil {
			return nil, internal("create order", err)
		}
		o, err = s.createOrderPG(ctx, o, merchantScope(merchantID), key, hash, now)
		if err != nil {
			return nil, internal("create order", err)
		}
		return o, nil
	}
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return nil, err
	}
	o, err := s.newOrder(ctx, s.db, m, req, SourceAPI, now)
	if err != nil {
		return nil, internal("create order", err)
	}
	err = s.tx(ctx, func(tx *sqldb.Tx) error {
		created = nil
		prev, err := claimKey(ctx, tx, merchantScope(merchantID), key, hash, o.ID, now)
		if err != nil || prev != "" {
			id = prev
			return err
		}
		id, created = o.ID, o
		return insertOrder(ctx, tx, o)
	})
	if err != nil {
		return nil, internal("create order", err)
	}
	if created != nil {
		return created, nil
	}
	return s.Order(ctx, id) // a retry: the order as it is now
}

const orderColumns = `id, merchant_id, app_id, merchant_order_no, source, description, items, currency, amount, state,
	payer_id, campaign_id, discount, fee, refunded, refunded_discount, refunded_fee, created_at, expires_at, paid_at, closed_at`

// orderRow holds a pay_orders row being scanned.
type orderRow struct {
	o                              Order
	app, no                        sql.NullString
	payer, campaign                sql.NullInt64
	items                          string
	created, expires, paid, closed int64
}

func (r *orderRow) dest() []any {
	o := &r.o
	return []any{&o.ID, &o.MerchantID, &r.app, &r.no, &o.Source, &o.Description, &r.items, &o.Currency, &o.Amount, &o.State,
		&r.payer, &r.campaign, &o.Discount, &o.Fee, &o.Refunded, &o.RefundedDiscount, &o.RefundedFee, &r.created, &r.expires, &r.paid, &r.closed}
}

func (r *orderRow) order() (*Order, error) {
	o := r.o
	o.AppID, o.MerchantOrderNo = r.app.String, r.no.String
	o.PayerID, o.CampaignID = r.payer.Int64, r.campaign.Int64
	if r.items != "" {
		if err := json.Unmarshal([]byte(r.items), &o.Items); err != nil {
			return nil, fmt.Errorf("order %s items: %w", o.ID, err)
		}
	}
	o.CreatedAt, o.ExpiresAt, o.PaidAt, o.ClosedAt = fromMS(r.created), fromMS(r.expires), fromMS(r.paid), fromMS(r.closed)
	if !o.PaidAt.IsZero() {
		o.UserPaid = o.Amount - o.Discount
		o.Net = o.Amount - o.Fee
	}
	return &o, nil
}

func scanOrder(row interface{ Scan(...any) error }) (*Order, error) {
	var r orderRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.order()
}

// loadOrderForPayment reads an order with its merchant in one query
// through q; lock takes the order's row lock (PostgreSQL, in a
// transaction).
func (s *Service) loadOrderForPayment(ctx context.Context, q sqldb.Querier, id string, lock bool) (*Order, *Merchant, error) {
	query := `SELECT ` + prefixed("o.", orderColumns) + `, ` + prefixed("m.", merchantColumns) + `
		FROM pay_orders o JOIN pay_merchants m ON m.id = o.merchant_id WHERE o.id = ?`
	if lock && s.db.Dialect() == sqldb.Postgres {
		query += " FOR UPDATE OF o"
	}
	var r orderRow
	var mr merchantRow
	err := q.QueryRow(ctx, query, id).Scan(append(r.dest(), mr.dest()...)...)
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, nil, notFound("order %q not found", clip(id, 40))
	}
	if err != nil {
		return nil, nil, err
	}
	o, err := r.order()
	if err != nil {
		return nil, nil, err
	}
	return o, mr.merchant(), nil
}

// loadOrderAndPayer reads an order, its merchant and the payer's PIN
// settings in one query; sqldb.ErrNotFound when there is no such order.
func (s *Service) loadOrderAndPayer(ctx context.Context, orderID string, payer int64) (*Order, *Merchant, userSettings, error) {
	var r orderRow
	var mr merchantRow
	var u userSettings
	dest := append(append(r.dest(), mr.dest()...), &u.pinHash, &u.noPINLimit, &u.pinFailures)
	err := s.db.QueryRow(ctx, `SELECT `+prefixed("o.", orderColumns)+`, `+prefixed("m.", merchantColumns)+`,
		COALESCE(u.pin_hash, ''), COALESCE(u.no_pin_limit, 0), COALESCE(u.pin_failures, 0)
		FROM pay_orders o JOIN pay_merchants m ON m.id = o.merchant_id LEFT JOIN pay_users u ON u.account_id = ?
		WHERE o.id = ?`, payer, orderID).Scan(dest...)
	if err != nil {
		return nil, nil, u, err
	}
	o, err := r.order()
	if err != nil {
		return nil, nil, u, err
	}
	return o, mr.merchant(), u, nil
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// loadOrder reads an order through q; lock takes its row lock (inside a
// transaction on PostgreSQL).
func (s *Service) loadOrder(ctx context.Context, q sqldb.Querier, id string, lock bool) (*Order, error) {
	query := `SELECT ` + orderColumns + ` FROM pay_orders WHERE id = ?`
	if lock {
		query += s.forUpdate()
	}
	o, err := scanOrder(q.QueryRow(ctx, query, id))
	if errors.Is(err, sqldb.ErrNotFound) {
		return nil, notFound("order %q not found", clip(id, 40))
	}
	return o, err
}

// Order returns an order by id. Callers check who may see it (the merchant
// that owns it; any signed-in user for an unpaid order they are about to
// pay; the payer). Errors: not_found.
func (s *Service) Order(ctx context.Context, id string) (*Order, error) {
	o, err := s.loadOrder(ctx, s.db, id, false)
	if err != nil {
		return nil, internal("get order", err)
	}
	return o, nil
}

// MerchantOrder returns one of a merchant's orders by its id or, when
// id is empty, by the merchant's own order number. Errors: not_found.
func (s *Service) MerchantOrder(ctx context.Context, merchantID int64, id, merchantOrderNo string) (*Order, error) {
	var o *Order
	var err error
	if id != "" {
		o, err = s.loadOrder(ctx, s.db, id, false)
	} else {
		o, err = scanOrder(s.db.QueryRow(ctx, `SELECT `+orderColumns+` FROM pay_orders WHERE merchant_id = ? AND merchant_order_no = ?`,
			merchantID, merchantOrderNo))
		if errors.Is(err, sqldb.ErrNotFound) {
			err = notFound("no order with merchant_order_no %q", clip(merchantOrderNo, 64))
		}
	}
	if err != nil {
		return nil, internal("get order", err)
	}
	if o.MerchantID != merchantID {
		return nil, notFound("order %q not found", clip(id, 40))
	}
	return o, nil
}

// CloseOrder closes a merchant's unpaid order so it can no longer be paid.
// Closing a closed order is not an error. Errors: not_found, conflict when
// the order was paid already.
func (s *Service) CloseOrder(ctx context.Context, merchantID int64, orderID string) (*Order, error) {
	now := s.now()
	err := s.tx(ctx, func(tx *sqldb.Tx) error {
		o, err := s.loadOrder(ctx, tx, orderID, true)
		if err != nil {
			return err
		}
		if o.MerchantID != merchantID {
			return notFound("order %q not found", clip(orderID, 40))
		}
		switch o.State {
		case StateClosed:
			return nil
		case StateCreated:
			return s.closeOrder(ctx, tx, o, now)
		default:
			return conflict("order %s is %s and cannot be closed; refund it instead", o.ID, o.State)
		}
	})
	if err != nil {
		return nil, internal("close order", err)
	}
	s.notify()
	return s.Order(ctx, orderID)
}

// closeOrder moves a created order to closed and announces it.
func (s *Service) closeOrder(ctx context.Context, tx *sqldb.Tx, o *Order, now time.Time) error {
	res, err := tx.Exec(ctx, `UPDATE pay_orders SET state = 'closed', closed_at = ?, updated_at = ? WHERE id = ? AND state = 'created'`,
		ms(now), ms(now), o.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("order %s is no longer open", o.ID)
	}
	o.State, o.ClosedAt = StateClosed, now.UTC().Truncate(time.Millisecond)
	m, err := loadMerchant(ctx, tx, o.MerchantID)
	if err != nil {
		return err
	}
	return s.emit(ctx, tx, m, "order.closed", o, nil, now)
}

// ExpireOrders closes unpaid orders whose time ran out and returns how many
// it closed. The periodic job KindExpire calls it; it is safe on several
// replicas at once.
func (s *Service) ExpireOrders(ctx context.Context) (int, error) {
	total := 0
	for {
		now := s.now()
		rows, err := s.db.Query(ctx, `SELECT id FROM pay_orders WHERE state = 'created' AND expires_at <= ? ORDER BY expires_at LIMIT 200`, ms(now))
		if err != nil {
			return total, internal("expire orders", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return total, internal("expire orders", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			return total, nil
		}
		closed := 0
		err = s.tx(ctx, func(tx *sqldb.Tx) error {
			closed = 0
			for _, id := range ids {
				o, err := s.loadOrder(ctx, tx, id, true)
				if err != nil {
					return err
				}
				if o.State != StateCreated || o.ExpiresAt.After(now) {
					continue // paid or closed meanwhile
				}
				if err := s.closeOrder(ctx, tx, o, now); err != nil {
					return err
				}
				closed++
			}
			return nil
		})
		if err != nil {
			return total, internal("expire orders", err)
		}
		total += closed
		s.notify()
		if len(ids) < 200 {
			return total, nil
		}
	}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
