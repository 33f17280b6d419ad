package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/host"
)

// routesHost: the host web app users open (mobile first). Every host page
// is the same shell (host.js) so that mini programs stay alive while the
// user moves between them; the server renders each page's first view.
// The endpoints under /host/api/ serve the shell only: they accept
// requests from the host's own origin (cross-origin protection), never
// from a mini program's.
func (s *Server) routesHost(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.hostView("om-home"))
	for _, v := range builtinHostViews {
		mux.HandleFunc("GET "+v.Href, s.hostView(v.View))
	}
	mux.HandleFunc("GET /app/{appID}/{page...}", s.handleHostApp)
	mux.HandleFunc("GET /host/api/launch/{appID}", hostAPI(s.handleHostLaunch))
	mux.HandleFunc("POST /host/api/storage", hostAPI(s.handleHostStorage))
	mux.HandleFunc("POST /host/api/consent", hostAPI(s.handleHostConsent))
	mux.HandleFunc("POST /host/api/report", hostAPI(s.handleHostReport))
}

// hostAPI marks a host shell endpoint: it answers JSON, errors included,
// and is never cached.
func hostAPI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Accept", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		h(w, r)
	}
}

// builtinHostViews are the host's own views besides Home, each a tab of
// the bottom bar. Other surfaces add theirs to s.hostTabs (and fill
// their view from a host script).
var builtinHostViews = []hostTab{
	{Href: "/my", View: "om-my", Label: "My mini programs"},
	{Href: "/scan", View: "om-scan", Label: "Scan"},
}

const deviceCookie = "om_device"

// hostRuntime holds the host services built from the server's
// dependencies on first use.
type hostRuntime struct {
	once     sync.Once
	launcher *host.Launcher
	reports  *host.Reports
}

func (s *Server) hostServices() *hostRuntime {
	rt := &s.origin.host
	rt.once.Do(func() {
		rt.launcher = host.NewLauncher(s.apps, s.orgs, s.blob, s.log, s.AppOrigin)
		rt.reports = host.NewReports(s.db, s.apps, s.limits)
	})
	return rt
}

// hostOwner is whose storage and consents a host request touches: the
// signed-in account, else this browser's anonymous device ID (made on
// first visit, in an HttpOnly host-only cookie). The key is stable per
// person and picks their side of a gradual rollout.
func (s *Server) hostOwner(w http.ResponseWriter, r *http.Request) (owner host.Owner, key string) {
	if a, ok := accountFrom(r.Context()); ok {
		return host.AccountOwner(a.ID), "a" + strconv.FormatInt(a.ID, 10)
	}
	if c, err := r.Cookie(deviceCookie); err == nil && validDeviceID(c.Value) {
		return host.DeviceOwner(c.Value), "d" + c.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secureCookies(),
		SameSite: http.SameSiteLaxMode, MaxAge: 2 * 365 * 24 * 3600})
	return host.DeviceOwner(id), "d" + id
}

func validDeviceID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// resolveLaunch decides what this request's user gets for appID.
func (s *Server) resolveLaunch(w http.ResponseWriter, r *http.Request, appID, page string, q url.Values) (*host.Launch, error) {
	_, key := s.hostOwner(w, r)
	// om_qr names the QR code a launch came through: it is counted for the
	// code (qr.go) and never reaches the mini program.
	q, qrSlug := takeQRParam(q)
	if s.isDevApp(appID) {
		return s.devLaunch(r, page, q) // openmini dev: the project on disk
	}
	v := host.Viewer{Key: key}
	if a, ok := accountFrom(r.Context()); ok {
		v.AccountID, v.Staff = a.ID, a.IsStaff()
	}
	l, err := s.hostServices().launcher.Resolve(r.Context(), v, host.LaunchRequest{AppID: appID, Page: page, Query: q, Lang: requestLang(r)})
	if err == nil && qrSlug != "" {
		s.recordQRLaunch(w, r, l.AppID, qrSlug)
	}
	if err == nil {
		s.recordLaunch(r, l, qrSlug) // discovery.go
	}
	return l, err
}

// hostData is what host.html renders.
type hostData struct {
	View       string // the host view shown first (om-home, om-my...), "" when a mini program is
	Launch     *host.Launch
	FirstFrame string // the entry page's URL, with launch options in its fragment
	Problem    string
	Strings    map[string]string
	Scripts    []string // more host scripts (scanner, identity, payments)
	// LateScripts are the same scripts' URLs when a mini program is being
	// launched: the shell loads them once the entry page has loaded, so
	// they do not compete with it for the browser's main thread.
	LateScripts []string
	Tabs        []hostTab
	Version     string

	// Discovery is what the home and "my mini programs" views show
	// (home.go); nil for other views and when a mini program is opened.
	Discovery any
}

// hostTab is a tab of the host's bottom bar besides Home: a link to Href
// that shows the host view (a section) with id View.
type hostTab struct {
	Href, View, Label string
	On                bool // the page showing the bar is this tab's
}

// newHostData starts the data of a host page.
func (s *Server) newHostData(lang string) *hostData {
	return &hostData{Strings: hostStrings(lang), Scripts: s.hostScripts, Tabs: s.bottomTabs(""), Version: s.cfg.Version}
}

// bottomTabs are the tabs of the host's bottom bar besides Home, with the
// one whose view is active marked (the wallet and "Me" pages, which are
// pages of their own, show the same bar).
func (s *Server) bottomTabs(active string) []hostTab {
	tabs := append(append([]hostTab{}, builtinHostViews...), s.hostTabs...)
	for i := range tabs {
		tabs[i].On = tabs[i].View == active
	}
	return tabs
}

// firstFrame is the URL of a launch's entry page with the launch options
// in its fragment, exactly as host.js builds it.
func (s *Server) firstFrame(l *host.Launch) string {
	q := url.Values{}
	for k, v := range l.Query {
		q.Set(k, v)
	}
	u := l.Base + host.PageFile(l.Path)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	opts := map[string]any{"path": l.Path, "query": l.Query, "scene": l.Scene, "referrerInfo": map[string]string{},
		"appId": l.AppID, "version": l.Version, "versionKind": l.VersionKind, "host": s.HostOrigin()}
	if l.Referrer != "" {
		opts["referrerInfo"] = map[string]string{"appId": l.Referrer}
	}
	b, _ := json.Marshal(opts)
	return u + "#om=" + url.QueryEscape(string(b))
}

// handleHostApp renders the host shell opened on a mini program: a launch
// link /app/{appID}/{page}?{query}.
func (s *Server) handleHostApp(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	v := s.newView(r, "OpenMini", nil)
	d := s.newHostData(v.Lang)
	v.Data = d
	l, err := s.resolveLaunch(w, r, appID, r.PathValue("page"), r.URL.Query())
	if err != nil {
		if code := openmini.ErrorCode(err); code == openmini.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		d.Problem, d.View = v.T(errMessage(err)), "om-problem"
		s.renderHost(w, r, statusOf(err), v)
		return
	}
	d.Launch, d.FirstFrame = l, s.firstFrame(l)
	for _, sc := range d.Scripts {
		d.LateScripts = append(d.LateScripts, assetURL(sc))
	}
	v.Title = l.Name
	s.renderHost(w, r, http.StatusOK, v)
}

// hostView renders the host shell showing one of its own views.
func (s *Server) hostView(view string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.newView(r, "OpenMini", nil)
		s.hostOwner(w, r)
		d := s.newHostData(v.Lang)
		d.View = view
		d.Discovery = s.hostViewData(r, view) // home.go
		v.Data = d
		s.renderHost(w, r, http.StatusOK, v)
	}
}

func (s *Server) renderHost(w http.ResponseWriter, r *http.Request, status int, v *view) {
	ancestors := "'none'"
	if s.cfg.Dev != nil {
		ancestors = "'self'" // openmini dev: the simulator frames the shell
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: "+s.appsWildcard()+"; frame-src "+s.appsWildcard()+
		"; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "+ancestors)
	w.Header().Set("Cache-Control", "no-store")
	// Geolocation and the clipboard are the host's alone: a mini program
	// reaches them only through the SDK, after the manifest and the user
	// allowed it (iframes get no allow= for them).
	w.Header().Set("Permissions-Policy", "geolocation=(self), camera=(self), microphone=(), payment=(), usb=(), serial=(), hid=(), bluetooth=()")
	s.render(w, r, status, "host", v)
}

// appsWildcard is the CSP source matching every app origin.
func (s *Server) appsWildcard() string {
	o := s.public.Scheme + "://*." + s.cfg.AppsDomain
	if p := s.public.Port(); p != "" {
		o += ":" + p
	}
	return o
}

// handleHostLaunch answers the launch JSON for opening a mini program
// inside the shell (navigateToMiniProgram, the switcher, links).
func (s *Server) handleHostLaunch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l, err := s.resolveLaunch(w, r, r.PathValue("appID"), q.Get("path"), queryFrom(q))
	w.Header().Set("Cache-Control", "no-store")
	s.respond(w, r, http.StatusOK, l, err)
}

// queryFrom turns ?path=..&query=a%3D1&om_scene=.. into the values the
// launch resolver reads.
func queryFrom(q url.Values) url.Values {
	out, _ := url.ParseQuery(q.Get("query"))
	for _, k := range host.HostParams {
		out.Del(k)
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// StorageRequest is one storage call of the SDK, relayed by the host.
type StorageRequest struct {
	App  string          `json:"app"`
	Op   string          `json:"op"` // set, get, remove, clear, info
	Key  string          `json:"key,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

func (s *Server) handleHostStorage(w http.ResponseWriter, r *http.Request) {
	var req StorageRequest
	if !s.decodeLimited(w, r, &req, host.MaxValueBytes+4096) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "storage: %q is not a mini program ID", req.App))
		return
	}
	owner, _ := s.hostOwner(w, r)
	ctx := r.Context()
	st := s.storage
	switch req.Op {
	case "set":
		if len(req.Data) == 0 {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "storage: setStorage needs data"))
			return
		}
		s.respond(w, r, http.StatusOK, map[string]any{}, st.Set(ctx, owner, req.App, req.Key, req.Data))
	case "get":
		data, err := st.Get(ctx, owner, req.App, req.Key)
		s.respond(w, r, http.StatusOK, map[string]any{"data": data}, err)
	case "remove":
		s.respond(w, r, http.StatusOK, map[string]any{}, st.Remove(ctx, owner, req.App, req.Key))
	case "clear":
		s.respond(w, r, http.StatusOK, map[string]any{}, st.Clear(ctx, owner, req.App))
	case "info":
		info, err := st.Info(ctx, owner, req.App)
		s.respond(w, r, http.StatusOK, info, err)
	default:
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "storage: unknown operation %q (set, get, remove, clear or info)", req.Op))
	}
}

// ConsentRequest records or reads a user's answer to a permission request.
type ConsentRequest struct {
	App        string `json:"app"`
	Permission string `json:"permission"`
	Granted    *bool  `json:"granted,omitempty"` // absent: just read the decision
}

// ConsentResponse is the user's standing decision.
type ConsentResponse struct {
	Decided bool `json:"decided"`
	Granted bool `json:"granted"`
}

func (s *Server) handleHostConsent(w http.ResponseWriter, r *http.Request) {
	var req ConsentRequest
	if !s.decode(w, r, &req) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "consent: %q is not a mini program ID", req.App))
		return
	}
	owner, _ := s.hostOwner(w, r)
	perm := host.CanonicalPermission(req.Permission)
	if !host.KnownPermission(perm) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "consent: %q is not a permission", req.Permission))
		return
	}
	if req.Granted != nil {
		if err := s.consents.Decide(r.Context(), owner, req.App, perm, *req.Granted); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	decided, granted, err := s.consents.Decision(r.Context(), owner, req.App, perm)
	s.respond(w, r, http.StatusOK, ConsentResponse{Decided: decided, Granted: granted}, err)
}

// ReportRequest is POST /host/api/report, sent by the capsule menu's
// "Report" item.
type ReportRequest = host.Report

// handleHostReport files a user's report about a mini program in the
// audit log (action app.report), at most host.ReportsPerHour per device
// or account.
func (s *Server) handleHostReport(w http.ResponseWriter, r *http.Request) {
	var req ReportRequest
	if !s.decode(w, r, &req) {
		return
	}
	owner, _ := s.hostOwner(w, r)
	err := s.hostServices().reports.Submit(r.Context(), owner, req)
	s.respond(w, r, http.StatusCreated, map[string]any{}, err)
}

// decodeLimited is decode with a custom size limit, for storage values.
func (s *Server) decodeLimited(w http.ResponseWriter, r *http.Request, v any, max int64) bool {
	body := http.MaxBytesReader(w, r.Body, max)
	if err := json.NewDecoder(body).Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.renderError(w, r, openmini.Errorf(openmini.ETOOLARGE, "storage: one key holds at most 1 MB"))
			return false
		}
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "request body: %v", err))
		return false
	}
	return true
}
