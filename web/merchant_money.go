package web

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/qr"
)

// A merchant's money pages in the developer console: payments with the
// refund form, refunds, the daily settlement report with its CSV,
// collection codes and the webhook delivery log.

type paymentsData struct {
	merchantBase
	Orders []orderView
	State  string
	States []categoryOption
	Next   string
	Error  string
	// The refund form of one order, refilled after an error.
	RefundOrder, RefundAmount, RefundReason string
}

// orderView is an order row with what the page needs beside it.
type orderView struct {
	*pay.Order
	StateLabel string
	Refundable int64
	RefundKey  string // idempotency key of this row's refund form
}

func (s *Server) loadPayments(r *http.Request) (*paymentsData, error) {
	b, err := s.loadMerchantBase(r, "payments", org.RoleViewer)
	if err != nil {
		return nil, err
	}
	limit, before, err := pageQuery(r)
	if err != nil {
		return nil, err
	}
	d := &paymentsData{merchantBase: b, State: r.URL.Query().Get("state")}
	for _, st := range validOrderStates {
		d.States = append(d.States, categoryOption{st, orderStateLabel(st)})
	}
	if d.State != "" && !slices.Contains(validOrderStates, d.State) {
		d.State = ""
	}
	list, next, err := s.pay.Orders(r.Context(), pay.OrderQuery{MerchantID: b.Merchant.ID, State: d.State, Limit: limit, Before: before})
	if err != nil {
		return nil, err
	}
	for _, o := range list {
		d.Orders = append(d.Orders, orderView{Order: o, StateLabel: orderStateLabel(o.State), Refundable: o.Refundable(), RefundKey: newKey()})
	}
	d.Next = next
	return d, nil
}

// consoleMerchantPayments lists the merchant's orders, newest first, with
// a refund form on each paid one.
func (s *Server) consoleMerchantPayments(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadPayments(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_pay_payments", s.page(w, r, "Payment orders", d))
}

// consoleMerchantRefund refunds all of an order (amount left empty) or
// part of it. The form's idempotency key makes a double submit refund once.
func (s *Server) consoleMerchantRefund(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadPayments(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if !d.CanEdit {
		s.renderError(w, r, openmini.Errorf(openmini.EFORBIDDEN, "refunds need the developer or owner role in %s", d.Org.Name))
		return
	}
	ctx := r.Context()
	orderID := r.PathValue("orderID")
	d.RefundOrder, d.RefundAmount, d.RefundReason = orderID, r.PostFormValue("amount"), r.PostFormValue("reason")
	o, err := s.pay.MerchantOrder(ctx, d.Merchant.ID, orderID, "")
	var amount int64
	if err == nil {
		amount, err = s.formAmount("amount", d.RefundAmount, true)
	}
	if err == nil {
		if amount == 0 {
			amount = o.Refundable()
		}
		_, err = s.pay.RefundOrder(ctx, d.Merchant.ID, r.PostFormValue("key"), pay.RefundRequest{OrderID: orderID, Amount: amount, Reason: d.RefundReason})
	}
	if err != nil {
		s.renderFormError(w, r, "console_pay_payments", s.newView(r, "Payment orders", d), err)
		return
	}
	s.auditPay(r, d.Merchant.OrgID, "merchant.refund", map[string]any{"merchant": d.Merchant.ID, "order": orderID, "amount": amount, "reason": d.RefundReason})
	http.Redirect(w, r, "/console/merchants/"+itoa(d.Merchant.ID)+"/payments?notice=refunded", http.StatusSeeOther)
}

type refundsData struct {
	merchantBase
	Refunds []*pay.Refund
	Next    string
}

func (s *Server) consoleMerchantRefunds(w http.ResponseWriter, r *http.Request) {
	b, err := s.loadMerchantBase(r, "refunds", org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	limit, before, err := pageQuery(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d := &refundsData{merchantBase: b}
	d.Refunds, d.Next, err = s.pay.Refunds(r.Context(), pay.RefundQuery{MerchantID: b.Merchant.ID, Limit: limit, Before: before})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_pay_refunds", s.page(w, r, "Refunds", d))
}

type settlementData struct {
	merchantBase
	Date   string
	Report *pay.SettlementReport
	Prev   string
	Next   string
}

// consoleMerchantSettlement shows one day's settlement report (?date=,
// default today) with its reconciliation against the ledger.
func (s *Server) consoleMerchantSettlement(w http.ResponseWriter, r *http.Request) {
	b, err := s.loadMerchantBase(r, "settlements", org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d := &settlementData{merchantBase: b, Date: r.URL.Query().Get("date")}
	if d.Date == "" {
		d.Date = time.Now().In(s.payLocation).Format("2006-01-02")
	}
	if d.Date, err = settlementDate(d.Date); err != nil {
		s.renderError(w, r, err)
		return
	}
	day, _ := time.Parse("2006-01-02", d.Date)
	d.Prev, d.Next = day.AddDate(0, 0, -1).Format("2006-01-02"), day.AddDate(0, 0, 1).Format("2006-01-02")
	if d.Report, err = s.pay.Settlement(r.Context(), b.Merchant.ID, d.Date); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_pay_settlement", s.page(w, r, "Settlements", d))
}

func (s *Server) consoleMerchantSettlementCSV(w http.ResponseWriter, r *http.Request) {
	b, err := s.loadMerchantBase(r, "settlements", org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	day, err := settlementDate(r.PathValue("date"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.writeSettlementCSV(w, r, b.Merchant.ID, day)
}

// ------------------------------------------------------------ collection codes

type codesData struct {
	merchantBase
	Codes    []codeView
	Label    string
	Sublabel string
	NoQR     bool
}

type codeView struct {
	*qr.Code
	ShortURL string
	ImageURL string
	PayURL   string
}

// merchantCodes lists the organisation's collection codes of merchant m.
func (s *Server) merchantCodes(r *http.Request, m *pay.Merchant) ([]*qr.Code, error) {
	all, err := s.qr.List(r.Context(), qr.ListFilter{OrgID: m.OrgID, Kind: qr.KindCollect, Limit: qr.MaxBatch})
	if err != nil {
		return nil, err
	}
	var out []*qr.Code
	for _, c := range all {
		if c.Target.MerchantID == strconv.FormatInt(m.ID, 10) && c.DisabledAt.IsZero() {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Server) loadCodes(r *http.Request, min string) (*codesData, error) {
	b, err := s.loadMerchantBase(r, "codes", min)
	if err != nil {
		return nil, err
	}
	d := &codesData{merchantBase: b, Label: b.Merchant.Name, Sublabel: "Scan to pay · 扫码付款"}
	if s.qr == nil {
		d.NoQR = true
		return d, nil
	}
	codes, err := s.merchantCodes(r, b.Merchant)
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		short := s.qr.ShortURL(c)
		d.Codes = append(d.Codes, codeView{Code: c, ShortURL: short, ImageURL: "/s/" + c.Slug + ".png?size=360", PayURL: targetLink(c)})
	}
	return d, nil
}

// consoleMerchantCodes lists the merchant's collection codes (a static QR
// code at the counter: the payer types the amount) with their images.
func (s *Server) consoleMerchantCodes(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadCodes(r, org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_pay_codes", s.page(w, r, "Collection codes", d))
}

func (s *Server) consoleMerchantCodeCreate(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadCodes(r, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if d.NoQR {
		s.renderError(w, r, openmini.Errorf(openmini.EUNAVAILABLE, "this platform has no QR code service"))
		return
	}
	d.Label, d.Sublabel = r.PostFormValue("label"), r.PostFormValue("sublabel")
	_, err = s.qr.Create(r.Context(), qr.NewCode{OrgID: d.Merchant.OrgID, Label: d.Label, Sublabel: d.Sublabel,
		Target: qr.Target{Kind: qr.KindCollect, MerchantID: strconv.FormatInt(d.Merchant.ID, 10)}, CreatedBy: sessionActor(r).AccountID})
	if err != nil {
		s.renderFormError(w, r, "console_pay_codes", s.newView(r, "Collection codes", d), err)
		return
	}
	s.auditPay(r, d.Merchant.OrgID, "merchant.code.create", map[string]any{"merchant": d.Merchant.ID, "label": d.Label})
	http.Redirect(w, r, "/console/merchants/"+itoa(d.Merchant.ID)+"/codes?notice=code", http.StatusSeeOther)
}

// consoleMerchantCodesPDF is the printable kit of the merchant's
// collection codes: one A4 page per code, with its captions.
func (s *Server) consoleMerchantCodesPDF(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadCodes(r, org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if len(d.Codes) == 0 {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "%s has no collection codes yet", d.Merchant.Name))
		return
	}
	codes := make([]*qr.Code, len(d.Codes))
	for i, c := range d.Codes {
		codes[i] = c.Code
	}
	var buf bytes.Buffer
	if err := s.qr.WritePDF(r.Context(), &buf, codes, qr.PDFOptions{PerPage: 1, Title: d.Merchant.Name}); err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="collection-codes-`+itoa(d.Merchant.ID)+`.pdf"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(buf.Bytes())
}

// ------------------------------------------------------------ webhooks

type webhooksData struct {
	merchantBase
	Events     []pay.Event
	Next       string
	Event      string // the event whose deliveries are shown
	Deliveries []pay.Delivery
}

// consoleMerchantWebhooks is the delivery log: events newest first and,
// for ?event=, each delivery attempt.
func (s *Server) consoleMerchantWebhooks(w http.ResponseWriter, r *http.Request) {
	b, err := s.loadMerchantBase(r, "webhooks", org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	limit, before, err := pageQuery(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ctx := r.Context()
	d := &webhooksData{merchantBase: b, Event: r.URL.Query().Get("event")}
	if d.Events, d.Next, err = s.pay.Events(ctx, pay.EventQuery{MerchantID: b.Merchant.ID, Limit: limit, Before: before}); err != nil {
		s.renderError(w, r, err)
		return
	}
	if d.Event != "" {
		if d.Deliveries, err = s.pay.Deliveries(ctx, b.Merchant.ID, d.Event); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "console_pay_webhooks", s.page(w, r, "Webhooks", d))
}

func (s *Server) consoleMerchantRedeliver(w http.ResponseWriter, r *http.Request) {
	b, err := s.loadMerchantBase(r, "webhooks", org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ev := r.PathValue("eventID")
	if err := s.pay.Redeliver(r.Context(), b.Merchant.ID, ev); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/merchants/"+itoa(b.Merchant.ID)+"/webhooks?notice=redelivered&event="+ev, http.StatusSeeOther)
}
