package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
)

// appTabs are the pages of one mini program in the developer console.
var appTabs = []tabDef{
	{"", "", "Release"},
	{"versions", "/versions", "Versions"},
	{"settings", "/settings", "Settings"},
	{"testers", "/testers", "Testers"},
	{"audit", "/audit", "Audit log"},
}

// appData is what the pages of one app show; loadApp fills the fields of
// the requested tab.
type appData struct {
	App     app.App
	Tab     string
	Tabs    []navLink
	CanEdit bool // the viewer may change the app (developer, owner, admin)

	TrialVersion string
	TrialURL     string

	// Release tab.
	Release        *app.Release
	Releasable     []string // approved or released versions, newest first
	ReleaseDefault string   // the version the release form starts on
	RollbackTo     []string // released versions other than the one being released
	User           string
	UserVersion    *UserVersion
	UserErr        error // the ?user= asked about is unknown

	// Settings tab.
	Categories       []policy.Category
	Form             settingsForm
	NewSecret        string // shown once, after creation or rotation
	Created          bool
	SecretValidUntil time.Time // when the old secrets stop working

	// Versions tab.
	Versions      []versionView
	Problems      []miniapp.Problem // why an upload was refused
	Warnings      []miniapp.Problem // what an accepted upload should fix
	UploadVersion string
	UploadNote    string

	// Testers tab.
	Testers     []app.Tester
	TesterEmail string

	// Audit tab.
	Audit auditData
}

// settingsForm holds the settings form's fields as text.
type settingsForm struct {
	Name, ShortName, Description, Category, Keywords, Domains, Webhook string
}

// versionView is a version as the versions page lists it.
type versionView struct {
	V          app.Version
	StateLabel string
	Serving    bool // the release serves it to some users
	CanSubmit  bool
	CanTrial   bool
}

// SizeText is the package's size, compressed.
func (v versionView) SizeText() string { return humanBytes(v.V.Size) }

// UncompressedText is the package's size once unpacked.
func (v versionView) UncompressedText() string { return humanBytes(v.V.Uncompressed) }

// loadApp reads what tab of the app page needs, after checking that the
// signed-in account may see the app.
func (s *Server) loadApp(r *http.Request, appID, tab string) (*appData, error) {
	ctx := r.Context()
	actor := sessionActor(r)
	a, err := s.apps.Require(ctx, actor, appID, org.RoleViewer)
	if err != nil {
		return nil, err
	}
	d := &appData{App: a, Tab: tab, Tabs: tabs(appURL(a.ID, ""), tab, appTabs)}
	d.CanEdit = s.orgs.Require(ctx, actor, a.OrgID, org.RoleDeveloper) == nil
	if a.TrialVersionID != 0 {
		if tv, err := s.apps.VersionByID(ctx, a.TrialVersionID); err == nil {
			d.TrialVersion = tv.Version
			d.TrialURL = s.cfg.PublicURL + "/app/" + a.ID + "/?trial=1"
		}
	}
	switch tab {
	case "":
		err = s.loadRelease(r, d)
	case "settings":
		d.Form = settingsForm{Name: a.Name, ShortName: a.ShortName, Description: a.Description, Category: a.Category,
			Keywords: strings.Join(a.Keywords, ", "), Domains: strings.Join(a.AllowedDomains, "\n"), Webhook: a.WebhookURL}
		d.Categories, err = s.policy.Categories(ctx, false)
	case "versions":
		err = s.loadVersions(r, d)
	case "testers":
		d.Testers, err = s.apps.Testers(ctx, actor, a.ID)
	case "audit":
		d.Audit, err = s.loadAudit(r, audit.Filter{AppID: a.ID})
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// loadRelease fills the release tab: the release, the versions one can
// release or roll back to, and (with ?user=) which version a user gets.
func (s *Server) loadRelease(r *http.Request, d *appData) error {
	ctx := r.Context()
	actor := sessionActor(r)
	rel, err := s.apps.Release(ctx, actor, d.App.ID)
	switch {
	case err == nil:
		d.Release = &rel
	case openmini.ErrorCode(err) != openmini.ENOTFOUND:
		return err
	}
	vs, err := s.apps.Versions(ctx, actor, d.App.ID)
	if err != nil {
		return err
	}
	newestApproved := ""
	for _, v := range vs {
		switch v.State {
		case app.StateApproved:
			if newestApproved == "" {
				newestApproved = v.Version
			}
			d.Releasable = append(d.Releasable, v.Version)
		case app.StateReleased:
			d.Releasable = append(d.Releasable, v.Version)
			if d.Release == nil || v.ID != d.Release.VersionID {
				d.RollbackTo = append(d.RollbackTo, v.Version)
			}
		}
	}
	switch {
	case d.Release != nil && d.Release.Percent < 100:
		d.ReleaseDefault = d.Release.Version
	case newestApproved != "":
		d.ReleaseDefault = newestApproved
	case d.Release != nil:
		d.ReleaseDefault = d.Release.Version
	}
	d.User = strings.TrimSpace(r.URL.Query().Get("user"))
	if d.User != "" && d.Release != nil {
		key := d.User
		if strings.Contains(key, "@") {
			acc, err := s.acct.ByEmail(ctx, key)
			if openmini.ErrorCode(err) == openmini.ENOTFOUND {
				d.UserErr = err
				return nil
			}
			if err != nil {
				return err
			}
			key = strconv.FormatInt(acc.ID, 10)
		}
		v, err := s.apps.VersionByID(ctx, d.Release.Pick(key))
		if err != nil {
			return err
		}
		d.UserVersion = &UserVersion{UserKey: key, Version: v.Version, Bucket: app.Bucket(d.App.ID, d.Release.VersionID, key), Percent: d.Release.Percent}
	}
	return nil
}

// showApp renders a tab of the app page.
func (s *Server) showApp(w http.ResponseWriter, r *http.Request, tab string) {
	d, err := s.loadApp(r, r.PathValue("appID"), tab)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, appTemplate(tab), s.page(w, r, d.App.Name, d))
}

func appTemplate(tab string) string {
	switch tab {
	case "":
		return "console_app"
	case "audit":
		return "console_audit"
	}
	return "console_" + tab
}

// appFormError re-renders a tab of the app page with err shown above it;
// refill puts the refused form's values back.
func (s *Server) appFormError(w http.ResponseWriter, r *http.Request, tab string, err error, refill func(*appData)) {
	d, lerr := s.loadApp(r, r.PathValue("appID"), tab)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if refill != nil {
		refill(d)
	}
	s.renderFormError(w, r, appTemplate(tab), s.newView(r, d.App.Name, d), err)
}

// consoleApp is the app's release page; ?user= says which version that
// user (a user key, or the e-mail of an account) gets.
func (s *Server) consoleApp(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadApp(r, r.PathValue("appID"), "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v := s.page(w, r, d.App.Name, d)
	if d.UserErr != nil {
		s.renderFormError(w, r, "console_app", v, d.UserErr)
		return
	}
	s.render(w, r, http.StatusOK, "console_app", v)
}

// consoleRelease releases a version to a percentage of users: one of the
// quick buttons (percent=5...100), or the number typed (percent=custom).
func (s *Server) consoleRelease(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	field := "percent"
	if r.PostFormValue("percent") == "custom" {
		field = "custom"
	}
	pct, err := formInt(r, field)
	if err == nil && pct == 0 {
		err = openmini.Errorf(openmini.EINVALID, "percent: give a percentage from 1 to 100")
	}
	if err == nil {
		_, err = s.apps.ReleaseVersion(r.Context(), sessionActor(r), appID, r.PostFormValue("version"), pct)
	}
	if err != nil {
		s.appFormError(w, r, "", err, nil)
		return
	}
	s.done(w, r, appURL(appID, ""), "released")
}

func (s *Server) consoleReleasePause(w http.ResponseWriter, r *http.Request) {
	s.setPaused(w, r, true)
}

func (s *Server) consoleReleaseResume(w http.ResponseWriter, r *http.Request) {
	s.setPaused(w, r, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, paused bool) {
	appID := r.PathValue("appID")
	if _, err := s.apps.SetPaused(r.Context(), sessionActor(r), appID, paused); err != nil {
		s.appFormError(w, r, "", err, nil)
		return
	}
	flash := "resumed"
	if paused {
		flash = "paused"
	}
	s.done(w, r, appURL(appID, ""), flash)
}

// consoleRollback serves an earlier released version to everyone.
func (s *Server) consoleRollback(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	if _, err := s.apps.Rollback(r.Context(), sessionActor(r), appID, r.PostFormValue("version")); err != nil {
		s.appFormError(w, r, "", err, nil)
		return
	}
	s.done(w, r, appURL(appID, ""), "rolled-back")
}

// consoleTrialSet makes a version the trial version; the form says which
// page to go back to.
func (s *Server) consoleTrialSet(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	if _, err := s.apps.SetTrial(r.Context(), sessionActor(r), appID, r.PostFormValue("version")); err != nil {
		s.appFormError(w, r, "versions", err, nil)
		return
	}
	s.done(w, r, appURL(appID, "versions"), "trial-set")
}

func (s *Server) consoleTrialClear(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	if err := s.apps.ClearTrial(r.Context(), sessionActor(r), appID); err != nil {
		s.appFormError(w, r, "versions", err, nil)
		return
	}
	s.done(w, r, appURL(appID, "versions"), "trial-cleared")
}

func (s *Server) consoleSettings(w http.ResponseWriter, r *http.Request) { s.showApp(w, r, "settings") }

// consoleSettingsSave saves the settings form.
func (s *Server) consoleSettingsSave(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	f := settingsForm{Name: r.PostFormValue("name"), ShortName: r.PostFormValue("short_name"), Description: r.PostFormValue("description"),
		Category: r.PostFormValue("category"), Keywords: r.PostFormValue("keywords"), Domains: r.PostFormValue("allowed_domains"),
		Webhook: r.PostFormValue("webhook_url")}
	keywords := []string{f.Keywords}
	domains := formLines(f.Domains)
	_, err := s.apps.Update(r.Context(), sessionActor(r), appID, app.Settings{Name: &f.Name, ShortName: &f.ShortName,
		Description: &f.Description, Category: &f.Category, Keywords: &keywords, AllowedDomains: &domains, WebhookURL: &f.Webhook})
	if err != nil {
		s.appFormError(w, r, "settings", err, func(d *appData) { d.Form = f })
		return
	}
	s.done(w, r, appURL(appID, "settings"), "settings-saved")
}

// consoleSecretRotate makes a new app secret and shows it once; the old
// ones keep working for the grace period shown with it.
func (s *Server) consoleSecretRotate(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appID")
	secret, until, err := s.apps.RotateSecret(r.Context(), sessionActor(r), appID)
	if err != nil {
		s.appFormError(w, r, "settings", err, nil)
		return
	}
	d, err := s.loadApp(r, appID, "settings")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d.NewSecret, d.SecretValidUntil = secret, until
	s.render(w, r, http.StatusOK, "console_settings", s.newView(r, d.App.Name, d))
}
