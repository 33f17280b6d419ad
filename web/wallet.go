package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/pay"
)

// The users' side of payments: host-styled pages (templates/host_pay.html)
// for the wallet, the payment code, the PIN and paying a merchant or an
// order from a scanned code, and the /host/api/pay endpoints behind
// openmini.tradePay (static/host-pay.js). Every one needs a signed-in
// user: pages send anonymous visitors to the host's sign-in page and back.

// routesWallet: /pay/... pages and /host/api/pay/... endpoints.
func (s *Server) routesWallet(mux *http.ServeMux) {
	user := s.requireUser
	mux.HandleFunc("GET /pay/wallet", user(s.handleWallet))
	mux.HandleFunc("POST /pay/wallet/topup", user(s.handleWalletTopUp))
	mux.HandleFunc("GET /pay/code", user(s.handlePayCodePage))
	mux.HandleFunc("GET /pay/pin", user(s.handlePINPage))
	mux.HandleFunc("POST /pay/pin", user(s.handlePINSave))
	mux.HandleFunc("POST /pay/pin/limit", user(s.handleNoPINLimit))
	mux.HandleFunc("GET /pay/merchant/{merchantID}", user(s.handleCollectPage))
	mux.HandleFunc("POST /pay/merchant/{merchantID}", user(s.handleCollectPost))
	mux.HandleFunc("GET /pay/order/{orderID}", user(s.handleOrderPage))
	mux.HandleFunc("POST /pay/order/{orderID}", user(s.handleOrderPay))

	mux.HandleFunc("POST /host/api/pay/quote", s.handleHostPayQuote)
	mux.HandleFunc("POST /host/api/pay/pay", s.handleHostPay)
	mux.HandleFunc("POST /host/api/pay/pin", s.handleHostPayPIN)
	mux.HandleFunc("POST /host/api/pay/code", s.handleHostPayCode)
}

// payPage is what templates/host_pay.html renders; Page picks the
// section.
type payPage struct {
	money
	Page    string // wallet, code, pin, collect, order, paid
	Notice  string
	Sandbox bool

	// wallet
	Wallet   *pay.Wallet
	Pending  []*pay.Order
	Txns     []txnView
	More     string // cursor of the next page of transactions
	TopUpKey string // idempotency key of the top-up form

	// code
	Code *PaymentCodeView

	// pin
	LimitText string

	// collect and order: the payment sheet and its form
	Merchant   *pay.Merchant
	Sheet      *pay.PaymentSheet
	AmountText string
	Note       string
	Key        string // idempotency key of a collection payment
	Slug       string // the QR code that led here (om_qr)
	Order      *pay.Order
	Paid       *pay.Order
	BackToApp  string // a launch link back to the order's mini program

	Tabs []hostTab // the host's bottom bar (wallet, code and PIN pages)
}

// txnView is one wallet movement as the wallet lists it.
type txnView struct {
	pay.Transaction
	Label string // English: Top-up, Payment, Refund
}

var txnLabels = map[string]string{"topup": "Top-up", "payment": "Payment", "refund": "Refund"}

// payNotices are the messages a redirect may show on a wallet page
// (?notice=key), so nobody can put words on our pages.
var payNotices = map[string]string{
	"topup":      "Added to your wallet.",
	"topup-wait": "Your top-up is on its way; it shows here once the provider confirms it.",
	"pin-set":    "Your payment PIN is set.",
	"pin-change": "Your payment PIN is changed.",
	"limit":      "Your no-PIN limit is saved.",
}

func (s *Server) payView(r *http.Request, title string, d *payPage) *view {
	d.money = s.money()
	d.Sandbox = s.paySandbox
	if n, ok := payNotices[r.URL.Query().Get("notice")]; ok && d.Notice == "" {
		d.Notice = n
	}
	if d.Page == "wallet" || d.Page == "code" || d.Page == "pin" {
		d.Tabs = s.bottomTabs("om-wallet")
	}
	return s.newView(r, title, d)
}

func (s *Server) renderPay(w http.ResponseWriter, r *http.Request, status int, v *view) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "host_pay", v)
}

// payFormError re-renders a payment page with err above it.
func (s *Server) payFormError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	w.Header().Set("Cache-Control", "no-store")
	s.renderFormError(w, r, "host_pay", v, err)
}

func newKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ------------------------------------------------------------ wallet

func (s *Server) loadWallet(r *http.Request, d *payPage) error {
	ctx := r.Context()
	me := sessionActor(r).AccountID
	var err error
	if d.Wallet, err = s.pay.Wallet(ctx, me); err != nil {
		return err
	}
	if d.Pending, err = s.pay.PendingOrders(ctx, me); err != nil {
		return err
	}
	txns, next, err := s.pay.Transactions(ctx, pay.TransactionQuery{AccountID: me, Limit: 30, Before: r.URL.Query().Get("before")})
	if err != nil {
		return err
	}
	for _, t := range txns {
		d.Txns = append(d.Txns, txnView{Transaction: t, Label: txnLabels[t.Kind]})
	}
	d.More = next
	if d.TopUpKey == "" {
		d.TopUpKey = newKey()
	}
	return nil
}

// handleWallet shows the balance, the sandbox top-up, orders waiting for
// the PIN and the latest movements.
func (s *Server) handleWallet(w http.ResponseWriter, r *http.Request) {
	d := &payPage{Page: "wallet"}
	if err := s.loadWallet(r, d); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.renderPay(w, r, http.StatusOK, s.payView(r, "Wallet", d))
}

// handleWalletTopUp tops the wallet up through the configured provider
// (the sandbox adds the money at once), once per form.
func (s *Server) handleWalletTopUp(w http.ResponseWriter, r *http.Request) {
	d := &payPage{Page: "wallet", AmountText: r.PostFormValue("amount"), TopUpKey: r.PostFormValue("key")}
	amount, err := s.formAmount("amount", d.AmountText, false)
	var t *pay.TopUp
	if err == nil {
		t, err = s.pay.TopUpWallet(r.Context(), sessionActor(r).AccountID, amount, d.TopUpKey)
	}
	if err != nil {
		if lerr := s.loadWallet(r, d); lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		s.payFormError(w, r, s.payView(r, "Wallet", d), err)
		return
	}
	notice := "topup"
	if t.State != pay.TopUpSucceeded {
		notice = "topup-wait"
	}
	http.Redirect(w, r, "/pay/wallet?notice="+notice, http.StatusSeeOther)
}

// ------------------------------------------------------------ payment code

// issueCode makes a new payment code for the signed-in user.
func (s *Server) issueCode(r *http.Request) (*PaymentCodeView, error) {
	pc, err := s.pay.IssuePaymentCode(r.Context(), sessionActor(r).AccountID)
	if err != nil {
		return nil, err
	}
	qrURL, bar, err := s.paymentCodeImages(pc.Code)
	if err != nil {
		return nil, err
	}
	ttl := int(time.Until(pc.ExpiresAt).Seconds())
	return &PaymentCodeView{Code: pc.Code, Grouped: groupDigits(pc.Code), ExpiresAt: pc.ExpiresAt.Format(time.RFC3339),
		TTL: max(ttl, 1), QR: qrURL, Barcode: bar}, nil
}

// handlePayCodePage shows a fresh payment code; the page's script asks
// for a new one about every 30 seconds while it is on screen.
func (s *Server) handlePayCodePage(w http.ResponseWriter, r *http.Request) {
	d := &payPage{Page: "code"}
	var err error
	if d.Wallet, err = s.pay.Wallet(r.Context(), sessionActor(r).AccountID); err != nil {
		s.renderError(w, r, err)
		return
	}
	if d.Code, err = s.issueCode(r); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.renderPay(w, r, http.StatusOK, s.payView(r, "Payment code", d))
}

// handleHostPayCode answers the payment code page's refresh.
func (s *Server) handleHostPayCode(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := accountFrom(r.Context()); !ok {
		s.payAPIError(w, r, errSignInFirst)
		return
	}
	c, err := s.issueCode(r)
	if err != nil {
		s.payAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// ------------------------------------------------------------ PIN

func (s *Server) pinPage(r *http.Request) (*payPage, error) {
	d := &payPage{Page: "pin"}
	var err error
	d.Wallet, err = s.pay.Wallet(r.Context(), sessionActor(r).AccountID)
	if err == nil {
		d.LimitText = pay.FormatAmount(d.Wallet.NoPINLimit, s.pay.Currency())
	}
	return d, err
}

func (s *Server) handlePINPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.pinPage(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.renderPay(w, r, http.StatusOK, s.payView(r, "Payment PIN", d))
}

// errPINMismatch: the two PINs typed differ.
var errPINMismatch = openmini.Errorf(openmini.EINVALID, "the two PINs differ; type the same six digits twice")

// handlePINSave sets the first PIN or changes it with the current one.
func (s *Server) handlePINSave(w http.ResponseWriter, r *http.Request) {
	pin, confirm := r.PostFormValue("pin"), r.PostFormValue("confirm")
	current := r.PostFormValue("current")
	var err error = errPINMismatch
	if pin == confirm {
		err = s.pay.SetPIN(r.Context(), sessionActor(r).AccountID, current, pin)
	}
	if err != nil {
		d, lerr := s.pinPage(r)
		if lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		s.payFormError(w, r, s.payView(r, "Payment PIN", d), err)
		return
	}
	notice := "pin-set"
	if current != "" {
		notice = "pin-change"
	}
	http.Redirect(w, r, "/pay/pin?notice="+notice, http.StatusSeeOther)
}

// handleNoPINLimit sets up to which amount the payment code charges
// without the PIN.
func (s *Server) handleNoPINLimit(w http.ResponseWriter, r *http.Request) {
	limitText := r.PostFormValue("limit")
	limit, err := int64(0), error(nil)
	if strings.TrimSpace(limitText) != "0" {
		limit, err = s.formAmount("limit", limitText, true)
	}
	if err == nil {
		err = s.pay.SetNoPINLimit(r.Context(), sessionActor(r).AccountID, r.PostFormValue("pin"), limit)
	}
	if err != nil {
		d, lerr := s.pinPage(r)
		if lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		d.LimitText = limitText
		s.payFormError(w, r, s.payView(r, "Payment PIN", d), err)
		return
	}
	http.Redirect(w, r, "/pay/pin?notice=limit", http.StatusSeeOther)
}

// ------------------------------------------------------------ host API for tradePay

// PayReason names why a payment did not go through, for host-pay.js: it
// decides what the sheet shows and which error code tradePay rejects
// with.
func payReason(err error, signedIn bool) string {
	switch {
	case errors.Is(err, pay.ErrPINNotSet):
		return "pin_not_set"
	case errors.Is(err, pay.ErrWrongPIN):
		return "wrong_pin"
	case errors.Is(err, pay.ErrInsufficientFunds):
		return "insufficient_funds"
	case errors.Is(err, pay.ErrCouponUnavailable):
		return "coupon_unavailable"
	}
	switch openmini.ErrorCode(err) {
	case openmini.EUNAUTHORIZED:
		if !signedIn {
			return "sign_in"
		}
	case openmini.ERATELIMITED:
		return "pin_locked"
	case openmini.ENOTFOUND:
		return "not_found"
	case openmini.ECONFLICT:
		return "not_payable"
	case openmini.EFORBIDDEN:
		if strings.Contains(errMessage(err), "not linked") {
			return "not_linked"
		}
		return "merchant_suspended"
	case openmini.EINVALID, openmini.ETOOLARGE:
		return "invalid"
	}
	return ""
}

// PayAPIError is an error of the /host/api/pay endpoints: the usual error
// with a reason (see payReason).
type PayAPIError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		Reason     string `json:"reason,omitempty"`
		RetryAfter int    `json:"retry_after,omitempty"`
	} `json:"error"`
}

func (s *Server) payAPIError(w http.ResponseWriter, r *http.Request, err error) {
	code := openmini.ErrorCode(err)
	if code == openmini.EINTERNAL || code == openmini.EUNAVAILABLE {
		s.renderError(w, r, err)
		return
	}
	_, signedIn := accountFrom(r.Context())
	var body PayAPIError
	body.Error.Code, body.Error.Message, body.Error.Reason = code, translate(requestLang(r), errMessage(err)), payReason(err, signedIn)
	var oe *openmini.Error
	if errors.As(err, &oe) && oe.RetryAfter > 0 {
		body.Error.RetryAfter = oe.RetryAfter
		w.Header().Set("Retry-After", strconv.Itoa(oe.RetryAfter))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, httpStatus(code), body)
}

// TradeQuoteRequest asks for the payment sheet of an order. App is the
// mini program that called tradePay: it may only ask for orders of the
// merchants it is linked to.
type TradeQuoteRequest struct {
	OrderID string `json:"order_id"`
	App     string `json:"app,omitempty"`
}

// TradeSheet is the payment sheet host-pay.js shows: the service's sheet
// with every amount also formatted for people.
type TradeSheet struct {
	*pay.PaymentSheet
	Display map[string]string `json:"display"` // amount, discount, user_pays, balance, item lines
	Items   []TradeItem       `json:"items"`
	CSS     string            `json:"css"` // the sheet's stylesheet
	Wallet  string            `json:"wallet_url"`
}

// TradeItem is an item line of the sheet.
type TradeItem struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	Total string `json:"total"`
}

func (s *Server) tradeSheet(sh *pay.PaymentSheet) TradeSheet {
	m := s.money()
	out := TradeSheet{PaymentSheet: sh, CSS: assetURL("host-pay.css"), Wallet: "/pay/wallet", Items: []TradeItem{},
		Display: map[string]string{"amount": m.Money(sh.Amount), "discount": m.Money(sh.Discount), "user_pays": m.Money(sh.UserPays), "balance": m.Money(sh.Balance)}}
	if sh.Order != nil {
		for _, it := range sh.Order.Items {
			out.Items = append(out.Items, TradeItem{Name: it.Name, Count: it.Quantity, Total: m.Money(it.Quantity * it.UnitPrice)})
		}
	}
	return out
}

// hostUser is the signed-in user of a /host/api/pay request, or a 401
// with reason sign_in.
func (s *Server) hostUser(w http.ResponseWriter, r *http.Request) (int64, bool) {
	a, ok := accountFrom(r.Context())
	if !ok {
		s.payAPIError(w, r, errSignInFirst)
		return 0, false
	}
	return a.ID, true
}

// handleHostPayQuote answers tradePay's first step: the sheet of an order.
func (s *Server) handleHostPayQuote(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var req TradeQuoteRequest
	if !s.decode(w, r, &req) {
		return
	}
	me, ok := s.hostUser(w, r)
	if !ok {
		return
	}
	sh, err := s.pay.QuoteOrder(r.Context(), me, req.OrderID)
	if err == nil {
		err = s.appMayCharge(r, req.App, sh.MerchantID)
	}
	if err != nil {
		s.payAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.tradeSheet(sh))
}

// appMayCharge checks that the mini program app (empty: none, as on the
// host's own pages) may ask the user to pay merchantID: the merchant must
// have linked it, so a mini program cannot present another business's
// order as its own.
func (s *Server) appMayCharge(r *http.Request, appID string, merchantID int64) error {
	if appID == "" {
		return nil
	}
	ms, err := s.pay.MerchantsForApp(r.Context(), appID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID == merchantID {
			return nil
		}
	}
	return openmini.Errorf(openmini.EFORBIDDEN, "this order belongs to a merchant that is not linked to the mini program %s", appID)
}

// TradePayRequest confirms a sheet with the PIN; App as in
// TradeQuoteRequest.
type TradePayRequest struct {
	OrderID    string `json:"order_id"`
	App        string `json:"app,omitempty"`
	PIN        string `json:"pin"`
	CampaignID int64  `json:"campaign_id,omitempty"`
}

// TradeResult is what tradePay resolves with.
type TradeResult struct {
	Status   string      `json:"status"` // paid
	OrderID  string      `json:"orderId"`
	Amount   int64       `json:"amount"`
	Discount int64       `json:"discount"`
	UserPaid int64       `json:"userPaid"`
	Currency string      `json:"currency"`
	PaidAt   time.Time   `json:"paidAt"`
	Order    *TradeOrder `json:"order"`
}

// TradeOrder is the paid order as tradePay gives it to the mini program,
// which runs in the user's browser: what the payment sheet showed the
// user. The merchant's fee and net, and its refund figures, stay with the
// merchant's API and webhooks.
type TradeOrder struct {
	ID              string     `json:"id"`
	MerchantOrderNo string     `json:"merchant_order_no,omitempty"`
	Description     string     `json:"description"`
	Items           []pay.Item `json:"items,omitempty"`
	Currency        string     `json:"currency"`
	Amount          int64      `json:"amount"`
	Discount        int64      `json:"discount"`
	UserPaid        int64      `json:"user_paid"`
	State           string     `json:"state"`
	CreatedAt       time.Time  `json:"created_at"`
	PaidAt          time.Time  `json:"paid_at,omitzero"`
}

func tradeResult(o *pay.Order) TradeResult {
	return TradeResult{Status: "paid", OrderID: o.ID, Amount: o.Amount, Discount: o.Discount, UserPaid: o.UserPaid,
		Currency: o.Currency, PaidAt: o.PaidAt, Order: &TradeOrder{
			ID: o.ID, MerchantOrderNo: o.MerchantOrderNo, Description: o.Description, Items: o.Items, Currency: o.Currency,
			Amount: o.Amount, Discount: o.Discount, UserPaid: o.UserPaid, State: o.State, CreatedAt: o.CreatedAt, PaidAt: o.PaidAt,
		}}
}

// handleHostPay pays an order with the PIN (tradePay's second step).
func (s *Server) handleHostPay(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var req TradePayRequest
	if !s.decode(w, r, &req) {
		return
	}
	me, ok := s.hostUser(w, r)
	if !ok {
		return
	}
	if req.App != "" {
		o, err := s.pay.Order(r.Context(), req.OrderID)
		if err == nil {
			err = s.appMayCharge(r, req.App, o.MerchantID)
		}
		if err != nil {
			s.payAPIError(w, r, err)
			return
		}
	}
	o, err := s.pay.PayOrder(r.Context(), pay.PayRequest{AccountID: me, OrderID: req.OrderID, PIN: req.PIN, CampaignID: req.CampaignID})
	if err != nil {
		s.payAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tradeResult(o))
}

// PINRequest sets the first payment PIN (current empty) or changes it.
type PINRequest struct {
	Current string `json:"current,omitempty"`
	PIN     string `json:"pin"`
}

func (s *Server) handleHostPayPIN(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var req PINRequest
	if !s.decode(w, r, &req) {
		return
	}
	me, ok := s.hostUser(w, r)
	if !ok {
		return
	}
	if err := s.pay.SetPIN(r.Context(), me, req.Current, req.PIN); err != nil {
		s.payAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"pin_set": true})
}

// backToApp is a launch link back to the mini program an order belongs to.
func backToApp(o *pay.Order) string {
	if o == nil || o.AppID == "" {
		return ""
	}
	return "/app/" + url.PathEscape(o.AppID) + "/"
}
