package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/qr"
)

// routesQRAPI: the REST API of QR codes. A code belongs to an organisation
// and usually to one of its apps; viewers read, developers create and
// change. An API key limited to one app sees only that app's codes.
func (s *Server) routesQRAPI(mux *http.ServeMux) {
	s.api(mux, "POST /api/v1/qr/codes", s.apiQRCreate)
	s.api(mux, "GET /api/v1/qr/codes", s.apiQRList)
	s.api(mux, "GET /api/v1/qr/codes/{codeID}", s.apiQRCode)
	s.api(mux, "PATCH /api/v1/qr/codes/{codeID}", s.apiQRUpdate)
	s.api(mux, "GET /api/v1/qr/codes/{codeID}/stats", s.apiQRCodeStats)
	s.api(mux, "POST /api/v1/qr/batches", s.apiQRBatchCreate)
	s.api(mux, "GET /api/v1/qr/batches/{batchID}", s.apiQRBatch)
	s.api(mux, "GET /api/v1/qr/batches/{batchID}/kit.pdf", s.apiQRBatchPDF)
	s.api(mux, "GET /api/v1/qr/batches/{batchID}/kit.zip", s.apiQRBatchZIP)
	s.api(mux, "GET /api/v1/apps/{appID}/qr/stats", s.apiQRAppStats)
	s.api(mux, "GET /api/v1/apps/{appID}/qr.png", s.apiQRAppPage)
	s.api(mux, "GET /api/v1/apps/{appID}/qr.svg", s.apiQRAppPage)
}

// QRCodeRequest creates a code. Kind defaults to page when app_id is
// set, collect with merchant_id, order with order_id. org_id defaults to
// the app's organisation, or the API key's.
type QRCodeRequest struct {
	OrgID      int64             `json:"org_id,omitempty"`
	AppID      string            `json:"app_id,omitempty"`
	Kind       qr.Kind           `json:"kind,omitempty"`
	Page       string            `json:"page,omitempty"`
	Query      map[string]string `json:"query,omitempty"`
	Version    string            `json:"version,omitempty"`
	MerchantID string            `json:"merchant_id,omitempty"`
	OrderID    string            `json:"order_id,omitempty"`
	Label      string            `json:"label,omitempty"`
	Sublabel   string            `json:"sublabel,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
}

// target is the request's target with the kind filled in.
func (q *QRCodeRequest) target() qr.Target {
	return requestTarget(q.Kind, q.AppID, q.Page, q.Query, q.Version, q.MerchantID, q.OrderID)
}

func requestTarget(kind qr.Kind, appID, page string, query map[string]string, version, merchant, order string) qr.Target {
	if kind == "" {
		switch {
		case merchant != "":
			kind = qr.KindCollect
		case order != "":
			kind = qr.KindOrder
		default:
			kind = qr.KindPage
		}
	}
	t := qr.Target{Kind: kind, Page: page, Query: query, Version: version, MerchantID: merchant, OrderID: order}
	if kind == qr.KindPage || kind == qr.KindTrial || appID != "" {
		t.AppID = appID
	}
	return t
}

// QRCode is a code as the API and console show it.
type QRCode struct {
	qr.Code
	Status    qr.Status `json:"status"`     // active, disabled or expired, now
	ShortURL  string    `json:"short_url"`  // what the image encodes
	ImageURL  string    `json:"image_url"`  // public PNG (append ?size=, or use .svg)
	TargetURL string    `json:"target_url"` // where a scan leads on this host
}

func (s *Server) qrView(c *qr.Code) QRCode {
	return QRCode{Code: *c, Status: c.StatusAt(time.Now()), ShortURL: s.qr.ShortURL(c),
		ImageURL: s.qr.ShortURL(c) + ".png", TargetURL: s.cfg.PublicURL + targetLink(c)}
}

func (s *Server) qrViews(cs []*qr.Code) []QRCode {
	out := make([]QRCode, len(cs))
	for i, c := range cs {
		out[i] = s.qrView(c)
	}
	return out
}

// qrOrgFor decides the organisation a new code or batch belongs to and
// checks the caller is at least a developer there: the app's
// organisation when there is an app, else orgID, else the API key's.
func (s *Server) qrOrgFor(ctx context.Context, actor openmini.Actor, appID string, orgID int64) (int64, error) {
	if appID != "" {
		a, err := s.apps.Require(ctx, actor, appID, org.RoleDeveloper)
		if err != nil {
			return 0, err
		}
		if orgID != 0 && orgID != a.OrgID {
			return 0, openmini.Errorf(openmini.EINVALID, "org_id %d is not the organisation of app %s", orgID, appID)
		}
		return a.OrgID, nil
	}
	if orgID == 0 {
		orgID = actor.KeyOrgID
	}
	if orgID == 0 {
		return 0, openmini.Errorf(openmini.EINVALID, "org_id is required for a code that belongs to no app")
	}
	if actor.IsKey() && actor.KeyAppID != "" {
		return 0, openmini.Errorf(openmini.EFORBIDDEN, "this API key is limited to the app %s", actor.KeyAppID)
	}
	return orgID, s.orgs.Require(ctx, actor, orgID, org.RoleDeveloper)
}

// qrAllowed checks the caller has at least role min for a code or batch of
// orgID and (when set) appID.
func (s *Server) qrAllowed(ctx context.Context, actor openmini.Actor, orgID int64, appID, min string) error {
	if appID != "" {
		_, err := s.apps.Require(ctx, actor, appID, min)
		return err
	}
	if actor.IsKey() && actor.KeyAppID != "" {
		return openmini.Errorf(openmini.EFORBIDDEN, "this API key is limited to the app %s", actor.KeyAppID)
	}
	return s.orgs.Require(ctx, actor, orgID, min)
}

// actorOrgs are the organisations whose codes the caller may look for.
func (s *Server) actorOrgs(ctx context.Context, actor openmini.Actor) ([]int64, error) {
	if actor.IsKey() {
		return []int64{actor.KeyOrgID}, nil
	}
	orgs, err := s.orgs.ForAccount(ctx, actor.AccountID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	return ids, nil
}

// qrCodeFor finds code id among the caller's organisations and checks the
// caller has at least role min for it; not_found otherwise.
func (s *Server) qrCodeFor(ctx context.Context, actor openmini.Actor, id int64, min string) (*qr.Code, error) {
	orgs, err := s.actorOrgs(ctx, actor)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		c, err := s.qr.Get(ctx, o, id)
		if openmini.ErrorCode(err) == openmini.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := s.qrAllowed(ctx, actor, c.OrgID, c.AppID, min); err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, openmini.Errorf(openmini.ENOTFOUND, "QR code %d not found", id)
}

// qrBatchFor is qrCodeFor for a batch, with its codes.
func (s *Server) qrBatchFor(ctx context.Context, actor openmini.Actor, id int64, min string) (*qr.Batch, []*qr.Code, error) {
	orgs, err := s.actorOrgs(ctx, actor)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range orgs {
		b, codes, err := s.qr.GetBatch(ctx, o, id)
		if openmini.ErrorCode(err) == openmini.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if err := s.qrAllowed(ctx, actor, b.OrgID, b.AppID, min); err != nil {
			return nil, nil, err
		}
		return b, codes, nil
	}
	return nil, nil, openmini.Errorf(openmini.ENOTFOUND, "QR code batch %d not found", id)
}

// requestBatch is the batch of the request's {batchID} the caller may
// view; on false the error is answered.
func (s *Server) requestBatch(w http.ResponseWriter, r *http.Request) (openmini.Actor, *qr.Batch, []*qr.Code, bool) {
	actor, ok := s.actor(w, r)
	if !ok {
		return actor, nil, nil, false
	}
	id, ok := s.pathInt(w, r, "batchID")
	if !ok {
		return actor, nil, nil, false
	}
	b, codes, err := s.qrBatchFor(r.Context(), actor, id, org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return actor, nil, nil, false
	}
	return actor, b, codes, true
}

func (s *Server) apiQRCreate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req QRCodeRequest
	if !s.decode(w, r, &req) {
		return
	}
	orgID, err := s.qrOrgFor(r.Context(), actor, req.AppID, req.OrgID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	c, err := s.qr.Create(r.Context(), qr.NewCode{OrgID: orgID, AppID: req.AppID, Target: req.target(), Label: req.Label,
		Sublabel: req.Sublabel, ExpiresAt: req.ExpiresAt, CreatedBy: actor.AccountID})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.qrView(c))
}

// QRCodeList is a page of codes; pass next_after as ?after= for the next.
type QRCodeList struct {
	Codes     []QRCode `json:"codes"`
	NextAfter int64    `json:"next_after,omitempty"`
}

func (s *Server) apiQRList(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := qr.ListFilter{AppID: q.Get("app_id"), Kind: qr.Kind(q.Get("kind"))}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"org_id", &f.OrgID}, {"batch_id", &f.BatchID}, {"after", &f.AfterID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "%s: %q is not an ID", p.name, v))
				return
			}
			*p.dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "limit: %q is not a number from 1 to %d", v, qr.MaxBatch))
			return
		}
		f.Limit = n
	}
	ctx := r.Context()
	if f.AppID != "" {
		a, err := s.apps.Require(ctx, actor, f.AppID, org.RoleViewer)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if f.OrgID != 0 && f.OrgID != a.OrgID {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "org_id %d is not the organisation of app %s", f.OrgID, f.AppID))
			return
		}
		f.OrgID = a.OrgID
	} else {
		if f.OrgID == 0 {
			f.OrgID = actor.KeyOrgID
		}
		if f.OrgID == 0 {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "give app_id or org_id"))
			return
		}
		if err := s.qrAllowed(ctx, actor, f.OrgID, "", org.RoleViewer); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	codes, err := s.qr.List(ctx, f)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	out := QRCodeList{Codes: s.qrViews(codes)}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if len(codes) == limit {
		out.NextAfter = codes[len(codes)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// apiQRCode answers GET /api/v1/qr/codes/{codeID} as JSON, and
// /api/v1/qr/codes/{codeID}.png or .svg as the code's image
// (?size=128..1024&level=L|M|Q|H&margin=&icon=1).
func (s *Server) apiQRCode(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	raw, ext, image := strings.Cut(r.PathValue("codeID"), ".")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || (image && ext != "png" && ext != "svg") {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "codeID: %q is not an ID (add .png or .svg for the image)", r.PathValue("codeID")))
		return
	}
	c, err := s.qrCodeFor(r.Context(), actor, id, org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if !image {
		writeJSON(w, http.StatusOK, s.qrView(c))
		return
	}
	opts, err := s.renderOptions(r, ext, c.AppID, &actor)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	b, err := s.qr.RenderCode(r.Context(), c, opts)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeImage(w, r, qr.Format(ext), b, "private, max-age=3600")
}

// QRCodeUpdate changes a code; fields left out stay as they are. A new
// target keeps the short link, so printed codes lead somewhere new.
type QRCodeUpdate struct {
	Target    *qr.Target `json:"target,omitempty"`
	Label     *string    `json:"label,omitempty"`
	Sublabel  *string    `json:"sublabel,omitempty"`
	ExpiresAt time.Time  `json:"expires_at,omitzero"` // a new expiry
	Permanent bool       `json:"permanent,omitempty"` // remove the expiry
	Disabled  *bool      `json:"disabled,omitempty"`
}

func (s *Server) apiQRUpdate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	id, ok := s.pathInt(w, r, "codeID")
	if !ok {
		return
	}
	var req QRCodeUpdate
	if !s.decode(w, r, &req) {
		return
	}
	if req.Permanent && !req.ExpiresAt.IsZero() {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "give expires_at or permanent, not both"))
		return
	}
	c, err := s.qrCodeFor(r.Context(), actor, id, org.RoleDeveloper)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	u := qr.Update{Target: req.Target, Label: req.Label, Sublabel: req.Sublabel, Disabled: req.Disabled}
	switch {
	case req.Permanent:
		u.ExpiresAt = &time.Time{}
	case !req.ExpiresAt.IsZero():
		u.ExpiresAt = &req.ExpiresAt
	}
	c, err = s.qr.Update(r.Context(), c.OrgID, c.ID, u)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.qrView(c))
}

// statsRange reads ?since=&until= as RFC 3339 times or YYYY-MM-DD (UTC
// midnight).
func statsRange(r *http.Request) (qr.StatsRange, error) {
	var out qr.StatsRange
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &out.Since}, {"until", &out.Until}} {
		v := r.URL.Query().Get(f.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			return out, openmini.Errorf(openmini.EINVALID, "%s: %q is not a date (2025-01-31) or time (2025-01-31T12:00:00Z)", f.name, v)
		}
		*f.dst = t
	}
	return out, nil
}

func (s *Server) apiQRCodeStats(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	id, ok := s.pathInt(w, r, "codeID")
	if !ok {
		return
	}
	rng, err := statsRange(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	c, err := s.qrCodeFor(r.Context(), actor, id, org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	st, err := s.qr.CodeStats(r.Context(), c.OrgID, c.ID, rng)
	s.respond(w, r, http.StatusOK, st, err)
}

func (s *Server) apiQRAppStats(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rng, err := statsRange(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	a, err := s.apps.Require(r.Context(), actor, r.PathValue("appID"), org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	st, err := s.qr.AppStats(r.Context(), a.OrgID, a.ID, rng)
	s.respond(w, r, http.StatusOK, st, err)
}

// QRBatchRequest creates codes numbered from..to from one template (at
// most 1,000): "tables 1 to 200 of store 88" is app_id, page
// "pages/order", query {"store": "88"}, param "table", from 1, to 200,
// label_template "Table {n}", sublabel "Store 88". All are created, or
// none.
type QRBatchRequest struct {
	OrgID         int64             `json:"org_id,omitempty"`
	AppID         string            `json:"app_id,omitempty"`
	Kind          qr.Kind           `json:"kind,omitempty"`
	Page          string            `json:"page,omitempty"`
	Query         map[string]string `json:"query,omitempty"`
	Version       string            `json:"version,omitempty"`
	MerchantID    string            `json:"merchant_id,omitempty"`
	Param         string            `json:"param,omitempty"`          // query parameter set to value_template per code
	ValueTemplate string            `json:"value_template,omitempty"` // default "{n}"
	From          int               `json:"from"`
	To            int               `json:"to"`
	LabelTemplate string            `json:"label_template,omitempty"` // "{n}" is replaced
	Sublabel      string            `json:"sublabel,omitempty"`
	Name          string            `json:"name,omitempty"`
	ExpiresAt     time.Time         `json:"expires_at,omitzero"`
}

// QRBatch is a batch with its codes and download links.
type QRBatch struct {
	Batch  qr.Batch `json:"batch"`
	Codes  []QRCode `json:"codes"`
	PDFURL string   `json:"pdf_url"` // printable A4 kit
	ZIPURL string   `json:"zip_url"` // images plus codes.csv
}

func (s *Server) qrBatchView(b *qr.Batch, codes []*qr.Code) QRBatch {
	base := s.cfg.PublicURL + "/api/v1/qr/batches/" + strconv.FormatInt(b.ID, 10)
	return QRBatch{Batch: *b, Codes: s.qrViews(codes), PDFURL: base + "/kit.pdf", ZIPURL: base + "/kit.zip"}
}

func (s *Server) apiQRBatchCreate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req QRBatchRequest
	if !s.decode(w, r, &req) {
		return
	}
	orgID, err := s.qrOrgFor(r.Context(), actor, req.AppID, req.OrgID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	b, codes, err := s.qr.CreateBatch(r.Context(), qr.BatchTemplate{
		OrgID: orgID, AppID: req.AppID, Name: req.Name,
		Target: requestTarget(req.Kind, req.AppID, req.Page, req.Query, req.Version, req.MerchantID, ""),
		Param:  req.Param, ValueTemplate: req.ValueTemplate, From: req.From, To: req.To,
		LabelTemplate: req.LabelTemplate, Sublabel: req.Sublabel, ExpiresAt: req.ExpiresAt, CreatedBy: actor.AccountID,
	})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.qrBatchView(b, codes))
}

func (s *Server) apiQRBatch(w http.ResponseWriter, r *http.Request) {
	_, b, codes, ok := s.requestBatch(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.qrBatchView(b, codes))
}

// sendDownload answers a file built in memory first, so a failure is a
// clean error and never half a file.
func sendDownload(w http.ResponseWriter, r *http.Request, contentType, name string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// apiQRBatchPDF writes the batch's printable kit: ?per_page=1|2|4|6|8|9|12|20
// (default 1), ?level=L|M|Q|H (default Q).
func (s *Server) apiQRBatchPDF(w http.ResponseWriter, r *http.Request) {
	_, b, codes, ok := s.requestBatch(w, r)
	if !ok {
		return
	}
	title := strings.ReplaceAll(b.Name, "{n}", fmt.Sprintf("%d–%d", b.From, b.To))
	opts := qr.PDFOptions{Level: qr.Level(strings.ToUpper(r.URL.Query().Get("level"))), Title: title}
	if v := r.URL.Query().Get("per_page"); v != "" {
		var err error
		if opts.PerPage, err = strconv.Atoi(v); err != nil {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "per_page: %q is not a whole number", v))
			return
		}
	}
	var buf bytes.Buffer
	if err := s.qr.WritePDF(r.Context(), &buf, codes, opts); err != nil {
		s.renderError(w, r, err)
		return
	}
	sendDownload(w, r, "application/pdf", fmt.Sprintf("qr-batch-%d.pdf", b.ID), buf.Bytes())
}

// apiQRBatchZIP writes the batch's images as a ZIP with codes.csv:
// ?format=png|svg, ?size=, ?level=.
func (s *Server) apiQRBatchZIP(w http.ResponseWriter, r *http.Request) {
	actor, b, codes, ok := s.requestBatch(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "png"
	}
	opts, err := s.renderOptions(r, format, b.AppID, &actor)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := s.qr.WriteZIP(r.Context(), &buf, codes, opts); err != nil {
		s.renderError(w, r, err)
		return
	}
	sendDownload(w, r, "application/zip", fmt.Sprintf("qr-batch-%d.zip", b.ID), buf.Bytes())
}

// appPageTarget reads the target of an app page code that is not stored:
// ?page=&query=k%3Dv%26k2%3Dv2&trial=1.
func appPageTarget(r *http.Request, appID string) (qr.Target, error) {
	q := r.URL.Query()
	t := qr.Target{Kind: qr.KindPage, AppID: appID, Page: q.Get("page")}
	if on, _ := strconv.ParseBool(q.Get("trial")); on {
		t.Kind = qr.KindTrial
	}
	if raw := q.Get("query"); raw != "" {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return t, openmini.Errorf(openmini.EINVALID, "query: %q is not a URL query like table=12&store=88", raw)
		}
		t.Query = map[string]string{}
		for k, vs := range vals {
			if len(vs) > 1 {
				return t, openmini.Errorf(openmini.EINVALID, "query: parameter %q is given twice", k)
			}
			t.Query[k] = vs[0]
		}
	}
	return t, t.Validate()
}

// apiQRAppPage draws a code for a page of an app without storing one: it
// encodes the page's launch link itself (no short link, no statistics),
// like WeChat's unlimited codes. GET /api/v1/apps/{appID}/qr.png|.svg.
func (s *Server) apiQRAppPage(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	a, err := s.apps.Require(r.Context(), actor, r.PathValue("appID"), org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	t, err := appPageTarget(r, a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	format := strings.TrimPrefix(r.URL.Path[strings.LastIndexByte(r.URL.Path, '.'):], ".")
	opts, err := s.renderOptions(r, format, a.ID, &actor)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	b, err := s.qr.Renderer().Render(r.Context(), s.cfg.PublicURL+launchLink(t, "qr", ""), opts)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeImage(w, r, qr.Format(format), b, "private, max-age=3600")
}
