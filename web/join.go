package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
)

// signupData is the developer sign-up form.
type signupData struct {
	Email, Name, OrgName, Code string
	// NeedCode: the operator admits new organisations by invitation only.
	NeedCode bool
	// Invitation is the invitation the form was opened with (from /join).
	Invitation *joinView
}

// joinData is the page an invitation link opens.
type joinData struct {
	Code       string
	Invitation *joinView
	OrgName    string     // the name of the organisation an admission creates
	Signup     signupData // for someone without an account
	Next       string     // this page, for the sign-in link
}

// joinView describes an invitation to the person holding its code.
type joinView struct {
	Admission bool // it admits a new organisation, rather than joining one
	OrgName   string
	RoleLabel string
	Email     string // only this address may use it, when set
	ExpiresAt time.Time
	Usable    bool
	State     string
}

func (s *Server) signupNeedsCode(r *http.Request) (bool, error) {
	p, err := s.policy.Get(r.Context())
	return p.Admission.Mode == policy.AdmissionInvite, err
}

// handleSignupForm shows the developer sign-up form; ?code= fills in an
// invitation code.
func (s *Server) handleSignupForm(w http.ResponseWriter, r *http.Request) {
	need, err := s.signupNeedsCode(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d := signupData{Code: r.URL.Query().Get("code"), NeedCode: need}
	s.render(w, r, http.StatusOK, "signup", s.page(w, r, "Create a developer account", d))
}

// handleSignup creates the account and its organisation (or membership,
// with a member invitation), signs it in and opens the console.
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	d := signupData{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), OrgName: r.PostFormValue("org_name"),
		Code: strings.TrimSpace(r.PostFormValue("code"))}
	fail := func(err error) {
		d.NeedCode, _ = s.signupNeedsCode(r)
		if d.Code != "" {
			if inv, lerr := s.orgs.LookupInvitation(r.Context(), d.Code); lerr == nil {
				d.Invitation = describeInvitation(inv)
			}
		}
		s.renderFormError(w, r, "signup", s.newView(r, "Create a developer account", d), err)
	}
	if err := s.limitsHit(r, "signup", 20, time.Hour); err != nil {
		fail(err)
		return
	}
	a, o, err := s.orgs.SignUp(r.Context(), org.SignUp{Email: d.Email, Name: d.Name, Password: r.PostFormValue("password"),
		OrgName: d.OrgName, Code: d.Code})
	if err != nil {
		fail(err)
		return
	}
	s.log.InfoContext(r.Context(), "developer signed up", "account_id", a.ID, "org_id", o.ID)
	if !s.startSession(w, r, a) {
		return
	}
	flash := "signed-up"
	if o.Role != org.RoleOwner {
		flash = "joined"
	}
	s.done(w, r, "/console/orgs/"+itoa(o.ID), flash)
}

func describeInvitation(inv org.Invitation) *joinView {
	now := time.Now()
	return &joinView{Admission: inv.OrgID == 0, OrgName: inv.OrgName, RoleLabel: roleLabel(inv.Role), Email: inv.Email,
		ExpiresAt: inv.ExpiresAt, Usable: inv.Usable(now), State: invitationState(inv, now)}
}

// handleJoin shows what an invitation link offers: to a signed-in
// account, a button to accept it; to anyone else, the sign-up form with
// the code filled in and a link to sign in first.
func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	inv, err := s.orgs.LookupInvitation(r.Context(), code)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "join", s.page(w, r, "Invitation", s.joinData(r, code, inv)))
}

func (s *Server) joinData(r *http.Request, code string, inv org.Invitation) joinData {
	jv := describeInvitation(inv)
	return joinData{Code: code, Invitation: jv, Next: "/join?code=" + url.QueryEscape(code),
		Signup: signupData{Code: code, Email: inv.Email, Invitation: jv}}
}

// handleJoinAccept uses the invitation as the signed-in account.
func (s *Server) handleJoinAccept(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.PostFormValue("code"))
	name := r.PostFormValue("org_name")
	inv, err := s.orgs.LookupInvitation(r.Context(), code)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	o, err := s.orgs.AcceptInvitation(r.Context(), sessionActor(r), code, name)
	if err != nil {
		d := s.joinData(r, code, inv)
		d.OrgName = name
		s.renderFormError(w, r, "join", s.newView(r, "Invitation", d), err)
		return
	}
	flash := "joined"
	if inv.OrgID == 0 {
		flash = "org-created"
	}
	s.done(w, r, "/console/orgs/"+itoa(o.ID), flash)
}
