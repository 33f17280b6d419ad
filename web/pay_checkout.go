package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/qr"
)

// The pages a scanned collection code (/pay/merchant/{id}) or order code
// (/pay/order/{id}) leads to. They are plain forms: the first step shows
// the payment sheet (merchant, amount, coupon, what the wallet pays, the
// balance), the second confirms it with the PIN (set on first use, typed
// twice). A collection payment carries an idempotency key made for its
// sheet, so a repeated submit pays once. ?om_qr= names the code that led
// here; a payment made through it is counted for the code.

// collectTitle is the page title of a collection payment.
const collectTitle = "Pay a shop"

func (s *Server) loadCollect(r *http.Request) (*payPage, error) {
	id, err := pathID(r, "merchantID")
	if err != nil {
		return nil, err
	}
	m, err := s.pay.Merchant(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if m.Status != pay.MerchantActive {
		return nil, openmini.Errorf(openmini.EFORBIDDEN, "this shop cannot take payments at the moment")
	}
	slug := r.FormValue("om_qr")
	if !qr.ValidSlug(slug) {
		slug = ""
	}
	return &payPage{Page: "collect", Merchant: m, Slug: slug}, nil
}

// handleCollectPage asks for the amount to pay the merchant.
func (s *Server) handleCollectPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadCollect(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.renderPay(w, r, http.StatusOK, s.payView(r, collectTitle, d))
}

// handleCollectPost is step two (step=quote: show the sheet for the
// amount typed) or three (step=pay: pay it with the PIN).
func (s *Server) handleCollectPost(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadCollect(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ctx := r.Context()
	me := sessionActor(r).AccountID
	d.AmountText, d.Note = r.PostFormValue("amount"), r.PostFormValue("note")
	v := s.payView(r, collectTitle, d)
	amount, err := s.formAmount("amount", d.AmountText, false)
	if err != nil {
		s.payFormError(w, r, v, err)
		return
	}
	quote := func() error {
		sh, qerr := s.pay.QuoteCollection(ctx, me, d.Merchant.ID, amount)
		d.Sheet = sh
		return qerr
	}
	if r.PostFormValue("step") != "pay" {
		if err := quote(); err != nil {
			s.payFormError(w, r, v, err)
			return
		}
		d.Key = newKey()
		s.renderPay(w, r, http.StatusOK, v)
		return
	}
	d.Key = r.PostFormValue("key")
	campaign, _ := strconv.ParseInt(r.PostFormValue("campaign_id"), 10, 64)
	pin, err := s.sheetPIN(r, me)
	var o *pay.Order
	if err == nil {
		o, err = s.pay.PayCollection(ctx, pay.CollectionRequest{AccountID: me, MerchantID: d.Merchant.ID, Amount: amount,
			Note: d.Note, PIN: pin, CampaignID: campaign, IdempotencyKey: d.Key})
	}
	if err != nil {
		if errors.Is(err, pay.ErrCouponUnavailable) || errors.Is(err, pay.ErrInsufficientFunds) {
			d.Key = newKey() // the sheet changes: a new payment
		}
		if qerr := quote(); qerr != nil {
			s.payFormError(w, r, v, qerr)
			return
		}
		s.payFormError(w, r, v, err)
		return
	}
	s.paid(w, r, d, o)
}

// sheetPIN is the PIN of a sheet's form. A user without a PIN types a new
// one twice (pin and confirm), and it is set first.
func (s *Server) sheetPIN(r *http.Request, me int64) (string, error) {
	pin := r.PostFormValue("pin")
	if r.PostFormValue("new_pin") != "1" {
		return pin, nil
	}
	if pin != r.PostFormValue("confirm") {
		return "", errPINMismatch
	}
	if err := s.pay.SetPIN(r.Context(), me, "", pin); err != nil {
		return "", err
	}
	return pin, nil
}

// paid shows the receipt and counts the payment for the code that led
// here.
func (s *Server) paid(w http.ResponseWriter, r *http.Request, d *payPage, o *pay.Order) {
	if d.Slug != "" && s.qr != nil {
		err := s.qr.RecordPayment(r.Context(), nil, d.Slug, qr.Payment{Ref: o.ID, AccountID: sessionActor(r).AccountID, Amount: o.Amount, Currency: o.Currency})
		if err != nil && openmini.ErrorCode(err) != openmini.ENOTFOUND {
			s.log.WarnContext(r.Context(), "pay: counting a payment for its QR code failed", "slug", d.Slug, "order", o.ID, "err", err)
		}
	}
	d.Page, d.Paid, d.BackToApp = "paid", o, backToApp(o)
	if d.Merchant == nil {
		d.Merchant, _ = s.pay.Merchant(r.Context(), o.MerchantID)
	}
	s.renderPay(w, r, http.StatusOK, s.payView(r, "Paid", d))
}

const orderTitle = "Pay an order"

// loadOrderSheet reads the sheet of the order in the path for the user.
// An order the user paid already shows its receipt instead (sheet nil).
func (s *Server) loadOrderSheet(r *http.Request) (*payPage, error) {
	ctx := r.Context()
	me := sessionActor(r).AccountID
	d := &payPage{Page: "order"}
	if slug := r.FormValue("om_qr"); qr.ValidSlug(slug) {
		d.Slug = slug
	}
	sh, err := s.pay.QuoteOrder(ctx, me, r.PathValue("orderID"))
	if err != nil {
		return d, err
	}
	d.Sheet, d.Order = sh, sh.Order
	d.Merchant, err = s.pay.Merchant(ctx, sh.MerchantID)
	return d, err
}

// handleOrderPage shows the sheet of an order code's order.
func (s *Server) handleOrderPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadOrderSheet(r)
	if err != nil {
		s.orderProblem(w, r, d, err)
		return
	}
	s.renderPay(w, r, http.StatusOK, s.payView(r, orderTitle, d))
}

// orderProblem explains an order that cannot be paid: a receipt when the
// user paid it already, else the reason.
func (s *Server) orderProblem(w http.ResponseWriter, r *http.Request, d *payPage, err error) {
	if openmini.ErrorCode(err) == openmini.ECONFLICT {
		if o, oerr := s.pay.Order(r.Context(), r.PathValue("orderID")); oerr == nil && !o.PaidAt.IsZero() {
			if paidBy, _ := s.payerOf(r, o); paidBy {
				d.Slug = "" // counted when it was paid
				s.paid(w, r, d, o)
				return
			}
		}
	}
	d.Page = "problem"
	s.payFormError(w, r, s.payView(r, orderTitle, d), err)
}

// payerOf reports whether the signed-in user paid o: their wallet's
// transactions name it.
func (s *Server) payerOf(r *http.Request, o *pay.Order) (bool, error) {
	list, _, err := s.pay.Orders(r.Context(), pay.OrderQuery{PayerID: sessionActor(r).AccountID, Since: o.CreatedAt, Limit: 200})
	if err != nil {
		return false, err
	}
	for _, x := range list {
		if x.ID == o.ID {
			return true, nil
		}
	}
	return false, nil
}

// handleOrderPay pays an order code's order with the PIN.
func (s *Server) handleOrderPay(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadOrderSheet(r)
	if err != nil {
		s.orderProblem(w, r, d, err)
		return
	}
	me := sessionActor(r).AccountID
	campaign, _ := strconv.ParseInt(r.PostFormValue("campaign_id"), 10, 64)
	pin, err := s.sheetPIN(r, me)
	var o *pay.Order
	if err == nil {
		o, err = s.pay.PayOrder(r.Context(), pay.PayRequest{AccountID: me, OrderID: d.Order.ID, PIN: pin, CampaignID: campaign})
	}
	if err != nil {
		if nd, qerr := s.loadOrderSheet(r); qerr == nil {
			d = nd
		}
		s.payFormError(w, r, s.payView(r, orderTitle, d), err)
		return
	}
	s.paid(w, r, d, o)
}
