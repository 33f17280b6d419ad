package web

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/qr"
)

// The merchant server API: what a merchant's own servers call with the
// merchant's API key (created in the developer console). Every create
// (orders, refunds, payment-code charges) needs an Idempotency-Key header:
// the same key and body return the same result, the same key with another
// body is a conflict. See docs/payments.md.

// routesMerchantAPI: /api/v1/merchant/...
func (s *Server) routesMerchantAPI(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/merchant", s.merchantAPI(s.apiMerchantMe))
	s.api(mux, "POST /api/v1/merchant/orders", s.merchantAPI(s.apiMerchantCreateOrder))
	s.api(mux, "GET /api/v1/merchant/orders", s.merchantAPI(s.apiMerchantOrders))
	s.api(mux, "GET /api/v1/merchant/orders/{orderID}", s.merchantAPI(s.apiMerchantOrder))
	s.api(mux, "GET /api/v1/merchant/orders/by-number/{merchantOrderNo}", s.merchantAPI(s.apiMerchantOrderByNumber))
	s.api(mux, "POST /api/v1/merchant/orders/{orderID}/close", s.merchantAPI(s.apiMerchantCloseOrder))
	s.api(mux, "POST /api/v1/merchant/orders/{orderID}/code", s.merchantAPI(s.apiMerchantOrderCode))
	s.api(mux, "POST /api/v1/merchant/refunds", s.merchantAPI(s.apiMerchantRefund))
	s.api(mux, "GET /api/v1/merchant/refunds", s.merchantAPI(s.apiMerchantRefunds))
	s.api(mux, "GET /api/v1/merchant/refunds/{refundID}", s.merchantAPI(s.apiMerchantRefundGet))
	s.api(mux, "POST /api/v1/merchant/charges", s.merchantAPI(s.apiMerchantCharge))
	s.api(mux, "GET /api/v1/merchant/settlements/{date}", s.merchantAPI(s.apiMerchantSettlement))
	s.api(mux, "GET /api/v1/merchant/settlements/{date}/csv", s.merchantAPI(s.apiMerchantSettlementCSV))
	s.api(mux, "GET /api/v1/merchant/events", s.merchantAPI(s.apiMerchantEvents))
	s.api(mux, "POST /api/v1/merchant/events/{eventID}/redeliver", s.merchantAPI(s.apiMerchantRedeliver))
}

// merchantHandler is a handler of the merchant API: it runs for an
// authenticated merchant.
type merchantHandler func(w http.ResponseWriter, r *http.Request, m *pay.Merchant)

// merchantAPI authenticates the merchant's API key, from HTTP Basic
// (key id as the user name, secret as the password) or
// "Authorization: Bearer {key id}.{secret}", and runs h.
func (s *Server) merchantAPI(h merchantHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		keyID, secret, ok := merchantCredentials(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="OpenMini merchant API", charset="UTF-8"`)
			s.renderError(w, r, openmini.Errorf(openmini.EUNAUTHORIZED,
				`send the merchant API key as "Authorization: Bearer mk_….msk_…" or with HTTP Basic (key id as user, secret as password)`))
			return
		}
		m, err := s.pay.Authenticate(r.Context(), keyID, secret)
		if err != nil {
			if openmini.ErrorCode(err) == openmini.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Basic realm="OpenMini merchant API", charset="UTF-8"`)
			}
			s.renderError(w, r, err)
			return
		}
		h(w, r, m)
	}
}

// merchantCredentials reads a merchant key id and secret from a request.
func merchantCredentials(r *http.Request) (keyID, secret string, ok bool) {
	if id, sec, ok := r.BasicAuth(); ok {
		return id, sec, id != "" && sec != ""
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", "", false
	}
	keyID, secret, ok = strings.Cut(strings.TrimSpace(tok), ".")
	return keyID, secret, ok && keyID != "" && secret != ""
}

// idempotencyKey is the request's Idempotency-Key header; it writes a 400
// when there is none.
func (s *Server) idempotencyKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID,
			"the Idempotency-Key header is required: send a new unique key (e.g. a UUID) for each new request, and the same key when retrying it"))
		return "", false
	}
	return k, true
}

func (s *Server) apiMerchantMe(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	full, err := s.pay.Merchant(r.Context(), m.ID)
	s.respond(w, r, http.StatusOK, full, err)
}

// apiMerchantCreateOrder creates a payment order; the mini program then
// calls openmini.tradePay({orderId}), or the cashier shows its order code.
func (s *Server) apiMerchantCreateOrder(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	key, ok := s.idempotencyKey(w, r)
	if !ok {
		return
	}
	var req pay.OrderRequest
	if !s.decode(w, r, &req) {
		return
	}
	o, err := s.pay.CreateOrder(r.Context(), m.ID, key, req)
	s.respond(w, r, http.StatusCreated, o, err)
}

// OrderList is a page of orders, newest first; pass next as ?before= for
// the following page ("" at the end).
type OrderList struct {
	Orders []*pay.Order `json:"orders"`
	Next   string       `json:"next"`
}

var validOrderStates = []string{pay.StateCreated, pay.StatePaid, pay.StatePartlyRefunded, pay.StateRefunded, pay.StateClosed}

func (s *Server) apiMerchantOrders(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	limit, before, err := pageQuery(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	q := pay.OrderQuery{MerchantID: m.ID, Limit: limit, Before: before, State: r.URL.Query().Get("state"), Source: r.URL.Query().Get("source")}
	if q.State != "" && !slices.Contains(validOrderStates, q.State) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "state: %q is not one of %s", q.State, strings.Join(validOrderStates, ", ")))
		return
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := r.URL.Query().Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "%s: %q is not an RFC 3339 time like 2026-11-24T00:00:00+08:00", f.name, v))
				return
			}
			*f.dst = t
		}
	}
	list, next, err := s.pay.Orders(r.Context(), q)
	if list == nil {
		list = []*pay.Order{}
	}
	s.respond(w, r, http.StatusOK, OrderList{Orders: list, Next: next}, err)
}

func (s *Server) apiMerchantOrder(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	o, err := s.pay.MerchantOrder(r.Context(), m.ID, r.PathValue("orderID"), "")
	s.respond(w, r, http.StatusOK, o, err)
}

func (s *Server) apiMerchantOrderByNumber(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	o, err := s.pay.MerchantOrder(r.Context(), m.ID, "", r.PathValue("merchantOrderNo"))
	s.respond(w, r, http.StatusOK, o, err)
}

func (s *Server) apiMerchantCloseOrder(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	o, err := s.pay.CloseOrder(r.Context(), m.ID, r.PathValue("orderID"))
	s.respond(w, r, http.StatusOK, o, err)
}

// OrderCode is an order code: a QR code on the cashier's screen that
// leads the payer to /pay/order/{orderID}. It expires with the order.
type OrderCode struct {
	OrderID  string    `json:"order_id"`
	ShortURL string    `json:"short_url"` // what the code encodes
	ImageURL string    `json:"image_url"` // PNG; .svg instead of .png for SVG; ?size= in pixels
	PayURL   string    `json:"pay_url"`   // the payment page the code leads to
	Expires  time.Time `json:"expires_at"`
}

// apiMerchantOrderCode makes the QR code of an unpaid order, for the
// cashier's screen. Each call makes a new code.
func (s *Server) apiMerchantOrderCode(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	if s.qr == nil {
		s.renderError(w, r, openmini.Errorf(openmini.EUNAVAILABLE, "this platform has no QR code service"))
		return
	}
	o, err := s.pay.MerchantOrder(r.Context(), m.ID, r.PathValue("orderID"), "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if o.State != pay.StateCreated || !time.Now().Before(o.ExpiresAt) {
		s.renderError(w, r, openmini.Errorf(openmini.ECONFLICT, "order %s is %s: only an unpaid order gets a code", o.ID, o.State))
		return
	}
	c, err := s.qr.Create(r.Context(), qr.NewCode{OrgID: m.OrgID, AppID: o.AppID,
		Target: qr.Target{Kind: qr.KindOrder, OrderID: o.ID}, Label: m.Name, Sublabel: s.money().Money(o.Amount), ExpiresAt: o.ExpiresAt})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	short := s.qr.ShortURL(c)
	writeJSON(w, http.StatusCreated, OrderCode{OrderID: o.ID, ShortURL: short, ImageURL: short + ".png",
		PayURL: s.cfg.PublicURL + "/pay/order/" + o.ID, Expires: o.ExpiresAt})
}

func (s *Server) apiMerchantRefund(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	key, ok := s.idempotencyKey(w, r)
	if !ok {
		return
	}
	var req pay.RefundRequest
	if !s.decode(w, r, &req) {
		return
	}
	rf, err := s.pay.RefundOrder(r.Context(), m.ID, key, req)
	s.respond(w, r, http.StatusCreated, rf, err)
}

// RefundList is a page of refunds, newest first.
type RefundList struct {
	Refunds []*pay.Refund `json:"refunds"`
	Next    string        `json:"next"`
}

func (s *Server) apiMerchantRefunds(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	limit, before, err := pageQuery(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rs, next, err := s.pay.Refunds(r.Context(), pay.RefundQuery{MerchantID: m.ID, OrderID: r.URL.Query().Get("order_id"), Limit: limit, Before: before})
	if rs == nil {
		rs = []*pay.Refund{}
	}
	s.respond(w, r, http.StatusOK, RefundList{Refunds: rs, Next: next}, err)
}

func (s *Server) apiMerchantRefundGet(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	rf, err := s.pay.Refund(r.Context(), m.ID, r.PathValue("refundID"))
	s.respond(w, r, http.StatusOK, rf, err)
}

// apiMerchantCharge charges a payment code the cashier scanned from the
// customer's wallet.
func (s *Server) apiMerchantCharge(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	key, ok := s.idempotencyKey(w, r)
	if !ok {
		return
	}
	var req pay.ChargeRequest
	if !s.decode(w, r, &req) {
		return
	}
	o, err := s.pay.ChargePaymentCode(r.Context(), m.ID, key, req)
	s.respond(w, r, http.StatusCreated, o, err)
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// settlementDate checks the {date} of a settlement path.
func settlementDate(v string) (string, error) {
	if !dateRE.MatchString(v) {
		return "", openmini.Errorf(openmini.EINVALID, "date: %q is not a day like 2026-11-24", v)
	}
	if _, err := time.Parse("2006-01-02", v); err != nil {
		return "", openmini.Errorf(openmini.EINVALID, "date: %q is not a day of the calendar", v)
	}
	return v, nil
}

func (s *Server) apiMerchantSettlement(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	day, err := settlementDate(r.PathValue("date"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rep, err := s.pay.Settlement(r.Context(), m.ID, day)
	s.respond(w, r, http.StatusOK, rep, err)
}

func (s *Server) apiMerchantSettlementCSV(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	day, err := settlementDate(r.PathValue("date"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.writeSettlementCSV(w, r, m.ID, day)
}

// writeSettlementCSV sends a merchant's settlement report of one day as a
// CSV download (built in memory first, so an error is a clean error).
func (s *Server) writeSettlementCSV(w http.ResponseWriter, r *http.Request, merchantID int64, day string) {
	rep, err := s.pay.Settlement(r.Context(), merchantID, day)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="settlement-`+itoa(merchantID)+"-"+day+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// EventList is a page of webhook events, newest first.
type EventList struct {
	Events []pay.Event `json:"events"`
	Next   string      `json:"next"`
}

var validEventStates = []string{pay.EventPending, pay.EventDelivered, pay.EventFailed, pay.EventNoEndpoint}

func (s *Server) apiMerchantEvents(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	limit, before, err := pageQuery(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	q := pay.EventQuery{MerchantID: m.ID, OrderID: r.URL.Query().Get("order_id"), State: r.URL.Query().Get("state"), Limit: limit, Before: before}
	if q.State != "" && !slices.Contains(validEventStates, q.State) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "state: %q is not one of %s", q.State, strings.Join(validEventStates, ", ")))
		return
	}
	es, next, err := s.pay.Events(r.Context(), q)
	if es == nil {
		es = []pay.Event{}
	}
	s.respond(w, r, http.StatusOK, EventList{Events: es, Next: next}, err)
}

func (s *Server) apiMerchantRedeliver(w http.ResponseWriter, r *http.Request, m *pay.Merchant) {
	err := s.pay.Redeliver(r.Context(), m.ID, r.PathValue("eventID"))
	s.respond(w, r, http.StatusAccepted, map[string]any{"event_id": r.PathValue("eventID"), "queued": true}, err)
}
