package web

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/identity"
)

// routesIdentity: the OpenID Connect endpoints mini program servers call
// (discovery, JWKS, token, userinfo), the host user pages (sign-up,
// sign-in, password reset, profile, authorised mini programs), the
// development mailbox, avatars, and the host endpoints behind
// openmini.getAuthCode and openmini.getLaunchData. It also adds the
// identity host script and the "Me" tab to the host shell.
func (s *Server) routesIdentity(mux *http.ServeMux) {
	if s.identity == nil {
		return
	}
	s.identity.Routes(mux, s.clientIP)
	s.hostScripts = append(s.hostScripts, "host-identity.js")
	s.hostTabs = append(s.hostTabs, hostTab{Href: "/me", View: "om-me", Label: "Me"})

	mux.HandleFunc("GET /me/signin", s.handleUserSigninForm)
	mux.HandleFunc("POST /me/signin", s.handleUserSignin)
	mux.HandleFunc("POST /me/signin/code", s.handleUserCodeStart)
	mux.HandleFunc("POST /me/signin/code/confirm", s.handleUserCodeConfirm)
	mux.HandleFunc("GET /me/signup", s.handleUserSignupForm)
	mux.HandleFunc("POST /me/signup", s.handleUserSignup)
	mux.HandleFunc("POST /me/signup/confirm", s.handleUserSignupConfirm)
	mux.HandleFunc("GET /me/reset", s.handleUserResetForm)
	mux.HandleFunc("POST /me/reset", s.handleUserReset)
	mux.HandleFunc("POST /me/reset/confirm", s.handleUserResetConfirm)
	mux.HandleFunc("POST /me/signout", s.handleUserSignout)
	mux.HandleFunc("GET /me", s.requireUser(s.handleUserProfile))
	mux.HandleFunc("POST /me/name", s.requireUser(s.handleUserName))
	mux.HandleFunc("POST /me/avatar", s.requireUser(s.handleUserAvatar))
	mux.HandleFunc("GET /me/apps", s.requireUser(s.handleUserApps))
	mux.HandleFunc("POST /me/apps/{appID}/revoke", s.requireUser(s.handleUserRevoke))
	mux.HandleFunc("GET /dev/mailbox", s.handleMailbox)
	mux.HandleFunc("GET /avatars/{owner}/{file}", s.handleAvatar)

	mux.HandleFunc("GET /host/api/me", answerJSON(s.handleHostMe))
	mux.HandleFunc("POST /host/api/auth-code", answerJSON(s.handleHostAuthCode))
	mux.HandleFunc("POST /host/api/launch-data", answerJSON(s.handleHostLaunchData))
}

// answerJSON makes errors of a host API endpoint JSON whatever the client
// accepts: only the host's scripts call them.
func answerJSON(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Accept", "application/json")
		h(w, r)
	}
}

// requireUser sends anonymous browsers to the host user sign-in page (and
// back afterwards); JSON clients and forms get 401.
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := accountFrom(r.Context()); !ok {
			if wantsJSON(r) || r.Method != http.MethodGet {
				s.renderError(w, r, errSignInFirst)
				return
			}
			http.Redirect(w, r, "/me/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}

var errSignInFirst = openmini.Errorf(openmini.EUNAUTHORIZED, "sign in first")

// MeResponse is GET /host/api/me: who the host's user is, for the "Me"
// tab of the host shell.
type MeResponse struct {
	SignedIn bool   `json:"signed_in"`
	Name     string `json:"name,omitempty"`
	Login    string `json:"login,omitempty"` // e-mail address or phone number
	Avatar   string `json:"avatar,omitempty"`
	CSS      string `json:"css"` // the stylesheet of the "Me" view
}

func (s *Server) handleHostMe(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	a, ok := accountFrom(r.Context())
	if !ok {
		writeJSON(w, http.StatusOK, MeResponse{CSS: assetURL("identity.css")})
		return
	}
	p, err := s.identity.Profile(r.Context(), a.ID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	out := MeResponse{SignedIn: true, Name: p.Name, Login: p.Email, CSS: assetURL("identity.css")}
	if out.Login == "" {
		out.Login = p.Phone
	}
	if p.AvatarKey != "" {
		out.Avatar = "/" + p.AvatarKey
	}
	writeJSON(w, http.StatusOK, out)
}

// ScopeReason is a scope the user allowed on the consent sheet, with the
// reason from the manifest the sheet showed.
type ScopeReason struct {
	Scope  string `json:"scope"`
	Reason string `json:"reason"`
}

// AuthCodeRequest is POST /host/api/auth-code, sent by the host shell for
// openmini.getAuthCode.
type AuthCodeRequest struct {
	App    string   `json:"app"`
	Scopes []string `json:"scopes"`
	Nonce  string   `json:"nonce,omitempty"`
	// Grant records the user's consent to these scopes (a subset of
	// Scopes) before the code is issued.
	Grant []ScopeReason `json:"grant,omitempty"`
}

// AuthCodeResponse carries either a code or, when the user has not yet
// allowed some scopes, the list the consent sheet must ask for.
type AuthCodeResponse struct {
	Code      string   `json:"code,omitempty"`
	ExpiresIn int      `json:"expires_in,omitempty"` // seconds
	Consent   []string `json:"consent,omitempty"`
}

// authCodesPerMinute caps the codes one account may ask for.
const authCodesPerMinute = 30

// handleHostAuthCode records the consent the sheet just collected (if
// any) and issues a one-time code; without consent for some scopes it
// answers which ones the sheet must ask for.
func (s *Server) handleHostAuthCode(w http.ResponseWriter, r *http.Request) {
	var req AuthCodeRequest
	if !s.decode(w, r, &req) {
		return
	}
	a, ok := accountFrom(r.Context())
	if !ok {
		s.renderError(w, r, errSignInFirst)
		return
	}
	ctx := r.Context()
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "app: %q is not a mini program ID", req.App))
		return
	}
	scopes, err := identity.NormalizeScopes(req.Scopes)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.limits.Hit(ctx, "authcode:"+itoa(a.ID), authCodesPerMinute, time.Minute); err != nil {
		s.renderError(w, r, err)
		return
	}
	if len(req.Grant) > 0 {
		grants := make([]identity.ScopeGrant, 0, len(req.Grant))
		for _, g := range req.Grant {
			if g.Scope == identity.ScopeOpenID || !slices.Contains(scopes, g.Scope) {
				s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "grant: %q is not one of the requested scopes", g.Scope))
				return
			}
			grants = append(grants, identity.ScopeGrant{Scope: g.Scope, Reason: g.Reason})
		}
		if err := s.identity.Grant(ctx, a.ID, req.App, grants); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	code, err := s.identity.GetAuthCodeWithNonce(ctx, a.ID, req.App, scopes, req.Nonce)
	if openmini.ErrorCode(err) == openmini.EFORBIDDEN {
		miss, merr := s.identity.MissingConsent(ctx, a.ID, req.App, scopes)
		if merr == nil && len(miss) > 0 {
			writeJSON(w, http.StatusOK, AuthCodeResponse{Consent: miss})
			return
		}
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, AuthCodeResponse{Code: code.Code, ExpiresIn: int(time.Until(code.ExpiresAt) / time.Second)})
}

// LaunchDataRequest is POST /host/api/launch-data: the launch the host
// shell resolved for a mini program (from GET /host/api/launch or the
// page it rendered), to be signed for openmini.getLaunchData.
type LaunchDataRequest struct {
	App   string            `json:"app"`
	Path  string            `json:"path"`
	Query map[string]string `json:"query"`
	Scene string            `json:"scene"`
}

// LaunchDataResponse is the signed launch data.
type LaunchDataResponse struct {
	Token string `json:"token"`
}

// handleHostLaunchData signs the signed-in user's launch of a mini
// program. Launch data names a user, so anonymous visitors are refused
// (the host asks them to sign in).
func (s *Server) handleHostLaunchData(w http.ResponseWriter, r *http.Request) {
	var req LaunchDataRequest
	if !s.decode(w, r, &req) {
		return
	}
	a, ok := accountFrom(r.Context())
	if !ok {
		s.renderError(w, r, errSignInFirst)
		return
	}
	if !app.ValidID(req.App) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "app: %q is not a mini program ID", req.App))
		return
	}
	if req.Scene == "" {
		req.Scene = "link"
	}
	if !sceneRE.MatchString(req.Scene) {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "scene: %q is not a launch scene", req.Scene))
		return
	}
	if _, err := s.apps.Get(r.Context(), req.App); err != nil {
		s.renderError(w, r, err)
		return
	}
	q := url.Values{}
	for k, v := range req.Query {
		q.Set(k, v)
	}
	token, err := s.identity.SignLaunch(r.Context(), identity.LaunchClaims{
		AppID: req.App, AccountID: a.ID, Scene: req.Scene, Query: q.Encode(), Path: strings.TrimPrefix(req.Path, "/"),
	})
	w.Header().Set("Cache-Control", "no-store")
	s.respond(w, r, http.StatusOK, LaunchDataResponse{Token: token}, err)
}

// sceneRE is what a launch scene looks like ("qr", "search", ...); the
// host shell sends the scene its launch resolution chose.
var sceneRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// avatarFile is the last part of an avatar blob key (see
// identity.Service.SetAvatar: avatars/{account}/{random}.{ext}).
var avatarFile = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}\.(png|jpg|webp)$`)

// handleAvatar serves a user's avatar. Avatar URLs hold a random part and
// change with every upload, so they are cached forever; they are public
// because apps granted the profile scope get them as the picture claim.
func (s *Server) handleAvatar(w http.ResponseWriter, r *http.Request) {
	owner, file := r.PathValue("owner"), r.PathValue("file")
	if !allDigits(owner) || !avatarFile.MatchString(file) {
		http.NotFound(w, r)
		return
	}
	rc, info, err := s.blob.Get(r.Context(), "avatars/"+owner+"/"+file)
	if errors.Is(err, blob.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.renderError(w, r, &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "avatar unavailable", Err: err})
		return
	}
	defer rc.Close()
	ct := map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}[path.Ext(file)]
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	if info.Size > 0 {
		w.Header().Set("Content-Length", itoa(info.Size))
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, rc)
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != "" && len(s) <= 19
}

// mailboxOpen reports whether the development mailbox may be shown to
// this request: only when the identity service sends codes through its
// development sender, and then only on a loopback platform (a newcomer's
// machine) or to operator staff, since the mailbox holds live codes.
func (s *Server) mailboxOpen(r *http.Request) bool {
	if !s.devMailbox {
		return false
	}
	if isLocalHostname(s.public.Hostname()) {
		return true
	}
	a, ok := accountFrom(r.Context())
	return ok && a.IsStaff()
}

func isLocalHostname(h string) bool {
	h = strings.ToLower(h)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// adoptDeviceStorage moves what the mini programs stored for this
// browser's anonymous device into the account that just signed in.
func (s *Server) adoptDeviceStorage(r *http.Request, accountID int64) error {
	c, err := r.Cookie(deviceCookie)
	if err != nil || len(c.Value) != 32 {
		return nil
	}
	return s.storage.Adopt(r.Context(), host.DeviceOwner(c.Value), host.AccountOwner(accountID))
}
