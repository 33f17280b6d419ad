package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/pay"
)

// Payments (package pay) on every surface:
//
//   - the merchant server API under /api/v1/merchant (pay_api.go),
//     authenticated with a merchant API key;
//   - the developer console's merchant pages under /console (merchant*.go),
//     for members of the merchant's organisation;
//   - the operator console's payment pages under /admin/pay (pay_admin.go);
//   - the users' side: openmini.tradePay in the host (static/host-pay.js
//     over the /host/api/pay endpoints), the wallet, payment code and PIN
//     pages, and the pages collection and order codes lead to,
//     /pay/merchant/{id} and /pay/order/{id} (wallet*.go, pay_checkout.go).
//
// Nothing is mounted without a payments service.

// PayOptions tell the web layer about the payments service's
// configuration.
type PayOptions struct {
	// Sandbox says top-ups go through pay.Sandbox: the wallet says that no
	// real money moves.
	Sandbox bool
	// Location is where a settlement day starts (pay.Config.Location);
	// nil is UTC.
	Location *time.Location
}

// routesPay lists every payments route.
func (s *Server) routesPay(mux *http.ServeMux) {
	if s.pay == nil {
		return
	}
	s.routesMerchantAPI(mux)
	s.routesMerchantConsole(mux)
	s.routesPayAdmin(mux)
	s.routesWallet(mux)
	s.hostScripts = append(s.hostScripts, "host-pay.js")
	s.hostTabs = append(s.hostTabs, hostTab{Href: "/pay/wallet", View: "om-wallet", Label: "Wallet"})
}

// money formats payments values for templates: minor units of the
// service's currency (with the currency's symbol when it has a common one,
// else its code), and the English words of categories and states, which
// templates then translate.
type money struct{ Currency string }

// Category is the English word of a merchant category.
func (money) Category(c string) string {
	if l, ok := merchantCategories[c]; ok {
		return l
	}
	return c
}

// EventState is the English words of a webhook event's state.
func (money) EventState(st string) string {
	switch st {
	case pay.EventPending:
		return "Pending"
	case pay.EventDelivered:
		return "Delivered"
	case pay.EventFailed:
		return "Failed"
	case pay.EventNoEndpoint:
		return "No webhook URL set"
	}
	return st
}

// State is the English words of an order state.
func (money) State(st string) string { return orderStateLabel(st) }

// Money is amount as "¥12.34" (or "-¥0.50"): the method templates call as
// {{$.Data.Money .Amount}}.
func (m money) Money(amount int64) string {
	neg := amount < 0
	if neg {
		amount = -amount
	}
	out := currencySymbol(m.Currency) + pay.FormatAmount(amount, m.Currency)
	if neg {
		out = "-" + out
	}
	return out
}

// ItemTotal is an order line's total: quantity × unit price.
func (m money) ItemTotal(it pay.Item) string { return m.Money(it.Quantity * it.UnitPrice) }

// Plain is amount without a symbol, "12.34", for form fields.
func (m money) Plain(amount int64) string { return pay.FormatAmount(amount, m.Currency) }

func currencySymbol(c string) string {
	switch c {
	case "CNY", "JPY":
		return "¥"
	case "USD", "HKD", "SGD", "TWD", "AUD", "CAD":
		return "$"
	case "EUR":
		return "€"
	case "GBP":
		return "£"
	}
	return c + " "
}

func (s *Server) money() money { return money{Currency: s.pay.Currency()} }

// maxTypedAmount bounds what ParseAmount accepts from a form; the
// service applies its own, lower, limit with its own message.
const maxTypedAmount = 1_000_000_000_000

// formAmount reads an amount people typed ("12.5", "¥12.50") in the
// service's currency; empty is 0 when optional.
func (s *Server) formAmount(field, v string, optional bool) (int64, error) {
	v = strings.TrimSpace(v)
	v = strings.TrimLeft(v, "¥$€£ ")
	v = strings.ReplaceAll(v, ",", "")
	if v == "" {
		if optional {
			return 0, nil
		}
		return 0, openmini.Errorf(openmini.EINVALID, "%s: enter an amount", field)
	}
	n, err := pay.ParseAmount(v, s.pay.Currency(), maxTypedAmount)
	if err != nil {
		return 0, openmini.Errorf(openmini.EINVALID, "%s: %s", field, errMessage(err))
	}
	return n, nil
}

// pageQuery reads ?limit= and ?before= of a list.
func pageQuery(r *http.Request) (limit int, before string, err error) {
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > 200 {
			return 0, "", openmini.Errorf(openmini.EINVALID, "limit: %q is not a number from 1 to 200", v)
		}
	}
	return limit, q.Get("before"), nil
}

// orderStates are the words for order states.
var orderStates = map[string]string{
	pay.StateCreated:        "Waiting for payment",
	pay.StatePaid:           "Paid",
	pay.StatePartlyRefunded: "Partly refunded",
	pay.StateRefunded:       "Refunded",
	pay.StateClosed:         "Closed",
}

// orderStateLabel is the English word for an order state.
func orderStateLabel(state string) string {
	if l, ok := orderStates[state]; ok {
		return l
	}
	return state
}

// shortTime is t in the page's time zone, to the minute.
func shortTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// auditPay records a change made on a payments page in the audit log
// (orgID 0 for the operator's own settings). The change has happened: a
// failure to record it is logged, not returned.
func (s *Server) auditPay(r *http.Request, orgID int64, action string, detail map[string]any) {
	if err := audit.Record(r.Context(), s.db, sessionActor(r), orgID, "", action, detail); err != nil {
		s.log.WarnContext(r.Context(), "pay: audit record failed", "action", action, "err", err)
	}
}
