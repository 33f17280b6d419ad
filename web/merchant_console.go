package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/pay"
)

// The developer console's merchant pages. A merchant belongs to an
// organisation: its viewers read payments, refunds, settlements and the
// webhook log; its developers and owners change settings, keys, codes
// and webhooks and issue refunds. Money pages are in merchant_money.go.

// routesMerchantConsole: /console/orgs/{orgID}/merchants and
// /console/merchants/{merchantID}/...
func (s *Server) routesMerchantConsole(mux *http.ServeMux) {
	acc := s.requireAccount
	mux.HandleFunc("GET /console/orgs/{orgID}/merchants", acc(s.consoleMerchants))
	mux.HandleFunc("POST /console/orgs/{orgID}/merchants", acc(s.consoleMerchantCreate))
	mux.HandleFunc("GET /console/merchants/{merchantID}", acc(s.consoleMerchant))
	mux.HandleFunc("POST /console/merchants/{merchantID}", acc(s.consoleMerchantSave))
	mux.HandleFunc("POST /console/merchants/{merchantID}/apps", acc(s.consoleMerchantLink))
	mux.HandleFunc("POST /console/merchants/{merchantID}/apps/{appID}/unlink", acc(s.consoleMerchantUnlink))
	mux.HandleFunc("POST /console/merchants/{merchantID}/keys", acc(s.consoleMerchantKeyCreate))
	mux.HandleFunc("POST /console/merchants/{merchantID}/keys/{keyID}/revoke", acc(s.consoleMerchantKeyRevoke))
	mux.HandleFunc("POST /console/merchants/{merchantID}/webhook", acc(s.consoleMerchantWebhook))
	mux.HandleFunc("POST /console/merchants/{merchantID}/webhook/rotate", acc(s.consoleMerchantWebhookRotate))
	mux.HandleFunc("GET /console/merchants/{merchantID}/payments", acc(s.consoleMerchantPayments))
	mux.HandleFunc("POST /console/merchants/{merchantID}/payments/{orderID}/refund", acc(s.consoleMerchantRefund))
	mux.HandleFunc("GET /console/merchants/{merchantID}/refunds", acc(s.consoleMerchantRefunds))
	mux.HandleFunc("GET /console/merchants/{merchantID}/settlements", acc(s.consoleMerchantSettlement))
	mux.HandleFunc("GET /console/merchants/{merchantID}/settlements/{date}/csv", acc(s.consoleMerchantSettlementCSV))
	mux.HandleFunc("GET /console/merchants/{merchantID}/codes", acc(s.consoleMerchantCodes))
	mux.HandleFunc("POST /console/merchants/{merchantID}/codes", acc(s.consoleMerchantCodeCreate))
	mux.HandleFunc("GET /console/merchants/{merchantID}/codes/kit.pdf", acc(s.consoleMerchantCodesPDF))
	mux.HandleFunc("GET /console/merchants/{merchantID}/webhooks", acc(s.consoleMerchantWebhooks))
	mux.HandleFunc("POST /console/merchants/{merchantID}/webhooks/{eventID}/redeliver", acc(s.consoleMerchantRedeliver))
}

// merchantTabs are a merchant's pages.
var merchantTabs = []tabDef{
	{"", "", "Merchant"},
	{"payments", "/payments", "Payment orders"},
	{"refunds", "/refunds", "Refunds"},
	{"settlements", "/settlements", "Settlements"},
	{"codes", "/codes", "Collection codes"},
	{"webhooks", "/webhooks", "Webhooks"},
}

// merchantCategories are the English words for merchant categories.
var merchantCategories = map[string]string{
	"restaurant": "Restaurant", "cafe": "Café", "supermarket": "Supermarket", "convenience": "Convenience store",
	"hotel": "Hotel", "retail": "Shop", "services": "Services", "entertainment": "Entertainment", "transport": "Transport",
	"education": "Education", "healthcare": "Healthcare", "online": "Online shop", "other": "Other",
}

type categoryOption struct{ Value, Label string }

func categoryOptions() []categoryOption {
	var out []categoryOption
	for _, c := range pay.Categories() {
		out = append(out, categoryOption{c, merchantCategories[c]})
	}
	return out
}

// merchantForm is the merchant details form, as typed.
type merchantForm struct {
	Name, Category, Lat, Lng, Address string
}

func merchantFormOf(m *pay.Merchant) merchantForm {
	return merchantForm{Name: m.Name, Category: m.Category, Lat: formatMicro(m.Latitude), Lng: formatMicro(m.Longitude), Address: m.Address}
}

// spec reads the form into a MerchantSpec; errors name the field.
func (f merchantForm) spec(orgID int64) (pay.MerchantSpec, error) {
	lat, err := parseMicro("latitude", f.Lat, 90)
	if err != nil {
		return pay.MerchantSpec{}, err
	}
	lng, err := parseMicro("longitude", f.Lng, 180)
	if err != nil {
		return pay.MerchantSpec{}, err
	}
	return pay.MerchantSpec{OrgID: orgID, Name: f.Name, Category: f.Category, Latitude: lat, Longitude: lng, Address: f.Address}, nil
}

func readMerchantForm(r *http.Request) merchantForm {
	return merchantForm{Name: r.PostFormValue("name"), Category: r.PostFormValue("category"),
		Lat: r.PostFormValue("latitude"), Lng: r.PostFormValue("longitude"), Address: r.PostFormValue("address")}
}

// parseMicro reads decimal degrees ("31.2304", "-0.1276") as integer
// microdegrees without floating point.
func parseMicro(field, v string, limit int64) (int64, error) {
	v = strings.TrimSpace(v)
	bad := openmini.Errorf(openmini.EINVALID, "%s: %q is not a number of degrees like 31.230416", field, v)
	if v == "" {
		return 0, openmini.Errorf(openmini.EINVALID, "%s: enter the location in decimal degrees, e.g. 31.230416", field)
	}
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || len(whole) > 3 || len(frac) > 6 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	if err != nil {
		return 0, bad
	}
	if n > limit*1_000_000 {
		return 0, openmini.Errorf(openmini.EINVALID, "%s: %s is beyond ±%d degrees", field, v, limit)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// formatMicro writes microdegrees as decimal degrees.
func formatMicro(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatInt(n/1_000_000, 10)
	if f := n % 1_000_000; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1_000_000+f, 10)[1:], "0")
	}
	return sign + s
}

// ------------------------------------------------------------ list and create

type merchantsData struct {
	money
	Org        org.Org
	Tabs       []navLink
	CanEdit    bool
	Merchants  []*pay.Merchant
	Categories []categoryOption
	Form       merchantForm
}

func (s *Server) loadMerchants(r *http.Request) (*merchantsData, error) {
	ctx := r.Context()
	id, err := pathID(r, "orgID")
	if err != nil {
		return nil, err
	}
	actor := sessionActor(r)
	if err := s.orgs.Require(ctx, actor, id, org.RoleViewer); err != nil {
		return nil, err
	}
	o, err := s.orgs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &merchantsData{money: s.money(), Org: o, Tabs: tabs("/console/orgs/"+itoa(id), "merchants", orgTabs),
		Categories: categoryOptions(), CanEdit: s.orgs.Require(ctx, actor, id, org.RoleDeveloper) == nil,
		Form: merchantForm{Category: "restaurant"}}
	d.Merchants, err = s.pay.Merchants(ctx, id)
	return d, err
}

// consoleMerchants lists an organisation's merchants, with the form to
// register one.
func (s *Server) consoleMerchants(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadMerchants(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_pay_merchants", s.page(w, r, "Merchants", d))
}

func (s *Server) consoleMerchantCreate(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadMerchants(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d.Form = readMerchantForm(r)
	err = s.orgs.Require(r.Context(), sessionActor(r), d.Org.ID, org.RoleDeveloper)
	var m *pay.Merchant
	if err == nil {
		var spec pay.MerchantSpec
		if spec, err = d.Form.spec(d.Org.ID); err == nil {
			m, err = s.pay.CreateMerchant(r.Context(), spec)
		}
	}
	if err != nil {
		s.renderFormError(w, r, "console_pay_merchants", s.newView(r, "Merchants", d), err)
		return
	}
	s.auditPay(r, d.Org.ID, "merchant.create", map[string]any{"merchant": m.ID, "name": m.Name, "category": m.Category})
	http.Redirect(w, r, "/console/merchants/"+itoa(m.ID)+"?notice=created", http.StatusSeeOther)
}

// ------------------------------------------------------------ one merchant

// merchantBase is what every page of a merchant has.
type merchantBase struct {
	money
	Merchant *pay.Merchant
	Org      org.Org
	Tabs     []navLink
	CanEdit  bool   // developer or owner of the organisation
	Notice   string // from ?notice=
}

// consoleNotices are the messages a merchant page may show after a
// change (?notice=key).
var consoleNotices = map[string]string{
	"created":     "Merchant registered. Create an API key for your server and set a webhook URL.",
	"saved":       "Merchant details saved.",
	"linked":      "Mini program linked.",
	"unlinked":    "Mini program unlinked.",
	"key-revoked": "API key revoked.",
	"webhook":     "Webhook URL saved.",
	"refunded":    "Refund issued.",
	"code":        "Collection code created.",
	"redelivered": "Redelivery queued.",
}

// loadMerchantBase reads the merchant in the path for a member of its
// organisation with at least role min.
func (s *Server) loadMerchantBase(r *http.Request, tab, min string) (merchantBase, error) {
	ctx := r.Context()
	id, err := pathID(r, "merchantID")
	if err != nil {
		return merchantBase{}, err
	}
	m, err := s.pay.Merchant(ctx, id)
	if err != nil {
		return merchantBase{}, err
	}
	actor := sessionActor(r)
	if err := s.orgs.Require(ctx, actor, m.OrgID, org.RoleViewer); err != nil {
		return merchantBase{}, openmini.Errorf(openmini.ENOTFOUND, "merchant %d not found", id)
	}
	if min != org.RoleViewer {
		if err := s.orgs.Require(ctx, actor, m.OrgID, min); err != nil {
			return merchantBase{}, err
		}
	}
	o, err := s.orgs.Get(ctx, m.OrgID)
	if err != nil {
		return merchantBase{}, err
	}
	b := merchantBase{money: s.money(), Merchant: m, Org: o, Tabs: tabs("/console/merchants/"+itoa(id), tab, merchantTabs),
		CanEdit: s.orgs.Require(ctx, actor, m.OrgID, org.RoleDeveloper) == nil}
	b.Notice = consoleNotices[r.URL.Query().Get("notice")]
	return b, nil
}

type merchantData struct {
	merchantBase
	Form          merchantForm
	Categories    []categoryOption
	OrgApps       []app.App // apps of the organisation that are not linked yet
	Keys          []pay.APIKey
	NewKey        *pay.APIKey // shown once
	WebhookURL    string
	WebhookSecret string // developers only
	NewSecret     bool   // the secret just changed
	Balance       int64
	CategoryLabel string
}

func (s *Server) loadMerchant(r *http.Request, min string) (*merchantData, error) {
	b, err := s.loadMerchantBase(r, "", min)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	m := b.Merchant
	d := &merchantData{merchantBase: b, Form: merchantFormOf(m), Categories: categoryOptions(), WebhookURL: m.WebhookURL,
		CategoryLabel: merchantCategories[m.Category]}
	if d.Balance, err = s.pay.MerchantBalance(ctx, m.ID); err != nil {
		return nil, err
	}
	apps, err := s.apps.ListForActor(ctx, sessionActor(r))
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if a.OrgID == m.OrgID && !slices.Contains(m.Apps, a.ID) {
			d.OrgApps = append(d.OrgApps, a)
		}
	}
	if b.CanEdit {
		if d.Keys, err = s.pay.APIKeys(ctx, m.ID); err != nil {
			return nil, err
		}
		if d.WebhookSecret, err = s.pay.WebhookSecret(ctx, m.ID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// consoleMerchant is a merchant's overview: details, linked mini
// programs, API keys and the webhook.
func (s *Server) consoleMerchant(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadMerchant(r, org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_pay_merchant", s.page(w, r, d.Merchant.Name, d))
}

// merchantChange runs a change that needs the developer role and then
// redirects back to the overview with a notice, or re-renders it with the
// error.
func (s *Server) merchantChange(w http.ResponseWriter, r *http.Request, notice, action string, change func(d *merchantData) error) {
	d, err := s.loadMerchant(r, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := change(d); err != nil {
		s.renderFormError(w, r, "console_pay_merchant", s.newView(r, d.Merchant.Name, d), err)
		return
	}
	detail := map[string]any{"merchant": d.Merchant.ID}
	for _, k := range []string{"app_id", "url"} {
		if v := r.PostFormValue(k); v != "" {
			detail[k] = v
		}
	}
	if v := r.PathValue("appID"); v != "" {
		detail["app_id"] = v
	}
	if v := r.PathValue("keyID"); v != "" {
		detail["key_id"] = v
	}
	s.auditPay(r, d.Merchant.OrgID, action, detail)
	http.Redirect(w, r, "/console/merchants/"+itoa(d.Merchant.ID)+"?notice="+notice, http.StatusSeeOther)
}

func (s *Server) consoleMerchantSave(w http.ResponseWriter, r *http.Request) {
	s.merchantChange(w, r, "saved", "merchant.update", func(d *merchantData) error {
		d.Form = readMerchantForm(r)
		spec, err := d.Form.spec(d.Merchant.OrgID)
		if err != nil {
			return err
		}
		_, err = s.pay.UpdateMerchant(r.Context(), d.Merchant.ID, spec)
		return err
	})
}

func (s *Server) consoleMerchantLink(w http.ResponseWriter, r *http.Request) {
	s.merchantChange(w, r, "linked", "merchant.app.link", func(d *merchantData) error {
		return s.pay.LinkApp(r.Context(), d.Merchant.ID, r.PostFormValue("app_id"))
	})
}

func (s *Server) consoleMerchantUnlink(w http.ResponseWriter, r *http.Request) {
	s.merchantChange(w, r, "unlinked", "merchant.app.unlink", func(d *merchantData) error {
		return s.pay.UnlinkApp(r.Context(), d.Merchant.ID, r.PathValue("appID"))
	})
}

// consoleMerchantKeyCreate issues an API key and shows its secret once.
func (s *Server) consoleMerchantKeyCreate(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadMerchant(r, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	k, err := s.pay.CreateAPIKey(r.Context(), d.Merchant.ID)
	if err != nil {
		s.renderFormError(w, r, "console_pay_merchant", s.newView(r, d.Merchant.Name, d), err)
		return
	}
	s.auditPay(r, d.Merchant.OrgID, "merchant.key.create", map[string]any{"merchant": d.Merchant.ID, "key_id": k.KeyID})
	if d, err = s.loadMerchant(r, org.RoleDeveloper); err != nil {
		s.renderError(w, r, err)
		return
	}
	d.NewKey = k
	s.render(w, r, http.StatusCreated, "console_pay_merchant", s.newView(r, d.Merchant.Name, d))
}

func (s *Server) consoleMerchantKeyRevoke(w http.ResponseWriter, r *http.Request) {
	s.merchantChange(w, r, "key-revoked", "merchant.key.revoke", func(d *merchantData) error {
		return s.pay.RevokeAPIKey(r.Context(), d.Merchant.ID, r.PathValue("keyID"))
	})
}

func (s *Server) consoleMerchantWebhook(w http.ResponseWriter, r *http.Request) {
	s.merchantChange(w, r, "webhook", "merchant.webhook.set", func(d *merchantData) error {
		d.WebhookURL = r.PostFormValue("url")
		_, err := s.pay.SetWebhook(r.Context(), d.Merchant.ID, d.WebhookURL)
		return err
	})
}

// consoleMerchantWebhookRotate replaces the signing secret and shows the
// new one.
func (s *Server) consoleMerchantWebhookRotate(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadMerchant(r, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if d.WebhookSecret, err = s.pay.RotateWebhookSecret(r.Context(), d.Merchant.ID); err != nil {
		s.renderFormError(w, r, "console_pay_merchant", s.newView(r, d.Merchant.Name, d), err)
		return
	}
	d.NewSecret = true
	s.auditPay(r, d.Merchant.OrgID, "merchant.webhook.rotate", map[string]any{"merchant": d.Merchant.ID})
	s.render(w, r, http.StatusOK, "console_pay_merchant", s.newView(r, d.Merchant.Name, d))
}
