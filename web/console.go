package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
)

// The consoles are server-rendered pages over the same services as the
// REST API. Every change is a plain POST form; after a change the handler
// redirects (POST/redirect/GET) with a flash message, except when the
// answer holds something shown once (a new app secret, invitation link or
// API key token), which is rendered directly. A refused change re-renders
// the page with the service's message above it and the matching status.

// routesConsole: sign-up and invitations (/signup, /join) and the
// developer console (/console). The operator console's routes are listed
// in routesAdmin, registered from here.
func (s *Server) routesConsole(mux *http.ServeMux) {
	mux.HandleFunc("GET /signup", s.handleSignupForm)
	mux.HandleFunc("POST /signup", s.handleSignup)
	mux.HandleFunc("GET /join", s.handleJoin)
	mux.HandleFunc("POST /join", s.requireAccount(s.handleJoinAccept))

	acc := s.requireAccount
	mux.HandleFunc("GET /console", acc(s.consoleHome))
	mux.HandleFunc("POST /console/orgs", acc(s.consoleOrgCreate))
	mux.HandleFunc("POST /console/apps", acc(s.consoleAppCreate))

	mux.HandleFunc("GET /console/apps/{appID}", acc(s.consoleApp))
	mux.HandleFunc("POST /console/apps/{appID}/release", acc(s.consoleRelease))
	mux.HandleFunc("POST /console/apps/{appID}/release/pause", acc(s.consoleReleasePause))
	mux.HandleFunc("POST /console/apps/{appID}/release/resume", acc(s.consoleReleaseResume))
	mux.HandleFunc("POST /console/apps/{appID}/rollback", acc(s.consoleRollback))
	mux.HandleFunc("POST /console/apps/{appID}/trial", acc(s.consoleTrialSet))
	mux.HandleFunc("POST /console/apps/{appID}/trial/clear", acc(s.consoleTrialClear))
	mux.HandleFunc("GET /console/apps/{appID}/settings", acc(s.consoleSettings))
	mux.HandleFunc("POST /console/apps/{appID}/settings", acc(s.consoleSettingsSave))
	mux.HandleFunc("POST /console/apps/{appID}/secret", acc(s.consoleSecretRotate))
	mux.HandleFunc("GET /console/apps/{appID}/versions", acc(s.consoleVersions))
	mux.HandleFunc("POST /console/apps/{appID}/versions", acc(s.consoleUpload))
	mux.HandleFunc("POST /console/apps/{appID}/versions/{version}/submit", acc(s.consoleSubmit))
	mux.HandleFunc("GET /console/apps/{appID}/testers", acc(s.consoleTesters))
	mux.HandleFunc("POST /console/apps/{appID}/testers", acc(s.consoleTesterAdd))
	mux.HandleFunc("POST /console/apps/{appID}/testers/{accountID}/remove", acc(s.consoleTesterRemove))
	mux.HandleFunc("GET /console/apps/{appID}/audit", acc(s.consoleAppAudit))

	mux.HandleFunc("GET /console/orgs/{orgID}", acc(s.consoleOrg))
	mux.HandleFunc("POST /console/orgs/{orgID}/members/{accountID}/role", acc(s.consoleMemberRole))
	mux.HandleFunc("POST /console/orgs/{orgID}/members/{accountID}/remove", acc(s.consoleMemberRemove))
	mux.HandleFunc("POST /console/orgs/{orgID}/invitations", acc(s.consoleInvitationCreate))
	mux.HandleFunc("POST /console/orgs/{orgID}/invitations/{invitationID}/revoke", acc(s.consoleInvitationRevoke))
	mux.HandleFunc("POST /console/orgs/{orgID}/keys", acc(s.consoleKeyCreate))
	mux.HandleFunc("POST /console/orgs/{orgID}/keys/{keyID}/revoke", acc(s.consoleKeyRevoke))
	mux.HandleFunc("GET /console/orgs/{orgID}/audit", acc(s.consoleOrgAudit))

	s.routesAdmin(mux)
}

// flashes are the messages a redirect may carry to the next page. The
// cookie holds only the key, so nobody can put words on our pages.
var flashes = map[string]string{
	"signed-up":          "Welcome! Your account and organisation are ready.",
	"joined":             "You joined the organisation.",
	"org-created":        "Organisation created.",
	"settings-saved":     "Settings saved.",
	"uploaded":           "Version uploaded. Submit it for review when it is ready.",
	"submitted":          "Submitted for review. A reviewer will look at it soon.",
	"trial-set":          "Trial version set.",
	"trial-cleared":      "The app has no trial version now.",
	"released":           "Release updated.",
	"paused":             "Rollout paused.",
	"resumed":            "Rollout resumed.",
	"rolled-back":        "Rolled back.",
	"tester-added":       "Tester added.",
	"tester-removed":     "Tester removed.",
	"member-updated":     "Role changed.",
	"member-removed":     "Member removed.",
	"invitation-revoked": "Invitation revoked.",
	"key-revoked":        "API key revoked.",
	"approved":           "Version approved. The developer can release it now.",
	"rejected":           "Version rejected. The developer sees your reason.",
	"org-status":         "Organisation status changed.",
	"policy-saved":       "Policy saved.",
	"category-saved":     "Category saved.",
	"category-deleted":   "Category deleted.",
}

const flashCookie = "om_flash"

// done finishes a successful change: it leaves a flash message for the
// next page and redirects there with 303 See Other.
func (s *Server) done(w http.ResponseWriter, r *http.Request, to, flash string) {
	if _, ok := flashes[flash]; ok {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: flash, Path: "/", MaxAge: 60, HttpOnly: true,
			Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// page starts a console page's view, taking (and clearing) a flash
// message left by the previous request.
func (s *Server) page(w http.ResponseWriter, r *http.Request, title string, data any) *view {
	v := s.newView(r, title, data)
	if c, err := r.Cookie(flashCookie); err == nil {
		if msg, ok := flashes[c.Value]; ok {
			v.Flash = v.T(msg)
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	}
	return v
}

// navLink is one entry of a page's tab bar.
type navLink struct {
	URL     string
	Label   string // English; the template translates it
	Current bool
}

// tabDef names a tab: its path below the section's base URL and its label.
type tabDef struct{ Tab, Path, Label string }

func tabs(base, current string, defs []tabDef) []navLink {
	out := make([]navLink, len(defs))
	for i, d := range defs {
		out[i] = navLink{URL: base + d.Path, Label: d.Label, Current: d.Tab == current}
	}
	return out
}

// stateLabels are the words the consoles use for version states.
var stateLabels = map[string]string{
	app.StateDevelopment: "In development",
	app.StateReview:      "Waiting for review",
	app.StateRejected:    "Rejected",
	app.StateApproved:    "Approved",
	app.StateReleased:    "Released",
}

// roleLabels are the words for organisation roles.
var roleLabels = map[string]string{
	org.RoleOwner:     "Owner",
	org.RoleDeveloper: "Developer",
	org.RoleViewer:    "Viewer",
}

// roleLabel is the English label of a member role ("" for none).
func roleLabel(role string) string { return roleLabels[role] }

// humanBytes writes a size the way people read it: 980 B, 12.5 KB, 1.8 MB.
func humanBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1024*1024*1024))
}

// formLines splits a textarea into its non-empty, trimmed lines.
func formLines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// formInt reads an optional whole number from a form field; empty is 0.
func formInt(r *http.Request, field string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, openmini.Errorf(openmini.EINVALID, "%s: %q is not a whole number", field, v)
	}
	return n, nil
}

// pathID parses a numeric path value; a non-number is not_found.
func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, openmini.Errorf(openmini.ENOTFOUND, "%s: %q is not an ID", name, r.PathValue(name))
	}
	return n, nil
}

// appURL is the console URL of an app's page (tab "" is the overview).
func appURL(appID, tab string) string {
	u := "/console/apps/" + url.PathEscape(appID)
	if tab != "" {
		u += "/" + tab
	}
	return u
}

// homeData is the console's start page.
type homeData struct {
	Orgs       []homeOrg
	Register   []org.Org // organisations where the account may register apps
	Categories []policy.Category
	// The register and create forms, refilled after an error.
	AppOrg      int64
	AppName     string
	AppCategory string
	OrgName     string
}

type homeOrg struct {
	Org       org.Org
	RoleLabel string
	Apps      []app.App
}

func (s *Server) loadHome(r *http.Request) (*homeData, error) {
	actor := sessionActor(r)
	orgs, err := s.orgs.ForAccount(r.Context(), actor.AccountID)
	if err != nil {
		return nil, err
	}
	apps, err := s.apps.ListForActor(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	d := &homeData{}
	if d.Categories, err = s.policy.Categories(r.Context(), false); err != nil {
		return nil, err
	}
	for _, o := range orgs {
		ho := homeOrg{Org: o, RoleLabel: roleLabel(o.Role)}
		for _, a := range apps {
			if a.OrgID == o.ID {
				ho.Apps = append(ho.Apps, a)
			}
		}
		d.Orgs = append(d.Orgs, ho)
		if o.Status == "active" && (o.Role == org.RoleOwner || o.Role == org.RoleDeveloper) {
			d.Register = append(d.Register, o)
		}
	}
	return d, nil
}

// consoleHome lists the account's organisations and apps, with the forms
// to register a mini program and to create an organisation.
func (s *Server) consoleHome(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadHome(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_home", s.page(w, r, "Developer console", d))
}

// homeFormError re-renders the start page with a refused form's values.
func (s *Server) homeFormError(w http.ResponseWriter, r *http.Request, err error, refill func(*homeData)) {
	d, lerr := s.loadHome(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	refill(d)
	s.renderFormError(w, r, "console_home", s.newView(r, "Developer console", d), err)
}

// consoleOrgCreate creates an organisation the account owns, as the
// admission policy allows.
func (s *Server) consoleOrgCreate(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	o, err := s.orgs.Create(r.Context(), sessionActor(r), name)
	if err != nil {
		s.homeFormError(w, r, err, func(d *homeData) { d.OrgName = name })
		return
	}
	s.done(w, r, "/console/orgs/"+itoa(o.ID), "org-created")
}

// consoleAppCreate registers a mini program and shows its first app
// secret, once, on its settings page.
func (s *Server) consoleAppCreate(w http.ResponseWriter, r *http.Request) {
	orgID, _ := strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	name, category := r.PostFormValue("name"), r.PostFormValue("category")
	set := app.Settings{Name: &name, Category: &category}
	a, secret, err := s.apps.Create(r.Context(), sessionActor(r), orgID, set)
	if err != nil {
		s.homeFormError(w, r, err, func(d *homeData) { d.AppOrg, d.AppName, d.AppCategory = orgID, name, category })
		return
	}
	d, err := s.loadApp(r, a.ID, "settings")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d.NewSecret, d.Created = secret, true
	s.render(w, r, http.StatusCreated, "console_settings", s.newView(r, a.Name, d))
}
