package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/qr"
)

// Traffic distribution (package discovery) on every surface:
//
//   - the host's home view (search with suggestions, operator channels,
//     recommendations with their reasons, recent mini programs) and "my
//     mini programs" (recent and favourites), rendered on the server
//     (home.go, templates/host_discovery.tmpl) and kept fresh by
//     static/host-discovery.js through the /host/api/discovery/ endpoints
//     below;
//   - every launch the host resolves is recorded with its scene, QR code
//     and source app (recordLaunch), and the shell reports how long each
//     launch stayed in the foreground;
//   - the developer console's Analytics tab and the analytics API
//     (discovery_console.go), the operator console's Discovery pages
//     (discovery_admin.go) and the public directory feed
//     (discovery_feed.go).
//
// Nothing is mounted without a discovery service.

// routesDiscovery lists every discovery route.
func (s *Server) routesDiscovery(mux *http.ServeMux) {
	if s.discovery == nil {
		return
	}
	mux.HandleFunc("GET /host/api/discovery/home", hostAPI(s.handleDiscoveryHome))
	mux.HandleFunc("GET /host/api/discovery/my", hostAPI(s.handleDiscoveryMy))
	mux.HandleFunc("GET /host/api/discovery/suggest", hostAPI(s.handleDiscoverySuggest))
	mux.HandleFunc("POST /host/api/discovery/hide", hostAPI(s.handleDiscoveryHide))
	mux.HandleFunc("POST /host/api/discovery/favourite", hostAPI(s.handleDiscoveryFavourite))
	mux.HandleFunc("POST /host/api/discovery/recent/remove", hostAPI(s.handleDiscoveryRecentRemove))
	mux.HandleFunc("POST /host/api/discovery/session", hostAPI(s.handleDiscoverySession))
	s.hostScripts = append(s.hostScripts, "host-discovery.js")
	s.extendHostTemplates()
	s.routesAnalytics(mux)
	s.routesDiscoveryAdmin(mux)
	s.routesDirectory(mux)
}

// recordLaunch records a launch the host resolved for this request: its
// scene, the account (0 when not signed in), the QR code (om_qr) and the
// mini program that opened it, at the user's local time (habits count by
// the time of day). Only releases count; trial, preview and development
// launches are the developers' own. The launch's ID goes back in l for
// the shell's foreground reports. A failure is logged: the launch itself
// never fails for it.
func (s *Server) recordLaunch(r *http.Request, l *host.Launch, qrSlug string) {
	if s.discovery == nil || l == nil || l.VersionKind != "release" {
		return
	}
	scene := discovery.Scene(l.Scene)
	if !scene.Valid() {
		scene = discovery.SceneLink
	}
	if !qr.ValidSlug(qrSlug) {
		qrSlug = ""
	}
	var acct int64
	if a, ok := accountFrom(r.Context()); ok {
		acct = a.ID
	}
	src := l.Referrer
	if !app.ValidID(src) {
		src = ""
	}
	id, err := s.discovery.RecordLaunch(r.Context(), discovery.Launch{AccountID: acct, AppID: l.AppID, Scene: scene,
		At: time.Now().In(userLocation(r)), QRSlug: qrSlug, SourceAppID: src})
	if err != nil {
		s.log.WarnContext(r.Context(), "discovery: recording a launch failed", "app", l.AppID, "err", err)
		return
	}
	l.LaunchID = id
}

// tzCookie holds the user's IANA time zone, set by host-discovery.js.
const tzCookie = "om_tz"

// userLocation is the user's time zone from the om_tz cookie; UTC when
// there is none or it names no zone this machine knows.
func userLocation(r *http.Request) *time.Location {
	c, err := r.Cookie(tzCookie)
	if err != nil || c.Value == "" || len(c.Value) > 64 || c.Value == "Local" ||
		strings.Trim(c.Value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") != "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(c.Value)
	if err != nil {
		return time.UTC
	}
	return loc
}

// signedIn returns the request's account ID, or writes a 401 saying what
// signing in is needed for.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, why string) (int64, bool) {
	a, ok := accountFrom(r.Context())
	if !ok {
		s.renderError(w, r, openmini.Errorf(openmini.EUNAUTHORIZED, "%s", why))
		return 0, false
	}
	return a.ID, true
}

// DiscoveryAppRequest names a mini program in the host's discovery calls.
type DiscoveryAppRequest struct {
	App string `json:"app"`
}

// FavouriteRequest adds a mini program to the user's favourites (or
// removes it with favourite false).
type FavouriteRequest struct {
	App       string `json:"app"`
	Favourite bool   `json:"favourite"`
}

// SessionReport is foreground time of one launch, sent by the shell when
// the mini program leaves the screen.
type SessionReport struct {
	Launch int64 `json:"launch"`
	MS     int64 `json:"ms"`
}

func (s *Server) decodeApp(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req DiscoveryAppRequest
	if !s.decode(w, r, &req) {
		return "", false
	}
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "app: %q is not a mini program ID", req.App))
		return "", false
	}
	return req.App, true
}

// handleDiscoveryHide stops recommending an app to the signed-in user.
func (s *Server) handleDiscoveryHide(w http.ResponseWriter, r *http.Request) {
	id, ok := s.decodeApp(w, r)
	if !ok {
		return
	}
	acct, ok := s.signedIn(w, r, "sign in to hide recommendations")
	if !ok {
		return
	}
	s.respond(w, r, http.StatusOK, map[string]any{"hidden": id}, s.discovery.HideRecommendation(r.Context(), acct, id))
}

// handleDiscoveryFavourite adds or removes a favourite (the capsule
// menu's "Add to favourites", the star in "my mini programs").
func (s *Server) handleDiscoveryFavourite(w http.ResponseWriter, r *http.Request) {
	var req FavouriteRequest
	if !s.decode(w, r, &req) {
		return
	}
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "app: %q is not a mini program ID", req.App))
		return
	}
	acct, ok := s.signedIn(w, r, "sign in to keep favourites")
	if !ok {
		return
	}
	var err error
	if req.Favourite {
		err = s.discovery.AddFavourite(r.Context(), acct, req.App)
	} else {
		err = s.discovery.RemoveFavourite(r.Context(), acct, req.App)
	}
	s.respond(w, r, http.StatusOK, map[string]any{"app": req.App, "favourite": req.Favourite}, err)
}

// handleDiscoveryRecentRemove takes an app off the user's recent list
// until they open it again.
func (s *Server) handleDiscoveryRecentRemove(w http.ResponseWriter, r *http.Request) {
	id, ok := s.decodeApp(w, r)
	if !ok {
		return
	}
	acct, ok := s.signedIn(w, r, "sign in to keep a list of recent mini programs")
	if !ok {
		return
	}
	s.respond(w, r, http.StatusOK, map[string]any{"removed": id}, s.discovery.RemoveRecent(r.Context(), acct, id))
}

// handleDiscoverySession adds foreground time to a launch of this user
// (anonymous launches to anonymous reporters only).
func (s *Server) handleDiscoverySession(w http.ResponseWriter, r *http.Request) {
	var req SessionReport
	if !s.decode(w, r, &req) {
		return
	}
	var acct int64
	if a, ok := accountFrom(r.Context()); ok {
		acct = a.ID
	}
	err := s.discovery.RecordSession(r.Context(), discovery.Session{LaunchID: req.Launch, AccountID: acct,
		Foreground: time.Duration(req.MS) * time.Millisecond})
	s.respond(w, r, http.StatusOK, map[string]any{"launch": req.Launch}, err)
}
