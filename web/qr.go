package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/qr"
)

// QR codes and short links (package qr), the users' side: a scanned short
// link /s/{slug} resolves and redirects to the host's launch link, a W3C
// MiniApp Addressing URI opens through /open?uri=..., collection and order
// codes lead to /pay/..., and the host's scanner decodes and classifies
// through /host/api/scan. The developers' side is in qr_api.go (REST) and
// qr_console.go (console pages).

// Limits per client address, in fixed one-minute windows.
const (
	qrScansPerMinute   = 300 // short-link resolutions (a restaurant's diners may share one address)
	qrDecodesPerMinute = 120 // frames and images decoded by the host scanner
	qrOpensPerMinute   = 120 // scanned strings classified and resolved
)

// routesQR: short links, addressing URIs, the payment placeholders, the
// host scanner, and (through routesQRAPI and routesQRConsole) the REST API
// and console pages of QR codes. Nothing is mounted without a QR service.
func (s *Server) routesQR(mux *http.ServeMux) {
	if s.qr == nil {
		return
	}
	mux.HandleFunc("GET /s/{slug}", s.handleShortLink)
	mux.HandleFunc("GET /open", s.handleOpenURI)
	// A placeholder until the payments surface mounts the more specific
	// GET /pay/merchant/{id} and GET /pay/order/{id}, which then win.
	mux.HandleFunc("GET /pay/{kind}/{id}", s.handlePayPlaceholder)
	mux.HandleFunc("POST /host/api/scan", s.handleHostScan)
	mux.HandleFunc("POST /host/api/scan/open", s.handleHostScanOpen)
	s.hostScripts = append(s.hostScripts, "host-scanner.js")
	s.routesQRAPI(mux)
	s.routesQRConsole(mux)
}

// launchLink is the host's launch link of a page or trial target: the page
// and its query plus the host's own parameters (om_scene, om_qr for the
// code that led here, trial=1 for the trial version). A version pinned in
// the target is not passed on: the host opens the version the user gets.
func launchLink(t qr.Target, scene, slug string) string {
	q := url.Values{}
	for k, v := range t.Query {
		q.Set(k, v)
	}
	if scene != "" {
		q.Set("om_scene", scene)
	}
	if slug != "" {
		q.Set("om_qr", slug)
	}
	if t.Kind == qr.KindTrial {
		q.Set("trial", "1")
	}
	p := "/app/" + t.AppID + "/" + strings.TrimPrefix(t.Page, "/")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// targetLink is where a scan of code c leads on this host: the launch link
// for page and trial codes, the payment page (with om_qr, so the payment
// counts for the code) for collection and order codes.
func targetLink(c *qr.Code) string {
	switch c.Target.Kind {
	case qr.KindCollect, qr.KindOrder:
		return c.Target.Path() + "?om_qr=" + c.Slug
	}
	return launchLink(c.Target, "qr", c.Slug)
}

// qrVisitor is who is scanning: the signed-in account, else this
// browser's anonymous device ID (set on first visit).
func (s *Server) qrVisitor(w http.ResponseWriter, r *http.Request) qr.Visitor {
	if a, ok := accountFrom(r.Context()); ok {
		return qr.Visitor{AccountID: a.ID}
	}
	_, key := s.hostOwner(w, r)
	return qr.Visitor{Visitor: strings.TrimPrefix(key, "d")}
}

// qrProblem renders the host shell with a friendly explanation instead of
// a mini program (a code that leads nowhere now, a bad link).
func (s *Server) qrProblem(w http.ResponseWriter, r *http.Request, status int, lines ...string) {
	v := s.newView(r, "OpenMini", nil)
	d := s.newHostData(v.Lang)
	for i, l := range lines {
		lines[i] = v.T(l)
	}
	d.Problem = strings.Join(lines, " ")
	v.Data = d
	s.renderHost(w, r, status, v)
}

// codeFailure explains why a scanned code of ours does not lead anywhere
// now, for people: what happened and, when known, whose code it is. The
// strings are English; callers translate them.
func (s *Server) codeFailure(r *http.Request, c *qr.Code, err error) (status int, lines []string) {
	switch {
	case errors.Is(err, qr.ErrDisabled):
		status, lines = http.StatusGone, []string{"This QR code has been turned off by its owner."}
	case errors.Is(err, qr.ErrExpired):
		status, lines = http.StatusGone, []string{"This QR code has expired."}
	case errors.Is(err, qr.ErrUnknown):
		return http.StatusNotFound, []string{"This QR code is not known here. Check that the whole code was in view, or ask the shop for a new one."}
	default:
		return statusOf(err), []string{errMessage(err)}
	}
	if c != nil && c.AppID != "" {
		if a, err := s.apps.Get(r.Context(), c.AppID); err == nil {
			lines = append(lines, translate(requestLang(r), "It belongs to %s.", a.Name))
		}
	}
	return status, lines
}

// handleShortLink resolves a scanned short link /s/{slug} and redirects to
// where the code leads, counting the scan. /s/{slug}.png and .svg are the
// code's public image.
func (s *Server) handleShortLink(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if base, ext, ok := strings.Cut(slug, "."); ok {
		s.serveCodeImagePublic(w, r, base, ext)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := s.limitsHit(r, "qr-scan", qrScansPerMinute, time.Minute); err != nil {
		s.qrRateLimited(w, r, err)
		return
	}
	c, err := s.qr.Resolve(r.Context(), slug, s.qrVisitor(w, r))
	if err != nil {
		if openmini.ErrorCode(err) == openmini.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		status, lines := s.codeFailure(r, c, err)
		s.qrProblem(w, r, status, lines...)
		return
	}
	http.Redirect(w, r, targetLink(c), http.StatusFound)
}

// qrRateLimited answers a client past a QR limit with a friendly page
// (or JSON for the scanner) and Retry-After.
func (s *Server) qrRateLimited(w http.ResponseWriter, r *http.Request, err error) {
	if openmini.ErrorCode(err) != openmini.ERATELIMITED {
		s.renderError(w, r, err)
		return
	}
	var oe *openmini.Error
	if errors.As(err, &oe) && oe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(oe.RetryAfter))
	}
	msg := "Too many scans from your network just now. Please try again in a minute."
	if wantsJSON(r) {
		s.renderError(w, r, &openmini.Error{Code: openmini.ERATELIMITED, Message: translate(requestLang(r), msg), RetryAfter: oe.RetryAfter})
		return
	}
	s.qrProblem(w, r, http.StatusTooManyRequests, msg)
}

// handleOpenURI opens a W3C MiniApp Addressing URI,
// /open?uri=openmini://miniapp/{appID}[;version=trial]/{page}?{query}, as
// the same launch its launch link gives.
func (s *Server) handleOpenURI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	t, err := qr.ParseAddressingURI(q.Get("uri"))
	if err != nil {
		s.qrProblem(w, r, http.StatusBadRequest, "This mini program link cannot be opened.", errMessage(err))
		return
	}
	scene := q.Get("om_scene") // the host checks it; anything unknown is "link"
	if scene == "" {
		scene = "link"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, launchLink(t, scene, ""), http.StatusFound)
}

// handlePayPlaceholder answers /pay/merchant/{id} and /pay/order/{id}
// until the payments surface mounts its own pages there.
func (s *Server) handlePayPlaceholder(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("kind") {
	case "merchant", "order":
		w.Header().Set("Cache-Control", "no-store")
		s.qrProblem(w, r, http.StatusServiceUnavailable, "Payments are not available on this platform yet. Please pay the shop another way.")
	default:
		s.qrProblem(w, r, http.StatusNotFound, "There is no such page.")
	}
}

// renderOptions reads ?size=&level=&margin=&icon=1 of an image request;
// icon=1 draws the app's icon in the centre (see appIcon for dev).
func (s *Server) renderOptions(r *http.Request, format, appID string, dev *openmini.Actor) (qr.RenderOptions, error) {
	q := r.URL.Query()
	o := qr.RenderOptions{Format: qr.Format(format), Level: qr.Level(strings.ToUpper(q.Get("level")))}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"size", &o.Size}, {"margin", &o.Margin}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, openmini.Errorf(openmini.EINVALID, "%s: %q is not a whole number", f.name, v)
			}
			*f.dst = n
		}
	}
	if on, _ := strconv.ParseBool(q.Get("icon")); on {
		if appID == "" {
			return o, openmini.Errorf(openmini.EINVALID, "icon: this code belongs to no app, so it has no icon")
		}
		icon, err := s.appIcon(r, appID, dev)
		if err != nil {
			return o, err
		}
		o.Icon = icon
	}
	return o, nil
}

// appIcon returns the first icon of the app's released version, read from
// the blob store and checked against the version's file list. Before the
// first release, a developer (dev, already authorised for the app) gets
// the icon of the newest version; the public gets an error.
func (s *Server) appIcon(r *http.Request, appID string, dev *openmini.Actor) ([]byte, error) {
	ctx := r.Context()
	v, err := s.apps.VersionFor(ctx, appID, "qr-icon")
	if err != nil && openmini.ErrorCode(err) == openmini.ENOTFOUND && dev != nil {
		var vs []app.Version
		if vs, err = s.apps.Versions(ctx, *dev, appID); err == nil && len(vs) > 0 {
			v = vs[0]
		}
	}
	if err != nil && openmini.ErrorCode(err) != openmini.ENOTFOUND {
		return nil, err
	}
	if err != nil || v.ID == 0 {
		return nil, openmini.Errorf(openmini.EINVALID, "icon: %s has no released version with an icon yet", appID)
	}
	if v.Manifest == nil || len(v.Manifest.Icons) == 0 {
		return nil, openmini.Errorf(openmini.EINVALID, "icon: version %s of %s declares no icon", v.Version, appID)
	}
	f, ok := v.File(v.Manifest.Icons[0].Src)
	if !ok {
		return nil, openmini.Errorf(openmini.EINVALID, "icon: version %s of %s has no file %s", v.Version, appID, v.Manifest.Icons[0].Src)
	}
	return s.cachedBlob(ctx, f.Key, func() ([]byte, error) { return s.readFileBlob(ctx, &f, f.Key) })
}

// writeImage sends a rendered code, cacheable by its content.
func writeImage(w http.ResponseWriter, r *http.Request, format qr.Format, b []byte, cacheControl string) {
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Content-Type", format.ContentType())
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	// SVGs are ours (rectangles and a PNG icon), but never let one run
	// anything if opened as a document.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// serveCodeImagePublic serves /s/{slug}.png|.svg: the code's image, public
// (the directory feed shows it), whatever the code's state.
func (s *Server) serveCodeImagePublic(w http.ResponseWriter, r *http.Request, slug, ext string) {
	if ext != "png" && ext != "svg" {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no image format %q: use .png or .svg", ext))
		return
	}
	c, err := s.qr.GetBySlug(r.Context(), slug)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	opts, err := s.renderOptions(r, ext, c.AppID, nil)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	b, err := s.qr.RenderCode(r.Context(), c, opts)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeImage(w, r, qr.Format(ext), b, "public, max-age=86400")
}

// ScanResult is what the host scanner's server-side decoder read
// (POST /host/api/scan).
type ScanResult struct {
	Result   string `json:"result"`
	ScanType string `json:"scanType"` // always QR_CODE
}

// handleHostScan decodes one QR code from an uploaded camera frame or
// picture (the request body: PNG, JPEG or GIF), for browsers without the
// Barcode Detection API and for "scan from an image". It only decodes:
// nothing is resolved or counted.
func (s *Server) handleHostScan(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := s.limitsHit(r, "qr-decode", qrDecodesPerMinute, time.Minute); err != nil {
		s.qrRateLimited(w, r, err)
		return
	}
	text, err := qr.DecodeImage(http.MaxBytesReader(w, r.Body, qr.MaxFrameBytes+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = openmini.Errorf(openmini.ETOOLARGE, "the image is larger than %d MB", qr.MaxFrameBytes>>20)
	}
	s.respond(w, r, http.StatusOK, ScanResult{Result: text, ScanType: "QR_CODE"}, err)
}

// ScanOpenRequest asks what a decoded string leads to
// (POST /host/api/scan/open).
type ScanOpenRequest struct {
	Text string `json:"text"`
}

// ScanAction tells the host scanner what to do with a decoded string:
// open a mini program in the shell (Open), go to one of our pages (Href),
// explain why one of our codes leads nowhere now (Problem), or, for
// anything else, show it (as a link when Link) and open nothing.
type ScanAction struct {
	Class   qr.Class  `json:"class"`
	Text    string    `json:"text"`
	Link    bool      `json:"link,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Open    *ScanOpen `json:"open,omitempty"`
	Href    string    `json:"href,omitempty"`
	Problem string    `json:"problem,omitempty"`
}

// ScanOpen is a launch the scanner starts with OpenMiniHost.open(AppID,
// Path, Query, Extra).
type ScanOpen struct {
	AppID string            `json:"appId"`
	Path  string            `json:"path"`
	Query map[string]string `json:"query"`
	Extra map[string]string `json:"extra"` // the host's own launch parameters: om_scene, trial
}

// scanOpen is the scanner's launch of a page or trial target; slug names
// the code that led here (its launch is counted).
func scanOpen(t qr.Target, slug string) *ScanOpen {
	o := &ScanOpen{AppID: t.AppID, Path: t.Page, Query: map[string]string{}, Extra: map[string]string{"om_scene": "qr"}}
	for k, v := range t.Query {
		switch k {
		case "om_scene", "om_qr":
		case "trial", "preview", "om_ref":
			o.Extra[k] = v
		default:
			o.Query[k] = v
		}
	}
	if t.Kind == qr.KindTrial {
		o.Extra["trial"] = "1"
	}
	if slug != "" {
		o.Query["om_qr"] = slug
	}
	return o
}

// handleHostScanOpen classifies a string the scanner decoded. One of our
// short links is resolved (the scan is counted) and leads to its mini
// program or payment page; one of our launch links or an addressing URI
// opens its mini program; anything else is returned to be shown, never
// opened.
func (s *Server) handleHostScanOpen(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var req ScanOpenRequest
	if !s.decodeLimited(w, r, &req, qr.MaxQueryBytes+8192) {
		return
	}
	if err := s.limitsHit(r, "qr-open", qrOpensPerMinute, time.Minute); err != nil {
		s.qrRateLimited(w, r, err)
		return
	}
	sc := s.qr.Classify(req.Text)
	out := ScanAction{Class: sc.Class, Text: req.Text, Link: sc.Link, Reason: sc.Reason}
	switch sc.Class {
	case qr.ClassShortLink:
		c, err := s.qr.Resolve(r.Context(), sc.Slug, s.qrVisitor(w, r))
		switch {
		case err != nil && openmini.ErrorCode(err) == openmini.EINTERNAL:
			s.renderError(w, r, err)
			return
		case err != nil:
			_, lines := s.codeFailure(r, c, err)
			for i, l := range lines {
				lines[i] = translate(requestLang(r), l)
			}
			out.Problem = strings.Join(lines, " ")
		case c.Target.Kind == qr.KindPage || c.Target.Kind == qr.KindTrial:
			out.Open = scanOpen(c.Target, c.Slug)
		default:
			out.Href = targetLink(c)
		}
	case qr.ClassLaunch, qr.ClassAddressing:
		out.Open = scanOpen(sc.Target, "")
	}
	writeJSON(w, http.StatusOK, out)
}

// takeQRParam removes om_qr (the short link a launch came through) from a
// launch link's query and returns it.
func takeQRParam(q url.Values) (url.Values, string) {
	slug := q.Get("om_qr")
	if _, ok := q["om_qr"]; !ok {
		return q, ""
	}
	out := make(url.Values, len(q))
	for k, v := range q {
		if k != "om_qr" {
			out[k] = v
		}
	}
	return out, slug
}

// recordQRLaunch counts a launch of appID that followed a scan of the code
// with this slug. A slug that is unknown or belongs to another app is
// ignored: the launch itself never fails for it.
func (s *Server) recordQRLaunch(w http.ResponseWriter, r *http.Request, appID, slug string) {
	if s.qr == nil || !qr.ValidSlug(slug) {
		return
	}
	ctx := r.Context()
	c, err := s.qr.GetBySlug(ctx, slug)
	if err != nil || c.Target.AppID != appID {
		return
	}
	if err := s.qr.RecordLaunch(ctx, slug, s.qrVisitor(w, r)); err != nil {
		s.log.WarnContext(ctx, "qr: recording a launch failed", "slug", slug, "app", appID, "err", err)
	}
}
