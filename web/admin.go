package web

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
)

// routesAdmin: the operator console. Reviewers reach the review pages;
// everything else is for operator admins.
func (s *Server) routesAdmin(mux *http.ServeMux) {
	staff := func(h http.HandlerFunc) http.HandlerFunc { return s.requireStaff(h) }
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.requireStaff(h, account.RoleAdmin) }
	mux.HandleFunc("GET /admin", staff(s.adminHome))
	mux.HandleFunc("GET /admin/reviews", staff(s.adminReviews))
	mux.HandleFunc("GET /admin/reviews/{versionID}", staff(s.adminReview))
	mux.HandleFunc("POST /admin/reviews/{versionID}/approve", staff(s.adminApprove))
	mux.HandleFunc("POST /admin/reviews/{versionID}/reject", staff(s.adminReject))
	mux.HandleFunc("GET /admin/orgs", admin(s.adminOrgs))
	mux.HandleFunc("POST /admin/orgs/{orgID}/status", admin(s.adminOrgStatus))
	mux.HandleFunc("GET /admin/invitations", admin(s.adminInvitations))
	mux.HandleFunc("POST /admin/invitations", admin(s.adminInvitationCreate))
	mux.HandleFunc("POST /admin/invitations/{invitationID}/revoke", admin(s.adminInvitationRevoke))
	mux.HandleFunc("GET /admin/policy", admin(s.adminPolicy))
	mux.HandleFunc("POST /admin/policy", admin(s.adminPolicySave))
	mux.HandleFunc("GET /admin/categories", admin(s.adminCategories))
	mux.HandleFunc("POST /admin/categories", admin(s.adminCategorySave))
	mux.HandleFunc("POST /admin/categories/{slug}/delete", admin(s.adminCategoryDelete))
	mux.HandleFunc("GET /admin/audit", admin(s.adminAudit))
}

// adminTabs are the operator console's pages; reviewers see only the
// review queue.
var adminTabs = []tabDef{
	{"", "", "Overview"},
	{"reviews", "/reviews", "Reviews"},
	{"orgs", "/orgs", "Organisations"},
	{"invitations", "/invitations", "Invitations"},
	{"policy", "/policy", "Policy"},
	{"categories", "/categories", "Categories"},
	{"audit", "/audit", "Audit log"},
	{"pay", "/pay", "Payments and fees"},
}

// adminBase is what every operator console page has: its tab bar.
type adminBase struct {
	Tabs []navLink
}

func adminNav(r *http.Request, current string) adminBase {
	defs := adminTabs
	if !sessionActor(r).IsAdmin() {
		defs = []tabDef{adminTabs[1]}
	}
	return adminBase{Tabs: tabs("/admin", current, defs)}
}

type adminHomeData struct {
	adminBase
	Counts app.PlatformCounts
}

// adminHome is the overview for admins; reviewers go to their queue.
func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	actor := sessionActor(r)
	if !actor.IsAdmin() {
		http.Redirect(w, r, "/admin/reviews", http.StatusSeeOther)
		return
	}
	c, err := s.apps.Counts(r.Context(), actor)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_home", s.page(w, r, "Operator console", adminHomeData{adminNav(r, ""), c}))
}

type adminOrgsData struct {
	adminBase
	Orgs []org.Org
}

func (s *Server) adminOrgs(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadAdminOrgs(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_orgs", s.page(w, r, "Organisations", d))
}

func (s *Server) loadAdminOrgs(r *http.Request) (adminOrgsData, error) {
	orgs, err := s.orgs.All(r.Context(), sessionActor(r))
	return adminOrgsData{adminNav(r, "orgs"), orgs}, err
}

// adminOrgStatus suspends or re-activates an organisation.
func (s *Server) adminOrgStatus(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "orgID")
	if err == nil {
		err = s.orgs.SetStatus(r.Context(), sessionActor(r), id, r.PostFormValue("status"))
	}
	if err != nil {
		d, lerr := s.loadAdminOrgs(r)
		if lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		s.renderFormError(w, r, "admin_orgs", s.newView(r, "Organisations", d), err)
		return
	}
	s.done(w, r, "/admin/orgs", "org-status")
}

type adminInvitationsData struct {
	adminBase
	Invitations []invitationView
	New         *InvitationCreated // shown once
	// The form, refilled after an error.
	Uses, Days, Email, Note string
}

func (s *Server) loadAdminInvitations(r *http.Request) (*adminInvitationsData, error) {
	invs, err := s.orgs.Invitations(r.Context(), sessionActor(r), 0)
	if err != nil {
		return nil, err
	}
	return &adminInvitationsData{adminBase: adminNav(r, "invitations"), Invitations: invitationViews(invs), Uses: "1", Days: "7"}, nil
}

func (s *Server) adminInvitations(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadAdminInvitations(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_invitations", s.page(w, r, "Invitations", d))
}

// adminInvitationCreate makes an admission invitation (it admits a new
// organisation) and shows its link once.
func (s *Server) adminInvitationCreate(w http.ResponseWriter, r *http.Request) {
	uses, err := formInt(r, "max_uses")
	var days int
	if err == nil {
		days, err = formInt(r, "expires_days")
	}
	var created InvitationCreated
	if err == nil {
		created.Invitation, created.Code, err = s.orgs.CreateInvitation(r.Context(), sessionActor(r), org.NewInvitation{
			Email: r.PostFormValue("email"), Note: r.PostFormValue("note"), MaxUses: uses, TTL: time.Duration(days) * 24 * time.Hour,
		})
	}
	d, lerr := s.loadAdminInvitations(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if err != nil {
		d.Uses, d.Days, d.Email, d.Note = r.PostFormValue("max_uses"), r.PostFormValue("expires_days"), r.PostFormValue("email"), r.PostFormValue("note")
		s.renderFormError(w, r, "admin_invitations", s.newView(r, "Invitations", d), err)
		return
	}
	created.URL = s.joinURL(created.Code)
	d.New = &created
	s.render(w, r, http.StatusCreated, "admin_invitations", s.newView(r, "Invitations", d))
}

func (s *Server) adminInvitationRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "invitationID")
	if err == nil {
		err = s.orgs.RevokeInvitation(r.Context(), sessionActor(r), id)
	}
	if err != nil {
		d, lerr := s.loadAdminInvitations(r)
		if lerr != nil {
			s.renderError(w, r, lerr)
			return
		}
		s.renderFormError(w, r, "admin_invitations", s.newView(r, "Invitations", d), err)
		return
	}
	s.done(w, r, "/admin/invitations", "invitation-revoked")
}

// policyForm is the policy as the form shows it: lists one per line,
// sizes in MB.
type policyForm struct {
	Mode                            string
	AllowDomains, DenyDomains       string
	AllowOrgs, DenyOrgs             string
	MaxPackageMB, MaxUncompressedMB string
	MaxFiles, MaxPages              string
	GamesEnabled                    bool
}

type adminPolicyData struct {
	adminBase
	Form policyForm
}

func mb(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) }

func policyToForm(p policy.Policy) policyForm {
	a := p.Admission
	return policyForm{Mode: a.Mode, AllowDomains: strings.Join(a.AllowDomains, "\n"), DenyDomains: strings.Join(a.DenyDomains, "\n"),
		AllowOrgs: strings.Join(a.AllowOrgs, "\n"), DenyOrgs: strings.Join(a.DenyOrgs, "\n"),
		MaxPackageMB: mb(p.Limits.MaxPackageBytes), MaxUncompressedMB: mb(p.Limits.MaxUncompressedBytes),
		MaxFiles: strconv.Itoa(p.Limits.MaxFiles), MaxPages: strconv.Itoa(p.Limits.MaxPages), GamesEnabled: p.GamesEnabled}
}

// parseMB reads a size in MB (decimals allowed) as bytes.
func parseMB(field, v string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || f > 1<<20 || math.IsNaN(f) {
		return 0, openmini.Errorf(openmini.EINVALID, "%s: %q is not a size in MB", field, v)
	}
	return int64(math.Round(f * (1 << 20))), nil
}

// formToPolicy turns the form into a policy; the service checks the rest.
func formToPolicy(f policyForm) (policy.Policy, error) {
	p := policy.Policy{GamesEnabled: f.GamesEnabled}
	p.Admission = policy.Admission{Mode: f.Mode, AllowDomains: formLines(f.AllowDomains), DenyDomains: formLines(f.DenyDomains),
		AllowOrgs: formLines(f.AllowOrgs), DenyOrgs: formLines(f.DenyOrgs)}
	var err error
	if p.Limits.MaxPackageBytes, err = parseMB("max package size", f.MaxPackageMB); err != nil {
		return p, err
	}
	if p.Limits.MaxUncompressedBytes, err = parseMB("max unpacked size", f.MaxUncompressedMB); err != nil {
		return p, err
	}
	if p.Limits.MaxFiles, err = strconv.Atoi(strings.TrimSpace(f.MaxFiles)); err != nil {
		return p, openmini.Errorf(openmini.EINVALID, "max files: %q is not a whole number", f.MaxFiles)
	}
	if p.Limits.MaxPages, err = strconv.Atoi(strings.TrimSpace(f.MaxPages)); err != nil {
		return p, openmini.Errorf(openmini.EINVALID, "max pages: %q is not a whole number", f.MaxPages)
	}
	return p, nil
}

func (s *Server) adminPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.policy.Get(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_policy", s.page(w, r, "Policy", adminPolicyData{adminNav(r, "policy"), policyToForm(p)}))
}

// adminPolicySave saves admission, package limits and the games switch.
func (s *Server) adminPolicySave(w http.ResponseWriter, r *http.Request) {
	f := policyForm{Mode: r.PostFormValue("mode"), AllowDomains: r.PostFormValue("allow_domains"), DenyDomains: r.PostFormValue("deny_domains"),
		AllowOrgs: r.PostFormValue("allow_orgs"), DenyOrgs: r.PostFormValue("deny_orgs"),
		MaxPackageMB: r.PostFormValue("max_package_mb"), MaxUncompressedMB: r.PostFormValue("max_uncompressed_mb"),
		MaxFiles: r.PostFormValue("max_files"), MaxPages: r.PostFormValue("max_pages"), GamesEnabled: r.PostFormValue("games_enabled") == "1"}
	p, err := formToPolicy(f)
	if err == nil {
		_, err = s.policy.Set(r.Context(), sessionActor(r), p)
	}
	if err != nil {
		s.renderFormError(w, r, "admin_policy", s.newView(r, "Policy", adminPolicyData{adminNav(r, "policy"), f}), err)
		return
	}
	s.done(w, r, "/admin/policy", "policy-saved")
}

type adminCategoriesData struct {
	adminBase
	Categories []policy.Category
	New        policy.Category // the add form, refilled after an error
}

func (s *Server) loadAdminCategories(r *http.Request) (*adminCategoriesData, error) {
	cs, err := s.policy.Categories(r.Context(), true)
	if err != nil {
		return nil, err
	}
	next := 1
	for _, c := range cs {
		next = max(next, c.Position+1)
	}
	return &adminCategoriesData{adminBase: adminNav(r, "categories"), Categories: cs, New: policy.Category{Position: next}}, nil
}

func (s *Server) adminCategories(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadAdminCategories(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_categories", s.page(w, r, "Categories", d))
}

// adminCategorySave adds a category or changes one (same form, by slug).
func (s *Server) adminCategorySave(w http.ResponseWriter, r *http.Request) {
	c := policy.Category{Slug: strings.TrimSpace(r.PostFormValue("slug")), NameEN: r.PostFormValue("name_en"), NameZH: r.PostFormValue("name_zh"),
		IsGame: r.PostFormValue("is_game") == "1"}
	pos, err := formInt(r, "position")
	c.Position = pos
	if err == nil {
		err = s.policy.SaveCategory(r.Context(), sessionActor(r), c)
	}
	if err != nil {
		s.categoriesFormError(w, r, err, &c)
		return
	}
	s.done(w, r, "/admin/categories", "category-saved")
}

func (s *Server) adminCategoryDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.policy.DeleteCategory(r.Context(), sessionActor(r), r.PathValue("slug")); err != nil {
		s.categoriesFormError(w, r, err, nil)
		return
	}
	s.done(w, r, "/admin/categories", "category-deleted")
}

func (s *Server) categoriesFormError(w http.ResponseWriter, r *http.Request, err error, c *policy.Category) {
	d, lerr := s.loadAdminCategories(r)
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if c != nil {
		d.New = *c
	}
	s.renderFormError(w, r, "admin_categories", s.newView(r, "Categories", d), err)
}

type adminAuditData struct {
	adminBase
	Audit auditData
}

// adminAudit is the whole platform's audit log.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	a, err := s.loadAudit(r, audit.Filter{})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_audit", s.page(w, r, "Audit log", adminAuditData{adminNav(r, "audit"), a}))
}

// reviewURL is the operator console's page for a version in review.
func reviewURL(versionID int64) string { return "/admin/reviews/" + url.PathEscape(itoa(versionID)) }
