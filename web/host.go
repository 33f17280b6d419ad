package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/miniapp"
)

// routesHost: the host web app users open (mobile first). Every host page
// is the same shell (host.js) so that mini programs stay alive while the
// user moves between them; the server renders each page's first view.
func (s *Server) routesHost(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.handleHostHome)
	mux.HandleFunc("GET /app/{appID}/{page...}", s.handleHostApp)
	mux.HandleFunc("GET /host/api/launch/{appID}", s.handleHostLaunch)
	mux.HandleFunc("POST /host/api/storage", s.handleHostStorage)
	mux.HandleFunc("POST /host/api/consent", s.handleHostConsent)
}

const deviceCookie = "om_device"

// hostOwner is whose storage and consents a host request touches: the
// signed-in account, else this browser's anonymous device ID (made on
// first visit).
func (s *Server) hostOwner(w http.ResponseWriter, r *http.Request) (host.Owner, string) {
	if a, ok := accountFrom(r.Context()); ok {
		id := strconv.FormatInt(a.ID, 10)
		return host.AccountOwner(a.ID), "a" + id
	}
	if c, err := r.Cookie(deviceCookie); err == nil && len(c.Value) == 32 {
		return host.DeviceOwner(c.Value), "d" + c.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secureCookies(),
		SameSite: http.SameSiteLaxMode, MaxAge: 2 * 365 * 24 * 3600})
	return host.DeviceOwner(id), "d" + id
}

// Launch is everything the host needs to open a mini program: which
// version this user gets, where its files are, and the launch options the
// SDK hands the mini program.
type Launch struct {
	AppID       string               `json:"appId"`
	Name        string               `json:"name"`
	Developer   string               `json:"developer"`
	Origin      string               `json:"origin"` // the app's own origin
	Base        string               `json:"base"`   // origin + /_v/{sha}/
	Version     string               `json:"version"`
	VersionKind string               `json:"versionKind"` // release, trial or preview
	Icon        string               `json:"icon,omitempty"`
	Pages       []string             `json:"pages"`
	Path        string               `json:"path"` // the page route opened
	Query       map[string]string    `json:"query"`
	Scene       string               `json:"scene"`
	Referrer    string               `json:"referrer,omitempty"`
	Window      *miniapp.Window      `json:"window,omitempty"`
	Permissions []miniapp.Permission `json:"permissions"`
	Lang        string               `json:"lang"`
}

// Scenes: where a launch came from, as WeChat's scene values say it.
var scenes = map[string]bool{"qr": true, "search": true, "recommendation": true, "channel": true, "share": true,
	"recent": true, "favourite": true, "link": true, "miniprogram": true, "trial": true, "preview": true, "dev": true}

// resolveLaunch decides what this request's user gets for appID.
func (s *Server) resolveLaunch(w http.ResponseWriter, r *http.Request, appID, page string, q url.Values) (*Launch, error) {
	ctx := r.Context()
	a, err := s.apps.Get(ctx, appID)
	if err != nil {
		return nil, err
	}
	_, userKey := s.hostOwner(w, r)
	acct, signedIn := accountFrom(ctx)
	var v app.Version
	kind := "release"
	switch {
	case q.Get("preview") != "":
		id, _ := strconv.ParseInt(q.Get("preview"), 10, 64)
		if !signedIn {
			return nil, openmini.Errorf(openmini.EUNAUTHORIZED, "sign in to preview versions")
		}
		if !acct.IsStaff() {
			role, err := s.orgs.RoleOf(ctx, openmini.Actor{AccountID: acct.ID}, a.OrgID)
			if err != nil {
				return nil, err
			}
			if role == "" {
				return nil, openmini.Errorf(openmini.EFORBIDDEN, "previews are for reviewers and the app's developers")
			}
		}
		if v, err = s.apps.VersionByID(ctx, id); err != nil || v.AppID != appID {
			return nil, openmini.Errorf(openmini.ENOTFOUND, "%s has no version %s to preview", appID, q.Get("preview"))
		}
		kind = "preview"
	case q.Get("trial") == "1":
		if !signedIn {
			return nil, openmini.Errorf(openmini.EUNAUTHORIZED, "sign in to open the trial version")
		}
		if v, err = s.apps.TrialFor(ctx, appID, acct.ID); err != nil {
			return nil, err
		}
		kind = "trial"
	default:
		if v, err = s.apps.VersionFor(ctx, appID, userKey); err != nil {
			if openmini.ErrorCode(err) == openmini.ENOTFOUND {
				return nil, openmini.Errorf(openmini.ENOTFOUND, "%s is not available yet", a.Name)
			}
			return nil, err
		}
	}
	if err := s.verifyPackage(ctx, &v); err != nil {
		return nil, err
	}
	if page == "" {
		page = v.Manifest.Pages[0]
	}
	page = strings.TrimSuffix(strings.TrimPrefix(page, "/"), "/")
	found := false
	for _, p := range v.Manifest.Pages {
		if p == page || pageFile(p) == page {
			page, found = p, true
			break
		}
	}
	if !found {
		return nil, openmini.Errorf(openmini.ENOTFOUND, "%s has no page %q", a.Name, page)
	}
	l := &Launch{
		AppID: appID, Name: a.Name, Developer: a.OrgName, Origin: s.AppOrigin(appID), Version: v.Version, VersionKind: kind,
		Pages: v.Manifest.Pages, Path: page, Query: map[string]string{}, Window: v.Manifest.Window,
		Permissions: v.Manifest.ReqPermissions, Lang: requestLang(r), Scene: "link",
	}
	if l.Permissions == nil {
		l.Permissions = []miniapp.Permission{}
	}
	l.Base = l.Origin + "/_v/" + v.SHA256 + "/"
	if len(v.Manifest.Icons) > 0 {
		l.Icon = l.Base + v.Manifest.Icons[0].Src
	}
	if sc := q.Get("om_scene"); scenes[sc] {
		l.Scene = sc
	} else if kind != "release" {
		l.Scene = kind
	}
	l.Referrer = q.Get("om_ref")
	for k, vs := range q {
		switch k {
		case "preview", "trial", "om_scene", "om_ref":
			continue
		}
		if len(vs) > 0 {
			l.Query[k] = vs[0]
		}
	}
	return l, nil
}

// verifyPackage checks the platform's signature over the stored package
// once per digest per process (packages never change).
func (s *Server) verifyPackage(ctx context.Context, v *app.Version) error {
	if _, ok := s.origin.verified.Load(v.SHA256); ok {
		return nil
	}
	raw, err := s.readBlob(ctx, v.PackageKey)
	if err != nil {
		return err
	}
	if _, err := miniapp.Verify(raw, v.Signature, s.apps.Keys().Set()); err != nil {
		s.log.ErrorContext(ctx, "package signature check failed", "app", v.AppID, "version", v.Version, "err", err)
		return openmini.Errorf(openmini.EUNAVAILABLE, "this version of the mini program failed its integrity check and cannot be opened")
	}
	s.origin.verified.Store(v.SHA256, true)
	return nil
}

type hostData struct {
	Launch     *Launch
	FirstFrame string // the entry page's URL, with launch options in its fragment
	Problem    string
	Strings    map[string]string
	Scripts    []string // more host scripts (scanner, identity, payments)
	Tabs       []hostTab
}

// hostTab is a tab of the host's bottom bar besides Home.
type hostTab struct {
	Href, View, Label string
}

// newHostData starts the data of a host page.
func (s *Server) newHostData(lang string) *hostData {
	return &hostData{Strings: hostStrings(lang), Scripts: s.hostScripts, Tabs: s.hostTabs}
}

// firstFrame is the URL of a launch's entry page with the launch options
// in its fragment, exactly as host.js builds it.
func (s *Server) firstFrame(l *Launch) string {
	q := url.Values{}
	for k, v := range l.Query {
		q.Set(k, v)
	}
	u := l.Base + pageFile(l.Path)
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

// handleHostApp renders the host shell opened on a mini program.
func (s *Server) handleHostApp(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	v := s.newView(r, "OpenMini", nil)
	d := s.newHostData(v.Lang)
	v.Data = d
	if !app.ValidID(appID) {
		d.Problem = v.T("There is no such mini program.")
		s.renderHost(w, r, http.StatusNotFound, v)
		return
	}
	l, err := s.resolveLaunch(w, r, appID, r.PathValue("page"), r.URL.Query())
	if err != nil {
		if openmini.ErrorCode(err) == openmini.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		d.Problem = v.T(errMessage(err))
		s.renderHost(w, r, statusOf(err), v)
		return
	}
	d.Launch, d.FirstFrame = l, s.firstFrame(l)
	v.Title = l.Name
	s.renderHost(w, r, http.StatusOK, v)
}

// handleHostHome renders the host's home.
func (s *Server) handleHostHome(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "OpenMini", nil)
	s.hostOwner(w, r)
	v.Data = s.newHostData(v.Lang)
	s.renderHost(w, r, http.StatusOK, v)
}

func (s *Server) renderHost(w http.ResponseWriter, r *http.Request, status int, v *view) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: "+s.appsWildcard()+"; frame-src "+s.appsWildcard()+
		"; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
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

// handleHostLaunch answers the launch JSON for switching to another mini
// program inside the shell (navigateToMiniProgram, recent, search).
func (s *Server) handleHostLaunch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l, err := s.resolveLaunch(w, r, r.PathValue("appID"), q.Get("path"), queryFrom(q))
	s.respond(w, r, http.StatusOK, l, err)
}

// queryFrom turns ?path=..&query=a%3D1&scene=.. into the values the launch
// resolver reads.
func queryFrom(q url.Values) url.Values {
	out, _ := url.ParseQuery(q.Get("query"))
	for _, k := range []string{"preview", "trial", "om_scene", "om_ref"} {
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
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "storage: unknown mini program"))
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
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "storage: unknown operation %q", req.Op))
	}
}

// ConsentRequest records or reads a user's answer to a permission request.
type ConsentRequest struct {
	App        string `json:"app"`
	Permission string `json:"permission"`
	Granted    *bool  `json:"granted,omitempty"` // absent: just read the decision
}

func (s *Server) handleHostConsent(w http.ResponseWriter, r *http.Request) {
	var req ConsentRequest
	if !s.decode(w, r, &req) {
		return
	}
	owner, _ := s.hostOwner(w, r)
	perm := host.CanonicalPermission(req.Permission)
	if req.Granted != nil {
		if err := s.consents.Decide(r.Context(), owner, req.App, perm, *req.Granted); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	decided, granted, err := s.consents.Decision(r.Context(), owner, req.App, perm)
	s.respond(w, r, http.StatusOK, map[string]any{"decided": decided, "granted": granted}, err)
}

// decodeLimited is decode with a custom size limit.
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
