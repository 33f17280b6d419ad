package web

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/qr"
)

// The console pages of QR codes, for developers and merchants (members of
// the organisation): an app's codes with their statistics, creating one
// code or a numbered batch with its printable kit, and one code's page.

func init() {
	// The app page gets a "QR codes" tab, and the flash messages of these
	// pages join the console's.
	appTabs = append(appTabs, tabDef{"qr", "/qr", "QR codes"})
	maps.Copy(flashes, map[string]string{
		"qr-created":       "QR code created.",
		"qr-batch-created": "QR codes created. Download the printable kit below.",
		"qr-disabled":      "QR code turned off. Scanning it now shows a notice.",
		"qr-enabled":       "QR code turned on again.",
		"qr-saved":         "QR code saved.",
	})
}

// routesQRConsole: /console/apps/{appID}/qr and below.
func (s *Server) routesQRConsole(mux *http.ServeMux) {
	acc := s.requireAccount
	mux.HandleFunc("GET /console/apps/{appID}/qr", acc(s.consoleQR))
	mux.HandleFunc("POST /console/apps/{appID}/qr", acc(s.consoleQRCreate))
	mux.HandleFunc("POST /console/apps/{appID}/qr/batch", acc(s.consoleQRBatch))
	mux.HandleFunc("GET /console/apps/{appID}/qr/{codeID}", acc(s.consoleQRCode))
	mux.HandleFunc("POST /console/apps/{appID}/qr/{codeID}", acc(s.consoleQRSave))
	mux.HandleFunc("POST /console/apps/{appID}/qr/{codeID}/disable", acc(s.consoleQRDisable(true)))
	mux.HandleFunc("POST /console/apps/{appID}/qr/{codeID}/enable", acc(s.consoleQRDisable(false)))
}

// qrPageSize is how many codes the app page lists at once.
const qrPageSize = 200

// qrAppData is the app's QR codes page.
type qrAppData struct {
	*appData
	Codes     []qrRow
	Total     qr.Stats
	Batches   []qrBatchRef
	Pages     []string // the app's pages, for the forms
	Form      qrForm
	BatchForm qrBatchForm
	NewBatch  *qrBatchRef // the batch just created, with its downloads
	NextAfter int64
	PerPage   []int // the kit layouts on offer
}

// qrRow is a code with its statistics.
type qrRow struct {
	QRCode
	Stats qr.Stats
}

// Where is the target a person reads: page and parameters, or the
// payment it takes.
func (r qrRow) Where() string { return targetText(r.Target) }

func targetText(t qr.Target) string {
	if t.Kind == qr.KindCollect || t.Kind == qr.KindOrder {
		return t.Path()
	}
	p := t.Page
	if p == "" {
		p = "/"
	}
	if len(t.Query) > 0 {
		q := url.Values{}
		for k, v := range t.Query {
			q.Set(k, v)
		}
		p += "?" + q.Encode()
	}
	return p
}

// qrBatchRef is a batch as the page links it.
type qrBatchRef struct {
	ID      int64
	Count   int
	PerPage int
	Name    string
}

// PDF and ZIP are the batch's downloads (the API answers the console
// session too).
func (b qrBatchRef) PDF() string {
	u := "/api/v1/qr/batches/" + strconv.FormatInt(b.ID, 10) + "/kit.pdf"
	if b.PerPage > 1 {
		u += "?per_page=" + strconv.Itoa(b.PerPage)
	}
	return u
}

func (b qrBatchRef) ZIP() string {
	return "/api/v1/qr/batches/" + strconv.FormatInt(b.ID, 10) + "/kit.zip"
}

// qrForm is the one-code form's fields as text.
type qrForm struct {
	Kind, Page, Query, MerchantID, OrderID, Label, Sublabel, ExpiresDays string
}

// qrBatchForm is the batch form's fields as text.
type qrBatchForm struct {
	Page, Query, Param, From, To, LabelTemplate, Sublabel, PerPage string
}

var qrKitLayouts = []int{1, 2, 4, 6, 8, 9, 12, 20}

// loadQR reads the app's codes (a page from ?after=) and statistics.
func (s *Server) loadQR(r *http.Request) (*qrAppData, error) {
	ad, err := s.loadApp(r, r.PathValue("appID"), "qr")
	if err != nil {
		return nil, err
	}
	d := &qrAppData{appData: ad, PerPage: qrKitLayouts,
		Form:      qrForm{Kind: string(qr.KindPage), ExpiresDays: ""},
		BatchForm: qrBatchForm{Param: "table", From: "1", To: "20", LabelTemplate: "Table {n}", PerPage: "4"}}
	ctx := r.Context()
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	codes, err := s.qr.List(ctx, qr.ListFilter{OrgID: ad.App.OrgID, AppID: ad.App.ID, AfterID: after, Limit: qrPageSize})
	if err != nil {
		return nil, err
	}
	if len(codes) == qrPageSize {
		d.NextAfter = codes[len(codes)-1].ID
	}
	st, err := s.qr.AppStats(ctx, ad.App.OrgID, ad.App.ID, qr.StatsRange{})
	if err != nil {
		return nil, err
	}
	d.Total = st.Total
	per := map[int64]qr.Stats{}
	for _, row := range st.Codes {
		per[row.CodeID] = row.Stats
	}
	batches := map[int64]int{}
	for _, c := range codes {
		d.Codes = append(d.Codes, qrRow{QRCode: s.qrView(c), Stats: per[c.ID]})
		if c.BatchID != 0 {
			batches[c.BatchID]++
		}
	}
	for _, id := range slices.Sorted(maps.Keys(batches)) {
		d.Batches = append(d.Batches, qrBatchRef{ID: id, Count: batches[id]})
	}
	if v, err := s.apps.VersionFor(ctx, ad.App.ID, "console"); err == nil && v.Manifest != nil {
		d.Pages = v.Manifest.Pages
	} else if vs, err := s.apps.Versions(ctx, sessionActor(r), ad.App.ID); err == nil && len(vs) > 0 && vs[0].Manifest != nil {
		d.Pages = vs[0].Manifest.Pages
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("batch"), 10, 64); err == nil {
		pp, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		ref := qrBatchRef{ID: id, Count: batches[id], PerPage: pp}
		d.NewBatch = &ref
	}
	return d, nil
}

func (s *Server) consoleQR(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadQR(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_qr_app", s.page(w, r, d.App.Name, d))
}

// formQuery reads "table=12&store=88" (or one k=v per line) into a map,
// refusing a parameter given twice.
func formQuery(raw string) (map[string]string, error) {
	raw = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "&"), "\n", "&"))
	if raw == "" {
		return nil, nil
	}
	vals, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return nil, openmini.Errorf(openmini.EINVALID, "parameters: write them as name=value, joined with &")
	}
	out := map[string]string{}
	for k, vs := range vals {
		if len(vs) > 1 {
			return nil, openmini.Errorf(openmini.EINVALID, "parameter %q is given twice", k)
		}
		out[k] = vs[0]
	}
	return out, nil
}

// formExpiry turns "days from now" into a time; empty or 0 is permanent.
func formExpiry(r *http.Request, field string) (time.Time, error) {
	n, err := formInt(r, field)
	switch {
	case err != nil:
		return time.Time{}, err
	case n < 0:
		return time.Time{}, openmini.Errorf(openmini.EINVALID, "the number of days must not be negative")
	case n == 0:
		return time.Time{}, nil
	}
	return time.Now().AddDate(0, 0, n), nil
}

func (s *Server) consoleQRCreate(w http.ResponseWriter, r *http.Request) {
	f := qrForm{Kind: r.PostFormValue("kind"), Page: strings.TrimSpace(r.PostFormValue("page")), Query: r.PostFormValue("query"),
		MerchantID: strings.TrimSpace(r.PostFormValue("merchant_id")), OrderID: strings.TrimSpace(r.PostFormValue("order_id")),
		Label: r.PostFormValue("label"), Sublabel: r.PostFormValue("sublabel"), ExpiresDays: r.PostFormValue("expires_days")}
	fail := func(err error) {
		d, lerr := s.loadQR(r)
		if lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		d.Form = f
		s.renderFormError(w, r, "console_qr_app", s.page(w, r, d.App.Name, d), err)
	}
	appID := r.PathValue("appID")
	actor := sessionActor(r)
	a, err := s.apps.Require(r.Context(), actor, appID, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	query, err := formQuery(f.Query)
	if err != nil {
		fail(err)
		return
	}
	exp, err := formExpiry(r, "expires_days")
	if err != nil {
		fail(err)
		return
	}
	t := requestTarget(qr.Kind(f.Kind), appID, f.Page, query, "", f.MerchantID, f.OrderID)
	if t.Kind == qr.KindCollect || t.Kind == qr.KindOrder {
		t.Page, t.Query = "", nil
	}
	c, err := s.qr.Create(r.Context(), qr.NewCode{OrgID: a.OrgID, AppID: appID, Target: t, Label: f.Label, Sublabel: f.Sublabel,
		ExpiresAt: exp, CreatedBy: actor.AccountID})
	if err != nil {
		fail(err)
		return
	}
	s.done(w, r, appURL(appID, "qr/"+strconv.FormatInt(c.ID, 10)), "qr-created")
}

func (s *Server) consoleQRBatch(w http.ResponseWriter, r *http.Request) {
	f := qrBatchForm{Page: strings.TrimSpace(r.PostFormValue("page")), Query: r.PostFormValue("query"), Param: strings.TrimSpace(r.PostFormValue("param")),
		From: r.PostFormValue("from"), To: r.PostFormValue("to"), LabelTemplate: r.PostFormValue("label_template"),
		Sublabel: r.PostFormValue("sublabel"), PerPage: r.PostFormValue("per_page")}
	fail := func(err error) {
		d, lerr := s.loadQR(r)
		if lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		d.BatchForm = f
		s.renderFormError(w, r, "console_qr_app", s.page(w, r, d.App.Name, d), err)
	}
	appID := r.PathValue("appID")
	actor := sessionActor(r)
	a, err := s.apps.Require(r.Context(), actor, appID, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	query, err := formQuery(f.Query)
	if err != nil {
		fail(err)
		return
	}
	from, err := formInt(r, "from")
	if err != nil {
		fail(err)
		return
	}
	to, err := formInt(r, "to")
	if err != nil {
		fail(err)
		return
	}
	perPage, err := formInt(r, "per_page")
	if err != nil {
		fail(err)
		return
	}
	if !slices.Contains(qrKitLayouts, perPage) {
		perPage = 1
	}
	b, _, err := s.qr.CreateBatch(r.Context(), qr.BatchTemplate{
		OrgID: a.OrgID, AppID: appID, Target: qr.Target{Kind: qr.KindPage, AppID: appID, Page: f.Page, Query: query},
		Param: f.Param, From: from, To: to, LabelTemplate: f.LabelTemplate, Sublabel: f.Sublabel, CreatedBy: actor.AccountID,
	})
	if err != nil {
		fail(err)
		return
	}
	s.done(w, r, appURL(appID, "qr")+"?batch="+strconv.FormatInt(b.ID, 10)+"&per_page="+strconv.Itoa(perPage), "qr-batch-created")
}

// qrCodeData is one code's page.
type qrCodeData struct {
	*appData
	Code    QRCode
	Where   string
	Stats   *qr.Stats
	Sizes   []int // PNG downloads on offer
	Expires string
}

// consoleQRCodeLoad reads the app and one of its codes.
func (s *Server) consoleQRCodeLoad(r *http.Request) (*qrCodeData, error) {
	ad, err := s.loadApp(r, r.PathValue("appID"), "qr")
	if err != nil {
		return nil, err
	}
	id, err := pathID(r, "codeID")
	if err != nil {
		return nil, err
	}
	c, err := s.qr.Get(r.Context(), ad.App.OrgID, id)
	if err != nil {
		return nil, err
	}
	if c.AppID != ad.App.ID {
		return nil, openmini.Errorf(openmini.ENOTFOUND, "QR code not found")
	}
	st, err := s.qr.CodeStats(r.Context(), c.OrgID, c.ID, qr.StatsRange{})
	if err != nil {
		return nil, err
	}
	return &qrCodeData{appData: ad, Code: s.qrView(c), Where: targetText(c.Target), Stats: st, Sizes: []int{256, 512, 1024}}, nil
}

func (s *Server) consoleQRCode(w http.ResponseWriter, r *http.Request) {
	d, err := s.consoleQRCodeLoad(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_qr_code", s.page(w, r, d.App.Name, d))
}

// consoleQRSave changes a code's captions.
func (s *Server) consoleQRSave(w http.ResponseWriter, r *http.Request) {
	d, err := s.consoleQRCodeLoad(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if !d.CanEdit {
		s.renderError(w, r, openmini.Errorf(openmini.EFORBIDDEN, "viewers cannot change QR codes"))
		return
	}
	label, sub := r.PostFormValue("label"), r.PostFormValue("sublabel")
	if _, err := s.qr.Update(r.Context(), d.Code.OrgID, d.Code.ID, qr.Update{Label: &label, Sublabel: &sub}); err != nil {
		d.Code.Label, d.Code.Sublabel = label, sub
		s.renderFormError(w, r, "console_qr_code", s.page(w, r, d.App.Name, d), err)
		return
	}
	s.done(w, r, appURL(d.App.ID, "qr/"+strconv.FormatInt(d.Code.ID, 10)), "qr-saved")
}

// consoleQRDisable turns a code off (or on again).
func (s *Server) consoleQRDisable(off bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		appID := r.PathValue("appID")
		a, err := s.apps.Require(r.Context(), sessionActor(r), appID, org.RoleDeveloper)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		id, err := pathID(r, "codeID")
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		c, err := s.qr.Get(r.Context(), a.OrgID, id)
		if err == nil && c.AppID != appID {
			err = openmini.Errorf(openmini.ENOTFOUND, "QR code not found")
		}
		if err == nil {
			_, err = s.qr.SetDisabled(r.Context(), a.OrgID, id, off)
		}
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		flash := "qr-enabled"
		if off {
			flash = "qr-disabled"
		}
		to := safeNext(r.PostFormValue("next"), appURL(appID, "qr/"+strconv.FormatInt(id, 10)))
		s.done(w, r, to, flash)
	}
}
