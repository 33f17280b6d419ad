package pay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/pay/webhook"
	"github.com/openmini/openmini/sqldb"
)

// Event types sent to merchants. Every order and refund state change has
// one: order.paid, order.closed, order.partly_refunded, order.refunded and
// refund.succeeded (sent with the order's refund event).
const (
	EventOrderPaid           = "order.paid"
	EventOrderClosed         = "order.closed"
	EventOrderPartlyRefunded = "order.partly_refunded"
	EventOrderRefunded       = "order.refunded"
	EventRefundSucceeded     = "refund.succeeded"
)

// Event states.
const (
	EventPending    = "pending"     // queued or being retried
	EventDelivered  = "delivered"   // a delivery got a 2xx answer
	EventFailed     = "failed"      // retries exhausted; redeliver by hand
	EventNoEndpoint = "no_endpoint" // the merchant had no webhook URL
)

// Event is a webhook event: a state change of one order or refund, with
// the exact JSON body that is (re)delivered.
type Event struct {
	ID          string          `json:"id"`
	MerchantID  int64           `json:"merchant_id"`
	Type        string          `json:"type"`
	OrderID     string          `json:"order_id"`
	RefundID    string          `json:"refund_id,omitempty"`
	Payload     json.RawMessage `json:"payload"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt time.Time       `json:"delivered_at,omitzero"`
}

// Delivery is one attempt to deliver an event, for the console's log.
type Delivery struct {
	ID           int64     `json:"id"`
	EventID      string    `json:"event_id"`
	Attempt      int       `json:"attempt"`
	Manual       bool      `json:"manual"`
	URL          string    `json:"url"`
	Status       string    `json:"status"` // succeeded or failed
	ResponseCode int       `json:"response_code,omitempty"`
	Error        string    `json:"error,omitempty"`
	Duration     int64     `json:"duration_ms"`
	CreatedAt    time.Time `json:"created_at"`
}

// eventBody is what the merchant's server receives.
type eventBody struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created int64     `json:"created"` // Unix seconds
	Data    eventData `json:"data"`
}

type eventData struct {
	Order  *Order  `json:"order"`
	Refund *Refund `json:"refund,omitempty"`
}

type webhookJob struct {
	EventID string `json:"event_id"`
	Manual  bool   `json:"manual,omitempty"`
}

// emit records an event for a state change of o (and r) inside tx and, when
// the merchant has a webhook URL, queues its delivery in the same
// transaction: the event exists exactly when the change committed.
func (s *Service) emit(ctx context.Context, tx *sqldb.Tx, m *Merchant, typ string, o *Order, r *Refund, now time.Time) error {
	id, body, state, err := newEvent(m, typ, o, r, now)
	if err != nil {
		return err
	}
	var refundID any
	if r != nil {
		refundID = r.ID
	}
	_, err = tx.Exec(ctx, `INSERT INTO pay_events (id, merchant_id, type, order_id, refund_id, payload, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, m.ID, typ, o.ID, refundID, string(body), state, ms(now))
	if err != nil {
		return fmt.Errorf("event %s: %w", typ, err)
	}
	if state == EventPending {
		if _, err := jobs.Enqueue(ctx, tx, KindWebhook, webhookJob{EventID: id}, jobs.EnqueueOptions{MaxAttempts: s.webhookAttempts}); err != nil {
			return fmt.Errorf("event %s: %w", typ, err)
		}
	}
	return nil
}

// newEvent makes the ID, payload and first state of an event.
func newEvent(m *Merchant, typ string, o *Order, r *Refund, now time.Time) (id string, body []byte, state string, err error) {
	id = newID("evt")
	body, err = json.Marshal(eventBody{ID: id, Type: typ, Created: now.Unix(), Data: eventData{Order: o, Refund: r}})
	if err != nil {
		return "", nil, "", fmt.Errorf("event %s: %w", typ, err)
	}
	state = EventPending
	if m.WebhookURL == "" {
		state = EventNoEndpoint
	}
	return id, body, state, nil
}

// retryDelay is the wait after a failed delivery attempt (1-based): base
// doubled per attempt up to max, with up to 10% jitter either way.
func retryDelay(attempt int, base, max time.Duration) time.Duration {
	d := max
	if attempt < 40 {
		if x := base << (attempt - 1); x > 0 && x < max {
			d = x
		}
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

// retryAttempts is the number of attempts whose waits, even with the
// shortest jitter, add up to at least span.
func retryAttempts(base, max, span time.Duration) int {
	var total time.Duration
	n := 1
	for total < span {
		d := max
		if n < 40 {
			if x := base << (n - 1); x > 0 && x < max {
				d = x
			}
		}
		total += d - d/10
		n++
	}
	return n
}

func (s *Service) webhookBackoff(attempt int) time.Duration {
	return retryDelay(attempt, s.cfg.WebhookRetryBase, s.cfg.WebhookRetryMax)
}

// deliverJob is the KindWebhook handler: one delivery attempt of one event.
// It returns an error (so the queue retries with backoff) unless the
// merchant's server answered 2xx.
func (s *Service) deliverJob(ctx context.Context, j jobs.Job) error {
	var p webhookJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("webhook job: %w", err)
	}
	ok, err := s.deliver(ctx, p.EventID, p.Manual)
	if err != nil && !p.Manual && j.Attempt >= j.MaxAttempts {
		// The last automatic attempt: give up until someone redelivers.
		if _, uerr := s.db.Exec(context.WithoutCancel(ctx), `UPDATE pay_events SET state = 'failed' WHERE id = ? AND state = 'pending'`, p.EventID); uerr != nil {
			s.log.Error("mark webhook failed", "event_id", p.EventID, "err", uerr)
		}
	}
	if ok {
		return nil
	}
	return err
}

// deliver POSTs an event to the merchant's current webhook URL, signed with
// the current secret, and records the attempt. ok is true when the event
// needs no further attempts (delivered, or nowhere to deliver to).
func (s *Service) deliver(ctx context.Context, eventID string, manual bool) (ok bool, err error) {
	var merchantID int64
	var payload, typ string
	err = s.db.QueryRow(ctx, `SELECT merchant_id, type, payload FROM pay_events WHERE id = ?`, eventID).Scan(&merchantID, &typ, &payload)
	if errors.Is(err, sqldb.ErrNotFound) {
		return true, nil // nothing to deliver
	}
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", eventID, err)
	}
	m, err := loadMerchant(ctx, s.db, merchantID)
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", eventID, err)
	}
	if m.WebhookURL == "" {
		_, err := s.db.Exec(ctx, `UPDATE pay_events SET state = 'no_endpoint' WHERE id = ? AND state <> 'delivered'`, eventID)
		return err == nil, err
	}
	start := s.now()
	code, derr := s.send(ctx, m, eventID, typ, []byte(payload), start)
	elapsed := s.now().Sub(start).Milliseconds()
	status, msg := "succeeded", ""
	if derr != nil {
		status, msg = "failed", clip(derr.Error(), 500)
	}
	// Record with a context of its own: a timed-out attempt is logged too.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rerr := s.tx(rctx, func(tx *sqldb.Tx) error {
		var attempt int
		if err := tx.QueryRow(rctx, `UPDATE pay_events SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, eventID).Scan(&attempt); err != nil {
			return err
		}
		if _, err := tx.Exec(rctx, `INSERT INTO pay_webhook_deliveries (event_id, attempt, manual, url, status, response_code, error, duration_ms, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, eventID, attempt, boolInt(manual), m.WebhookURL, status, code, msg, elapsed, ms(start)); err != nil {
			return err
		}
		if derr == nil {
			_, err := tx.Exec(rctx, `UPDATE pay_events SET state = 'delivered', delivered_at = ? WHERE id = ?`, ms(s.now()), eventID)
			return err
		}
		return nil
	})
	if rerr != nil {
		s.log.Error("record webhook delivery", "event_id", eventID, "err", rerr)
	}
	if derr != nil {
		return false, fmt.Errorf("webhook %s to %s: %w", eventID, m.WebhookURL, derr)
	}
	return true, nil
}

// send sends one signed request and returns the response status.
func (s *Service) send(ctx context.Context, m *Merchant, eventID, typ string, body []byte, now time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "OpenMini-Webhooks/1")
	req.Header.Set(webhook.Header, webhook.Sign(m.webhookSecret, now, body))
	req.Header.Set("OpenMini-Event-Id", eventID)
	req.Header.Set("OpenMini-Event-Type", typ)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// Redeliver queues one more delivery of a merchant's event (the console's
// "redeliver" button), whatever its state. Errors: not_found.
func (s *Service) Redeliver(ctx context.Context, merchantID int64, eventID string) error {
	err := s.tx(ctx, func(tx *sqldb.Tx) error {
		var owner int64
		err := tx.QueryRow(ctx, `SELECT merchant_id FROM pay_events WHERE id = ?`, eventID).Scan(&owner)
		if errors.Is(err, sqldb.ErrNotFound) || (err == nil && owner != merchantID) {
			return notFound("event %q not found", clip(eventID, 40))
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE pay_events SET state = 'pending' WHERE id = ? AND state <> 'delivered'`, eventID); err != nil {
			return err
		}
		_, err = jobs.Enqueue(ctx, tx, KindWebhook, webhookJob{EventID: eventID, Manual: true}, jobs.EnqueueOptions{MaxAttempts: 1})
		return err
	})
	if err != nil {
		return internal("redeliver", err)
	}
	s.notify()
	return nil
}

// EventQuery selects a merchant's events, newest first.
type EventQuery struct {
	MerchantID int64
	OrderID    string // optional
	State      string // optional
	Limit      int    // 1..200, default 50
	Before     string // cursor from the previous page
}

// Events lists a merchant's webhook events and a cursor for the next page
// ("" at the end).
func (s *Service) Events(ctx context.Context, q EventQuery) ([]Event, string, error) {
	where := []string{"merchant_id = ?"}
	args := []any{q.MerchantID}
	if q.OrderID != "" {
		where, args = append(where, "order_id = ?"), append(args, q.OrderID)
	}
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, q.State)
	}
	limit, where, args, err := page(q.Limit, q.Before, where, args)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT id, merchant_id, type, order_id, COALESCE(refund_id, ''), payload, state, attempts, created_at, delivered_at
		FROM pay_events WHERE `+strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", internal("list events", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var payload string
		var c, d int64
		if err := rows.Scan(&e.ID, &e.MerchantID, &e.Type, &e.OrderID, &e.RefundID, &payload, &e.State, &e.Attempts, &c, &d); err != nil {
			return nil, "", internal("list events", err)
		}
		e.Payload = json.RawMessage(payload)
		e.CreatedAt, e.DeliveredAt = fromMS(c), fromMS(d)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("list events", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = cursor(last.CreatedAt, last.ID)
	}
	return out, next, nil
}

// Deliveries lists the delivery attempts of a merchant's event, oldest
// first. Errors: not_found.
func (s *Service) Deliveries(ctx context.Context, merchantID int64, eventID string) ([]Delivery, error) {
	var owner int64
	err := s.db.QueryRow(ctx, `SELECT merchant_id FROM pay_events WHERE id = ?`, eventID).Scan(&owner)
	if errors.Is(err, sqldb.ErrNotFound) || (err == nil && owner != merchantID) {
		return nil, notFound("event %q not found", clip(eventID, 40))
	}
	if err != nil {
		return nil, internal("deliveries", err)
	}
	rows, err := s.db.Query(ctx, `SELECT id, event_id, attempt, manual, url, status, response_code, error, duration_ms, created_at
		FROM pay_webhook_deliveries WHERE event_id = ? ORDER BY id`, eventID)
	if err != nil {
		return nil, internal("deliveries", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var manual int
		var c int64
		if err := rows.Scan(&d.ID, &d.EventID, &d.Attempt, &manual, &d.URL, &d.Status, &d.ResponseCode, &d.Error, &d.Duration, &c); err != nil {
			return nil, internal("deliveries", err)
		}
		d.Manual, d.CreatedAt = manual == 1, fromMS(c)
		out = append(out, d)
	}
	return out, rows.Err()
}

// validateWebhookURL accepts absolute https URLs (and http ones when
// Config.WebhookInsecure is set) without credentials or fragments.
func (s *Service) validateWebhookURL(raw string) error {
	if len(raw) > 2048 {
		return invalid("webhook URL is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return invalid("webhook URL %q is not an absolute URL like https://example.com/hooks", clip(raw, 80))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.cfg.WebhookInsecure:
	default:
		return invalid("webhook URL must start with https://")
	}
	if u.User != nil {
		return invalid("webhook URL must not contain a user name or password")
	}
	if u.Fragment != "" {
		return invalid("webhook URL must not contain a #fragment")
	}
	if !s.cfg.WebhookInsecure {
		if addr, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !publicAddr(addr) {
			return invalid("webhook URL points at a private or loopback address")
		}
		if h := strings.ToLower(u.Hostname()); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return invalid("webhook URL points at localhost")
		}
	}
	return nil
}

// publicAddr reports whether a webhook may connect to addr.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a) && !netip.MustParsePrefix("fc00::/7").Contains(a)
}

// newWebhookClient returns the client for deliveries: no redirects (a
// 3xx is a failed attempt) and, unless WebhookInsecure, a dialer that
// refuses private, loopback and link-local addresses after DNS resolution,
// so a merchant cannot aim webhooks at the platform's own network.
func newWebhookClient(cfg Config) *http.Client {
	rt := cfg.WebhookTransport
	if rt == nil {
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		if !cfg.WebhookInsecure {
			dialer.Control = func(network, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil || !publicAddr(ap.Addr()) {
					return fmt.Errorf("webhook: refusing to connect to non-public address %s", address)
				}
				return nil
			}
		}
		rt = &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: cfg.WebhookTimeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       cfg.WebhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
