package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/pay"
)

// The operator console's payment pages (admins only): platform balances,
// fee rates per merchant category, fee waivers for merchants (the
// operator's discounts for shop owners), merchant suspension, the
// marketing budget and coupon campaigns.

// routesPayAdmin: /admin/pay/...
func (s *Server) routesPayAdmin(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.requireStaff(h, account.RoleAdmin) }
	mux.HandleFunc("GET /admin/pay", admin(s.adminPay))
	mux.HandleFunc("POST /admin/pay/fees", admin(s.adminPayFee))
	mux.HandleFunc("POST /admin/pay/waivers", admin(s.adminPayWaiver))
	mux.HandleFunc("POST /admin/pay/merchants/status", admin(s.adminPayMerchantStatus))
	mux.HandleFunc("GET /admin/pay/campaigns", admin(s.adminPayCampaigns))
	mux.HandleFunc("POST /admin/pay/marketing", admin(s.adminPayFund))
	mux.HandleFunc("POST /admin/pay/campaigns", admin(s.adminPayCampaignCreate))
	mux.HandleFunc("POST /admin/pay/campaigns/{campaignID}/close", admin(s.adminPayCampaignClose))
}

// payAdminTabs are the payment pages' own tabs, under the operator
// console's.
var payAdminTabs = []tabDef{
	{"", "", "Fees and balances"},
	{"campaigns", "/campaigns", "Coupon campaigns"},
}

type payAdminBase struct {
	adminBase
	money
	PayTabs []navLink
	Notice  string
}

var payAdminNotices = map[string]string{
	"fee":      "Fee rate saved.",
	"waiver":   "Fee waiver granted.",
	"status":   "Merchant status changed.",
	"funded":   "Marketing budget funded.",
	"campaign": "Campaign created.",
	"closed":   "Campaign closed; its remaining budget is back in the marketing budget.",
}

func (s *Server) payAdminBase(r *http.Request, tab string) payAdminBase {
	return payAdminBase{adminBase: adminNav(r, "pay"), money: s.money(), PayTabs: tabs("/admin/pay", tab, payAdminTabs),
		Notice: payAdminNotices[r.URL.Query().Get("notice")]}
}

type feeRow struct {
	Category, Label, Percent string
}

type balanceRow struct {
	Label  string // English, translated by the template
	Arg    string // the provider of a funding account
	Amount int64
}

type payAdminData struct {
	payAdminBase
	Balances   []balanceRow
	Fees       []feeRow
	Categories []categoryOption
	// Waivers of one merchant (?merchant=).
	WaiverMerchant *pay.Merchant
	Waivers        []pay.FeeWaiver
	// Forms refilled after an error.
	WaiverForm waiverForm
}

type waiverForm struct{ Merchant, Starts, Ends, Cap, Note string }

var balanceLabels = map[string]string{
	pay.KindFeeIncome: "Fee income",
	pay.KindMarketing: "Marketing budget",
	pay.KindCapital:   "Capital put in (negative: money the platform added)",
}

func (s *Server) loadPayAdmin(r *http.Request) (*payAdminData, error) {
	ctx := r.Context()
	d := &payAdminData{payAdminBase: s.payAdminBase(r, ""), Categories: categoryOptions()}
	today := time.Now().In(s.payLocation)
	d.WaiverForm = waiverForm{Starts: today.Format("2006-01-02"), Ends: today.AddDate(0, 3, 0).Format("2006-01-02")}
	bals, err := s.pay.PlatformBalances(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(bals))
	for k := range bals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row := balanceRow{Label: balanceLabels[k], Amount: bals[k]}
		if row.Label == "" {
			row.Label, row.Arg = "Top-ups through %s (negative: money that came in)", strings.TrimPrefix(k, pay.KindFunding+":")
		}
		d.Balances = append(d.Balances, row)
	}
	rates, err := s.pay.FeeRates(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range pay.Categories() {
		d.Fees = append(d.Fees, feeRow{Category: c, Label: merchantCategories[c], Percent: formatBP(rates[c])})
	}
	if v := r.URL.Query().Get("merchant"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, openmini.Errorf(openmini.ENOTFOUND, "merchant: %q is not an ID", v)
		}
		if d.WaiverMerchant, err = s.pay.Merchant(ctx, id); err != nil {
			return nil, err
		}
		if d.Waivers, err = s.pay.FeeWaivers(ctx, id); err != nil {
			return nil, err
		}
		d.WaiverForm.Merchant = v
	}
	return d, nil
}

// adminPay shows the platform's balances, the fee rates and the waivers
// of a merchant.
func (s *Server) adminPay(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadPayAdmin(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_pay", s.page(w, r, "Payments and fees", d))
}

func (s *Server) adminPayFormError(w http.ResponseWriter, r *http.Request, err error, refill func(*payAdminData)) {
	d, lerr := s.loadPayAdmin(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if refill != nil {
		refill(d)
	}
	s.renderFormError(w, r, "admin_pay", s.newView(r, "Payments and fees", d), err)
}

// parseBP reads a percentage with up to two decimals ("0.6") as basis
// points (60).
func parseBP(field, v string) (int, error) {
	v = strings.TrimSuffix(strings.TrimSpace(v), "%")
	whole, frac, _ := strings.Cut(v, ".")
	bad := openmini.Errorf(openmini.EINVALID, "%s: %q is not a percentage like 0.6", field, v)
	if whole == "" || len(whole) > 3 || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, bad
	}
	n, err := strconv.Atoi(whole + frac + strings.Repeat("0", 2-len(frac)))
	if err != nil || n > 10000 {
		return 0, openmini.Errorf(openmini.EINVALID, "%s: %s%% is more than 100%%", field, v)
	}
	return n, nil
}

// formatBP writes basis points as a percentage: 60 -> "0.6".
func formatBP(bp int) string {
	s := strconv.Itoa(bp/100) + "." + strconv.Itoa(100 + bp%100)[1:]
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

func (s *Server) adminPayFee(w http.ResponseWriter, r *http.Request) {
	bp, err := parseBP("fee", r.PostFormValue("percent"))
	if err == nil {
		err = s.pay.SetFeeRate(r.Context(), r.PostFormValue("category"), bp)
	}
	if err != nil {
		s.adminPayFormError(w, r, err, nil)
		return
	}
	s.auditPay(r, 0, "pay.fee.set", map[string]any{"category": r.PostFormValue("category"), "bp": bp})
	http.Redirect(w, r, "/admin/pay?notice=fee", http.StatusSeeOther)
}

// dayStart is the start of a YYYY-MM-DD day in the settlement time zone.
func (s *Server) dayStart(field, v string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), s.payLocation)
	if err != nil {
		return time.Time{}, openmini.Errorf(openmini.EINVALID, "%s: %q is not a day like 2026-11-24", field, v)
	}
	return t, nil
}

// adminPayWaiver grants a merchant a fee waiver from the start of the
// first day to the end of the last, optionally capped by volume.
func (s *Server) adminPayWaiver(w http.ResponseWriter, r *http.Request) {
	f := waiverForm{Merchant: r.PostFormValue("merchant_id"), Starts: r.PostFormValue("starts"), Ends: r.PostFormValue("ends"),
		Cap: r.PostFormValue("volume_cap"), Note: r.PostFormValue("note")}
	fw := pay.FeeWaiver{Note: strings.TrimSpace(f.Note)}
	var err error
	if fw.MerchantID, err = strconv.ParseInt(strings.TrimSpace(f.Merchant), 10, 64); err != nil {
		err = openmini.Errorf(openmini.EINVALID, "merchant: %q is not a merchant ID", f.Merchant)
	}
	if err == nil {
		fw.StartsAt, err = s.dayStart("starts", f.Starts)
	}
	if err == nil {
		fw.EndsAt, err = s.dayStart("ends", f.Ends)
		fw.EndsAt = fw.EndsAt.AddDate(0, 0, 1)
	}
	if err == nil {
		fw.VolumeCap, err = s.formAmount("volume cap", f.Cap, true)
	}
	if err == nil {
		_, err = s.pay.GrantFeeWaiver(r.Context(), fw)
	}
	if err != nil {
		s.adminPayFormError(w, r, err, func(d *payAdminData) { d.WaiverForm = f })
		return
	}
	s.auditPay(r, 0, "pay.waiver.grant", map[string]any{"merchant": fw.MerchantID, "starts": f.Starts, "ends": f.Ends, "volume_cap": fw.VolumeCap})
	http.Redirect(w, r, "/admin/pay?notice=waiver&merchant="+itoa(fw.MerchantID), http.StatusSeeOther)
}

func (s *Server) adminPayMerchantStatus(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("merchant_id")), 10, 64)
	if err != nil {
		err = openmini.Errorf(openmini.EINVALID, "merchant: %q is not a merchant ID", r.PostFormValue("merchant_id"))
	} else {
		err = s.pay.SetMerchantStatus(r.Context(), id, r.PostFormValue("status"))
	}
	if err != nil {
		s.adminPayFormError(w, r, err, nil)
		return
	}
	s.auditPay(r, 0, "pay.merchant.status", map[string]any{"merchant": id, "status": r.PostFormValue("status")})
	http.Redirect(w, r, "/admin/pay?notice=status&merchant="+itoa(id), http.StatusSeeOther)
}

// ------------------------------------------------------------ campaigns

type campaignForm struct {
	Name, Budget, Kind, Discount, MaxDiscount, MinSpend, PerUser, Starts, Ends string
	Categories                                                                 []string
}

type campaignView struct {
	*pay.Campaign
	Percent string // DiscountBP as a percentage
}

type campaignsData struct {
	payAdminBase
	Marketing  int64
	Campaigns  []campaignView
	Categories []categoryOption
	Form       campaignForm
	FundAmount string
}

func (s *Server) loadCampaigns(r *http.Request) (*campaignsData, error) {
	ctx := r.Context()
	d := &campaignsData{payAdminBase: s.payAdminBase(r, "campaigns"), Categories: categoryOptions()}
	today := time.Now().In(s.payLocation)
	d.Form = campaignForm{Kind: "amount", PerUser: "1", Starts: today.Format("2006-01-02"), Ends: today.AddDate(0, 1, 0).Format("2006-01-02")}
	bals, err := s.pay.PlatformBalances(ctx)
	if err != nil {
		return nil, err
	}
	d.Marketing = bals[pay.KindMarketing]
	cs, err := s.pay.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		d.Campaigns = append(d.Campaigns, campaignView{Campaign: c, Percent: formatBP(c.DiscountBP)})
	}
	return d, nil
}

// adminPayCampaigns lists the coupon campaigns with the forms to fund the
// marketing budget and start a campaign.
func (s *Server) adminPayCampaigns(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadCampaigns(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_pay_campaigns", s.page(w, r, "Coupon campaigns", d))
}

func (s *Server) campaignsFormError(w http.ResponseWriter, r *http.Request, err error, refill func(*campaignsData)) {
	d, lerr := s.loadCampaigns(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	refill(d)
	s.renderFormError(w, r, "admin_pay_campaigns", s.newView(r, "Coupon campaigns", d), err)
}

func (s *Server) adminPayFund(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("amount")
	amount, err := s.formAmount("amount", text, false)
	if err == nil {
		err = s.pay.FundMarketing(r.Context(), amount, "by "+sessionActor(r).Label)
	}
	if err != nil {
		s.campaignsFormError(w, r, err, func(d *campaignsData) { d.FundAmount = text })
		return
	}
	s.auditPay(r, 0, "pay.marketing.fund", map[string]any{"amount": amount})
	http.Redirect(w, r, "/admin/pay/campaigns?notice=funded", http.StatusSeeOther)
}

// spec reads the campaign form; errors name the field.
func (s *Server) campaignSpec(f campaignForm) (pay.CampaignSpec, error) {
	spec := pay.CampaignSpec{Name: f.Name, Categories: f.Categories}
	var err error
	if spec.Budget, err = s.formAmount("budget", f.Budget, false); err != nil {
		return spec, err
	}
	if f.Kind == "percent" {
		if spec.DiscountBP, err = parseBP("discount", f.Discount); err != nil {
			return spec, err
		}
		if spec.MaxDiscount, err = s.formAmount("maximum discount", f.MaxDiscount, true); err != nil {
			return spec, err
		}
	} else if spec.DiscountAmount, err = s.formAmount("discount", f.Discount, false); err != nil {
		return spec, err
	}
	if spec.MinSpend, err = s.formAmount("minimum spend", f.MinSpend, true); err != nil {
		return spec, err
	}
	if spec.PerUserLimit, err = strconv.Atoi(strings.TrimSpace(f.PerUser)); err != nil {
		return spec, openmini.Errorf(openmini.EINVALID, "coupons per user: %q is not a whole number", f.PerUser)
	}
	if spec.StartsAt, err = s.dayStart("starts", f.Starts); err != nil {
		return spec, err
	}
	if spec.EndsAt, err = s.dayStart("ends", f.Ends); err != nil {
		return spec, err
	}
	spec.EndsAt = spec.EndsAt.AddDate(0, 0, 1)
	return spec, nil
}

func (s *Server) adminPayCampaignCreate(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f := campaignForm{Name: r.PostFormValue("name"), Budget: r.PostFormValue("budget"), Kind: r.PostFormValue("kind"),
		Discount: r.PostFormValue("discount"), MaxDiscount: r.PostFormValue("max_discount"), MinSpend: r.PostFormValue("min_spend"),
		PerUser: r.PostFormValue("per_user"), Starts: r.PostFormValue("starts"), Ends: r.PostFormValue("ends"), Categories: r.PostForm["categories"]}
	spec, err := s.campaignSpec(f)
	var c *pay.Campaign
	if err == nil {
		c, err = s.pay.CreateCampaign(r.Context(), spec)
	}
	if err != nil {
		s.campaignsFormError(w, r, err, func(d *campaignsData) { d.Form = f })
		return
	}
	s.auditPay(r, 0, "pay.campaign.create", map[string]any{"campaign": c.ID, "name": c.Name, "budget": c.Budget})
	http.Redirect(w, r, "/admin/pay/campaigns?notice=campaign", http.StatusSeeOther)
}

func (s *Server) adminPayCampaignClose(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "campaignID")
	if err == nil {
		_, err = s.pay.CloseCampaign(r.Context(), id)
	}
	if err != nil {
		s.campaignsFormError(w, r, err, func(*campaignsData) {})
		return
	}
	s.auditPay(r, 0, "pay.campaign.close", map[string]any{"campaign": id})
	http.Redirect(w, r, "/admin/pay/campaigns?notice=closed", http.StatusSeeOther)
}

// Checked reports whether the form picked category c.
func (f campaignForm) Checked(c string) bool {
	for _, x := range f.Categories {
		if x == c {
			return true
		}
	}
	return false
}
