package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
)

// orgTabs are the pages of an organisation in the developer console.
var orgTabs = []tabDef{
	{"", "", "Members and keys"},
	{"audit", "/audit", "Audit log"},
	{"merchants", "/merchants", "Merchants"},
}

// roleOptions are the member roles, most powerful first, for selects.
var roleOptions = []string{org.RoleOwner, org.RoleDeveloper, org.RoleViewer}

// invitationStates are the words for an invitation's state.
var invitationStates = []string{"Active", "Used up", "Expired", "Revoked"}

// orgData is what the organisation pages show.
type orgData struct {
	Org       org.Org
	RoleLabel string // the viewer's role
	IsOwner   bool   // may manage members and invitations
	CanKeys   bool   // may see and manage API keys
	Tabs      []navLink
	Roles     []roleOption

	Members     []memberView
	Invitations []invitationView
	Keys        []org.APIKey
	Apps        []app.App // for an API key's scope

	NewInvitation *InvitationCreated // shown once
	NewKey        *APIKeyCreated     // shown once

	// Forms refilled after an error.
	InviteRole, InviteEmail, InviteUses, InviteDays, KeyName, KeyApp string

	Audit auditData
}

type roleOption struct{ Value, Label string }

type memberView struct {
	M         org.Member
	RoleLabel string
	Self      bool
}

type invitationView struct {
	I         org.Invitation
	State     string // one of invitationStates
	Usable    bool
	RoleLabel string
}

func invitationState(i org.Invitation, now time.Time) string {
	switch {
	case i.Revoked:
		return "Revoked"
	case i.Uses >= i.MaxUses:
		return "Used up"
	case !now.Before(i.ExpiresAt):
		return "Expired"
	}
	return "Active"
}

func invitationViews(invs []org.Invitation) []invitationView {
	now := time.Now()
	out := make([]invitationView, len(invs))
	for i, inv := range invs {
		out[i] = invitationView{I: inv, State: invitationState(inv, now), Usable: inv.Usable(now), RoleLabel: roleLabel(inv.Role)}
	}
	return out
}

// loadOrg reads an organisation's page (tab "" or "audit") for the
// signed-in account; each section appears only to those allowed to see it.
func (s *Server) loadOrg(r *http.Request, tab string) (*orgData, error) {
	ctx := r.Context()
	actor := sessionActor(r)
	id, err := pathID(r, "orgID")
	if err != nil {
		return nil, err
	}
	if err := s.orgs.Require(ctx, actor, id, org.RoleViewer); err != nil {
		return nil, err
	}
	o, err := s.orgs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	role, err := s.orgs.RoleOf(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	d := &orgData{Org: o, RoleLabel: roleLabel(role), Tabs: tabs("/console/orgs/"+itoa(id), tab, orgTabs),
		InviteRole: org.RoleDeveloper, InviteUses: "1", InviteDays: "7"}
	d.IsOwner = s.orgs.Require(ctx, actor, id, org.RoleOwner) == nil
	d.CanKeys = s.orgs.Require(ctx, actor, id, org.RoleDeveloper) == nil
	for _, rl := range roleOptions {
		d.Roles = append(d.Roles, roleOption{Value: rl, Label: roleLabel(rl)})
	}
	if tab == "audit" {
		d.Audit, err = s.loadAudit(r, audit.Filter{OrgID: id})
		return d, err
	}
	ms, err := s.orgs.Members(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		d.Members = append(d.Members, memberView{M: m, RoleLabel: roleLabel(m.Role), Self: m.AccountID == actor.AccountID})
	}
	if d.IsOwner {
		invs, err := s.orgs.Invitations(ctx, actor, id)
		if err != nil {
			return nil, err
		}
		d.Invitations = invitationViews(invs)
	}
	if d.CanKeys {
		if d.Keys, err = s.orgs.APIKeys(ctx, actor, id); err != nil {
			return nil, err
		}
		if d.Apps, err = s.apps.List(ctx, actor, id); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) consoleOrg(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadOrg(r, "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_org", s.page(w, r, d.Org.Name, d))
}

// orgFormError re-renders the organisation page with err above it.
func (s *Server) orgFormError(w http.ResponseWriter, r *http.Request, err error, refill func(*orgData)) {
	d, lerr := s.loadOrg(r, "")
	if lerr != nil {
		s.renderError(w, r, lerr)
		return
	}
	if refill != nil {
		refill(d)
	}
	s.renderFormError(w, r, "console_org", s.newView(r, d.Org.Name, d), err)
}

func orgURL(r *http.Request) string { return "/console/orgs/" + r.PathValue("orgID") }

// consoleMemberRole changes a member's role (owners).
func (s *Server) consoleMemberRole(w http.ResponseWriter, r *http.Request) {
	orgID, err := pathID(r, "orgID")
	var acc int64
	if err == nil {
		acc, err = pathID(r, "accountID")
	}
	if err == nil {
		err = s.orgs.SetRole(r.Context(), sessionActor(r), orgID, acc, r.PostFormValue("role"))
	}
	if err != nil {
		s.orgFormError(w, r, err, nil)
		return
	}
	s.done(w, r, orgURL(r), "member-updated")
}

// consoleMemberRemove removes a member (owners), or lets one leave.
func (s *Server) consoleMemberRemove(w http.ResponseWriter, r *http.Request) {
	orgID, err := pathID(r, "orgID")
	var acc int64
	if err == nil {
		acc, err = pathID(r, "accountID")
	}
	if err == nil {
		err = s.orgs.RemoveMember(r.Context(), sessionActor(r), orgID, acc)
	}
	if err != nil {
		s.orgFormError(w, r, err, nil)
		return
	}
	if acc == sessionActor(r).AccountID {
		s.done(w, r, "/console", "member-removed")
		return
	}
	s.done(w, r, orgURL(r), "member-removed")
}

// consoleInvitationCreate makes a member invitation and shows its link
// once.
func (s *Server) consoleInvitationCreate(w http.ResponseWriter, r *http.Request) {
	refill := func(d *orgData) {
		d.InviteRole, d.InviteEmail = r.PostFormValue("role"), r.PostFormValue("email")
		d.InviteUses, d.InviteDays = r.PostFormValue("max_uses"), r.PostFormValue("expires_days")
	}
	orgID, err := pathID(r, "orgID")
	var uses, days int
	if err == nil {
		uses, err = formInt(r, "max_uses")
	}
	if err == nil {
		days, err = formInt(r, "expires_days")
	}
	var created InvitationCreated
	if err == nil {
		created.Invitation, created.Code, err = s.orgs.CreateInvitation(r.Context(), sessionActor(r), org.NewInvitation{
			OrgID: orgID, Role: r.PostFormValue("role"), Email: r.PostFormValue("email"), MaxUses: uses,
			TTL: time.Duration(days) * 24 * time.Hour,
		})
	}
	if err != nil {
		s.orgFormError(w, r, err, refill)
		return
	}
	created.URL = s.joinURL(created.Code)
	d, err := s.loadOrg(r, "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d.NewInvitation = &created
	s.render(w, r, http.StatusCreated, "console_org", s.newView(r, d.Org.Name, d))
}

// joinURL is the link that opens an invitation.
func (s *Server) joinURL(code string) string { return s.cfg.PublicURL + "/join?code=" + code }

func (s *Server) consoleInvitationRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "invitationID")
	if err == nil {
		err = s.orgs.RevokeInvitation(r.Context(), sessionActor(r), id)
	}
	if err != nil {
		s.orgFormError(w, r, err, nil)
		return
	}
	s.done(w, r, orgURL(r), "invitation-revoked")
}

// consoleKeyCreate makes an API key and shows its token once.
func (s *Server) consoleKeyCreate(w http.ResponseWriter, r *http.Request) {
	orgID, err := pathID(r, "orgID")
	var created APIKeyCreated
	if err == nil {
		created.Key, created.Token, err = s.orgs.CreateAPIKey(r.Context(), sessionActor(r), orgID, r.PostFormValue("app_id"), r.PostFormValue("name"))
	}
	if err != nil {
		s.orgFormError(w, r, err, func(d *orgData) { d.KeyName, d.KeyApp = r.PostFormValue("name"), r.PostFormValue("app_id") })
		return
	}
	d, err := s.loadOrg(r, "")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d.NewKey = &created
	s.render(w, r, http.StatusCreated, "console_org", s.newView(r, d.Org.Name, d))
}

func (s *Server) consoleKeyRevoke(w http.ResponseWriter, r *http.Request) {
	orgID, err := pathID(r, "orgID")
	var id int64
	if err == nil {
		id, err = pathID(r, "keyID")
	}
	if err == nil {
		err = s.orgs.RevokeAPIKey(r.Context(), sessionActor(r), orgID, id)
	}
	if err != nil {
		s.orgFormError(w, r, err, nil)
		return
	}
	s.done(w, r, orgURL(r), "key-revoked")
}

func (s *Server) consoleOrgAudit(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadOrg(r, "audit")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console_audit", s.page(w, r, d.Org.Name, d))
}

// auditData is a page of the audit log, newest first.
type auditData struct {
	Entries []audit.Entry
	Older   string // the next page's URL; "" on the last page
}

const auditPageSize = 50

// loadAudit reads a page of entries matching f, before ?before= when
// given.
func (s *Server) loadAudit(r *http.Request, f audit.Filter) (auditData, error) {
	f.BeforeID, _ = strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	f.Limit = auditPageSize
	es, err := audit.List(r.Context(), s.db, f)
	if err != nil {
		return auditData{}, err
	}
	d := auditData{Entries: es}
	if len(es) == auditPageSize {
		d.Older = r.URL.Path + "?before=" + itoa(es[len(es)-1].ID)
	}
	return d, nil
}
