package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
)

// routesAPIDev: the developer REST API.
func (s *Server) routesAPIDev(mux *http.ServeMux) {
	s.api(mux, "POST /api/v1/signup", s.apiSignup)
	s.api(mux, "GET /api/v1/me", s.apiMe)
	s.api(mux, "GET /api/v1/orgs", s.apiOrgs)
	s.api(mux, "POST /api/v1/orgs", s.apiOrgCreate)
	s.api(mux, "GET /api/v1/orgs/{orgID}", s.apiOrg)
	s.api(mux, "GET /api/v1/orgs/{orgID}/members", s.apiMembers)
	s.api(mux, "PATCH /api/v1/orgs/{orgID}/members/{accountID}", s.apiMemberRole)
	s.api(mux, "DELETE /api/v1/orgs/{orgID}/members/{accountID}", s.apiMemberRemove)
	s.api(mux, "GET /api/v1/orgs/{orgID}/invitations", s.apiInvitations)
	s.api(mux, "POST /api/v1/orgs/{orgID}/invitations", s.apiInvitationCreate)
	s.api(mux, "DELETE /api/v1/invitations/{invitationID}", s.apiInvitationRevoke)
	s.api(mux, "POST /api/v1/invitations/accept", s.apiInvitationAccept)
	s.api(mux, "GET /api/v1/orgs/{orgID}/api-keys", s.apiKeys)
	s.api(mux, "POST /api/v1/orgs/{orgID}/api-keys", s.apiKeyCreate)
	s.api(mux, "DELETE /api/v1/orgs/{orgID}/api-keys/{keyID}", s.apiKeyRevoke)
	s.api(mux, "GET /api/v1/orgs/{orgID}/audit", s.apiOrgAudit)

	s.api(mux, "GET /api/v1/apps", s.apiApps)
	s.api(mux, "POST /api/v1/apps", s.apiAppCreate)
	s.api(mux, "GET /api/v1/apps/{appID}", s.apiApp)
	s.api(mux, "PATCH /api/v1/apps/{appID}", s.apiAppUpdate)
	s.api(mux, "POST /api/v1/apps/{appID}/secret", s.apiAppSecret)
	s.api(mux, "GET /api/v1/apps/{appID}/audit", s.apiAppAudit)
	s.api(mux, "GET /api/v1/apps/{appID}/testers", s.apiTesters)
	s.api(mux, "POST /api/v1/apps/{appID}/testers", s.apiTesterAdd)
	s.api(mux, "DELETE /api/v1/apps/{appID}/testers/{accountID}", s.apiTesterRemove)
	s.api(mux, "GET /api/v1/apps/{appID}/versions", s.apiVersions)
	s.api(mux, "POST /api/v1/apps/{appID}/versions", s.apiUpload)
	s.api(mux, "GET /api/v1/apps/{appID}/versions/{version}", s.apiVersion)
	s.api(mux, "GET /api/v1/apps/{appID}/versions/{version}/package", s.apiVersionPackage)
	s.api(mux, "POST /api/v1/apps/{appID}/versions/{version}/submit", s.apiSubmit)
	s.api(mux, "PUT /api/v1/apps/{appID}/trial", s.apiTrialSet)
	s.api(mux, "DELETE /api/v1/apps/{appID}/trial", s.apiTrialClear)
	s.api(mux, "GET /api/v1/apps/{appID}/release", s.apiRelease)
	s.api(mux, "POST /api/v1/apps/{appID}/release", s.apiReleaseSet)
	s.api(mux, "POST /api/v1/apps/{appID}/release/pause", s.apiReleasePause)
	s.api(mux, "POST /api/v1/apps/{appID}/release/resume", s.apiReleaseResume)
	s.api(mux, "POST /api/v1/apps/{appID}/rollback", s.apiRollback)
	s.api(mux, "GET /api/v1/apps/{appID}/release/users/{userKey}", s.apiReleaseForUser)
	mux.HandleFunc("/api/", s.apiNotFound)
}

// Me is the caller as the API sees it.
type Me struct {
	AccountID int64     `json:"account_id,omitempty"`
	Email     string    `json:"email,omitempty"`
	Name      string    `json:"name,omitempty"`
	StaffRole string    `json:"staff_role,omitempty"`
	Actor     string    `json:"actor"`
	KeyOrgID  int64     `json:"key_org_id,omitempty"`
	KeyAppID  string    `json:"key_app_id,omitempty"`
	Orgs      []org.Org `json:"orgs"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	me := Me{Actor: actor.Label, StaffRole: actor.StaffRole, KeyOrgID: actor.KeyOrgID, KeyAppID: actor.KeyAppID, Orgs: []org.Org{}}
	if actor.IsKey() {
		o, err := s.orgs.Get(r.Context(), actor.KeyOrgID)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		o.Role = org.RoleDeveloper
		me.Orgs = []org.Org{o}
		me.StaffRole = ""
	} else {
		a, err := s.acct.Get(r.Context(), actor.AccountID)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		me.AccountID, me.Email, me.Name = a.ID, a.Email, a.Name
		orgs, err := s.orgs.ForAccount(r.Context(), a.ID)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if orgs != nil {
			me.Orgs = orgs
		}
	}
	writeJSON(w, http.StatusOK, me)
}

// SignupRequest registers a developer.
type SignupRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
	OrgName  string `json:"org_name"`
	Code     string `json:"invitation_code"`
}

// SignupResponse is the new account and organisation; a session cookie is
// set as well.
type SignupResponse struct {
	AccountID int64   `json:"account_id"`
	Org       org.Org `json:"org"`
}

func (s *Server) apiSignup(w http.ResponseWriter, r *http.Request) {
	var req SignupRequest
	if !s.decode(w, r, &req) {
		return
	}
	if err := s.limitsHit(r, "signup", 20, time.Hour); err != nil {
		s.renderError(w, r, err)
		return
	}
	a, o, err := s.orgs.SignUp(r.Context(), org.SignUp{Email: req.Email, Name: req.Name, Password: req.Password, OrgName: req.OrgName, Code: req.Code})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if !s.startSession(w, r, a) {
		return
	}
	writeJSON(w, http.StatusCreated, SignupResponse{AccountID: a.ID, Org: o})
}

func (s *Server) apiOrgs(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	if actor.IsKey() {
		o, err := s.orgs.Get(r.Context(), actor.KeyOrgID)
		o.Role = org.RoleDeveloper
		s.respond(w, r, http.StatusOK, map[string]any{"orgs": []org.Org{o}}, err)
		return
	}
	orgs, err := s.orgs.ForAccount(r.Context(), actor.AccountID)
	if orgs == nil {
		orgs = []org.Org{}
	}
	s.respond(w, r, http.StatusOK, map[string]any{"orgs": orgs}, err)
}

// NameRequest carries a name.
type NameRequest struct {
	Name string `json:"name"`
}

func (s *Server) apiOrgCreate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req NameRequest
	if !s.decode(w, r, &req) {
		return
	}
	o, err := s.orgs.Create(r.Context(), actor, req.Name)
	s.respond(w, r, http.StatusCreated, o, err)
}

func (s *Server) apiOrg(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	if err := s.orgs.Require(r.Context(), actor, id, org.RoleViewer); err != nil {
		s.renderError(w, r, err)
		return
	}
	o, err := s.orgs.Get(r.Context(), id)
	if err == nil {
		o.Role, err = s.orgs.RoleOf(r.Context(), actor, id)
	}
	s.respond(w, r, http.StatusOK, o, err)
}

func (s *Server) apiMembers(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	ms, err := s.orgs.Members(r.Context(), actor, id)
	s.respond(w, r, http.StatusOK, map[string]any{"members": ms}, err)
}

// RoleRequest sets a member's role.
type RoleRequest struct {
	Role string `json:"role"`
}

func (s *Server) apiMemberRole(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	acc, ok := s.pathInt(w, r, "accountID")
	if !ok {
		return
	}
	var req RoleRequest
	if !s.decode(w, r, &req) {
		return
	}
	err := s.orgs.SetRole(r.Context(), actor, id, acc, req.Role)
	s.respond(w, r, http.StatusOK, map[string]any{"account_id": acc, "role": req.Role}, err)
}

func (s *Server) apiMemberRemove(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	acc, ok := s.pathInt(w, r, "accountID")
	if !ok {
		return
	}
	err := s.orgs.RemoveMember(r.Context(), actor, id, acc)
	s.respond(w, r, http.StatusOK, map[string]any{"removed": acc}, err)
}

// InvitationRequest creates an invitation.
type InvitationRequest struct {
	Role         string `json:"role,omitempty"`
	Email        string `json:"email,omitempty"`
	Note         string `json:"note,omitempty"`
	MaxUses      int    `json:"max_uses,omitempty"`
	ExpiresHours int    `json:"expires_hours,omitempty"`
}

// InvitationCreated is an invitation with its code and link, shown once.
type InvitationCreated struct {
	Invitation org.Invitation `json:"invitation"`
	Code       string         `json:"code"`
	URL        string         `json:"url"`
}

func (s *Server) createInvitation(w http.ResponseWriter, r *http.Request, actor openmini.Actor, orgID int64, req InvitationRequest) {
	inv, code, err := s.orgs.CreateInvitation(r.Context(), actor, org.NewInvitation{
		OrgID: orgID, Role: req.Role, Email: req.Email, Note: req.Note, MaxUses: req.MaxUses,
		TTL: time.Duration(req.ExpiresHours) * time.Hour,
	})
	s.respond(w, r, http.StatusCreated, InvitationCreated{Invitation: inv, Code: code, URL: s.cfg.PublicURL + "/join?code=" + code}, err)
}

func (s *Server) apiInvitations(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	invs, err := s.orgs.Invitations(r.Context(), actor, id)
	if invs == nil {
		invs = []org.Invitation{}
	}
	s.respond(w, r, http.StatusOK, map[string]any{"invitations": invs}, err)
}

func (s *Server) apiInvitationCreate(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	var req InvitationRequest
	if !s.decode(w, r, &req) {
		return
	}
	s.createInvitation(w, r, actor, id, req)
}

func (s *Server) apiInvitationRevoke(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "invitationID")
	if !ok {
		return
	}
	err := s.orgs.RevokeInvitation(r.Context(), actor, id)
	s.respond(w, r, http.StatusOK, map[string]any{"revoked": id}, err)
}

// AcceptRequest uses an invitation as the signed-in account.
type AcceptRequest struct {
	Code    string `json:"code"`
	OrgName string `json:"org_name,omitempty"`
}

func (s *Server) apiInvitationAccept(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req AcceptRequest
	if !s.decode(w, r, &req) {
		return
	}
	o, err := s.orgs.AcceptInvitation(r.Context(), actor, req.Code, req.OrgName)
	s.respond(w, r, http.StatusOK, o, err)
}

// APIKeyRequest creates an API key.
type APIKeyRequest struct {
	Name  string `json:"name"`
	AppID string `json:"app_id,omitempty"`
}

// APIKeyCreated is a new key with its token, shown once.
type APIKeyCreated struct {
	Key   org.APIKey `json:"key"`
	Token string     `json:"token"`
}

func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	keys, err := s.orgs.APIKeys(r.Context(), actor, id)
	if keys == nil {
		keys = []org.APIKey{}
	}
	s.respond(w, r, http.StatusOK, map[string]any{"keys": keys}, err)
}

func (s *Server) apiKeyCreate(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	var req APIKeyRequest
	if !s.decode(w, r, &req) {
		return
	}
	k, token, err := s.orgs.CreateAPIKey(r.Context(), actor, id, req.AppID, req.Name)
	s.respond(w, r, http.StatusCreated, APIKeyCreated{Key: k, Token: token}, err)
}

func (s *Server) apiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	kid, ok := s.pathInt(w, r, "keyID")
	if !ok {
		return
	}
	err := s.orgs.RevokeAPIKey(r.Context(), actor, id, kid)
	s.respond(w, r, http.StatusOK, map[string]any{"revoked": kid}, err)
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request, f audit.Filter) {
	f.BeforeID, _ = strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	f.Limit, _ = strconv.Atoi(r.URL.Query().Get("limit"))
	entries, err := audit.List(r.Context(), s.db, f)
	if entries == nil {
		entries = []audit.Entry{}
	}
	s.respond(w, r, http.StatusOK, map[string]any{"entries": entries}, err)
}

func (s *Server) apiOrgAudit(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "orgID")
	if !ok {
		return
	}
	if err := s.orgs.Require(r.Context(), actor, id, org.RoleViewer); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.auditList(w, r, audit.Filter{OrgID: id})
}

func (s *Server) apiApps(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	apps, err := s.apps.ListForActor(r.Context(), actor)
	s.respond(w, r, http.StatusOK, map[string]any{"apps": apps}, err)
}

// AppCreateRequest registers a mini program.
type AppCreateRequest struct {
	OrgID int64 `json:"org_id"`
	app.Settings
}

// AppCreated is the new app and its first secret, shown once.
type AppCreated struct {
	App    app.App `json:"app"`
	Secret string  `json:"secret"`
}

func (s *Server) apiAppCreate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req AppCreateRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.OrgID == 0 && actor.IsKey() {
		req.OrgID = actor.KeyOrgID
	}
	a, secret, err := s.apps.Create(r.Context(), actor, req.OrgID, req.Settings)
	s.respond(w, r, http.StatusCreated, AppCreated{App: a, Secret: secret}, err)
}

func (s *Server) apiApp(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	a, err := s.apps.Require(r.Context(), actor, r.PathValue("appID"), org.RoleViewer)
	s.respond(w, r, http.StatusOK, a, err)
}

func (s *Server) apiAppUpdate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req app.Settings
	if !s.decode(w, r, &req) {
		return
	}
	a, err := s.apps.Update(r.Context(), actor, r.PathValue("appID"), req)
	s.respond(w, r, http.StatusOK, a, err)
}

// SecretRotated is a new app secret, shown once, and until when the old
// ones keep working.
type SecretRotated struct {
	Secret        string    `json:"secret"`
	OldValidUntil time.Time `json:"old_valid_until"`
}

func (s *Server) apiAppSecret(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	secret, until, err := s.apps.RotateSecret(r.Context(), actor, r.PathValue("appID"))
	s.respond(w, r, http.StatusOK, SecretRotated{Secret: secret, OldValidUntil: until}, err)
}

func (s *Server) apiAppAudit(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	a, err := s.apps.Require(r.Context(), actor, r.PathValue("appID"), org.RoleViewer)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.auditList(w, r, audit.Filter{AppID: a.ID})
}

func (s *Server) apiTesters(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	ts, err := s.apps.Testers(r.Context(), actor, r.PathValue("appID"))
	s.respond(w, r, http.StatusOK, map[string]any{"testers": ts}, err)
}

// TesterRequest adds a tester by e-mail.
type TesterRequest struct {
	Email string `json:"email"`
}

func (s *Server) apiTesterAdd(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req TesterRequest
	if !s.decode(w, r, &req) {
		return
	}
	t, err := s.apps.AddTester(r.Context(), actor, r.PathValue("appID"), req.Email)
	s.respond(w, r, http.StatusCreated, t, err)
}

func (s *Server) apiTesterRemove(w http.ResponseWriter, r *http.Request) {
	actor, acc, ok := s.actorAndID(w, r, "accountID")
	if !ok {
		return
	}
	err := s.apps.RemoveTester(r.Context(), actor, r.PathValue("appID"), acc)
	s.respond(w, r, http.StatusOK, map[string]any{"removed": acc}, err)
}

func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	vs, err := s.apps.Versions(r.Context(), actor, r.PathValue("appID"))
	s.respond(w, r, http.StatusOK, map[string]any{"versions": vs}, err)
}

// apiUpload takes a package as the request body
// (Content-Type: application/miniapp-pkg+zip), with ?version= and ?note=.
func (s *Server) apiUpload(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	pol, err := s.policy.Get(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	max := pol.Limits.MaxPackageBytes
	if r.ContentLength > max {
		s.renderError(w, r, openmini.Errorf(openmini.ETOOLARGE, "package: %d bytes is more than the operator's limit of %d bytes", r.ContentLength, max))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.renderError(w, r, openmini.Errorf(openmini.ETOOLARGE, "package: larger than the operator's limit of %d bytes", max))
		return
	}
	if err != nil {
		s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "package: the upload was cut off: %v", err))
		return
	}
	v, err := s.apps.Upload(r.Context(), actor, r.PathValue("appID"), app.Upload{Package: body, Version: r.URL.Query().Get("version"), Note: r.URL.Query().Get("note")})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v.Files = nil
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	v, err := s.apps.Version(r.Context(), actor, r.PathValue("appID"), r.PathValue("version"))
	s.respond(w, r, http.StatusOK, v, err)
}

// apiVersionPackage downloads the package (.ma); its signature is in the
// X-OpenMini-Signature header (base64url of the signature file) and in the
// version's JSON.
func (s *Server) apiVersionPackage(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	v, err := s.apps.Version(r.Context(), actor, r.PathValue("appID"), r.PathValue("version"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rc, _, err := s.blob.Get(r.Context(), v.PackageKey)
	if err != nil {
		s.renderError(w, r, &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "blob store unavailable", Err: err})
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/miniapp-pkg+zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+v.AppID+"-"+v.Version+`.ma"`)
	w.Header().Set("Content-Length", strconv.FormatInt(v.Size, 10))
	w.Header().Set("ETag", `"`+v.SHA256+`"`)
	io.Copy(w, rc)
}

func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	v, err := s.apps.Submit(r.Context(), actor, r.PathValue("appID"), r.PathValue("version"))
	v.Files = nil
	s.respond(w, r, http.StatusOK, v, err)
}

// VersionRequest names a version.
type VersionRequest struct {
	Version string `json:"version"`
}

func (s *Server) apiTrialSet(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req VersionRequest
	if !s.decode(w, r, &req) {
		return
	}
	v, err := s.apps.SetTrial(r.Context(), actor, r.PathValue("appID"), req.Version)
	v.Files = nil
	s.respond(w, r, http.StatusOK, v, err)
}

func (s *Server) apiTrialClear(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	err := s.apps.ClearTrial(r.Context(), actor, r.PathValue("appID"))
	s.respond(w, r, http.StatusOK, map[string]any{"trial": nil}, err)
}

func (s *Server) apiRelease(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rel, err := s.apps.Release(r.Context(), actor, r.PathValue("appID"))
	s.respond(w, r, http.StatusOK, rel, err)
}

// ReleaseRequest releases a version to a share of users.
type ReleaseRequest struct {
	Version string `json:"version"`
	Percent int    `json:"percent"`
}

func (s *Server) apiReleaseSet(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req ReleaseRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Percent == 0 {
		req.Percent = 100
	}
	rel, err := s.apps.ReleaseVersion(r.Context(), actor, r.PathValue("appID"), req.Version, req.Percent)
	s.respond(w, r, http.StatusOK, rel, err)
}

func (s *Server) apiReleasePause(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rel, err := s.apps.SetPaused(r.Context(), actor, r.PathValue("appID"), true)
	s.respond(w, r, http.StatusOK, rel, err)
}

func (s *Server) apiReleaseResume(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rel, err := s.apps.SetPaused(r.Context(), actor, r.PathValue("appID"), false)
	s.respond(w, r, http.StatusOK, rel, err)
}

// RollbackRequest names the version to go back to (empty: the previous).
type RollbackRequest struct {
	Version string `json:"version,omitempty"`
}

func (s *Server) apiRollback(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	var req RollbackRequest
	if r.ContentLength != 0 && !s.decode(w, r, &req) {
		return
	}
	rel, err := s.apps.Rollback(r.Context(), actor, r.PathValue("appID"), req.Version)
	s.respond(w, r, http.StatusOK, rel, err)
}

// UserVersion says which version a user gets.
type UserVersion struct {
	UserKey string `json:"user_key"`
	Version string `json:"version"`
	Bucket  int    `json:"bucket"`
	Percent int    `json:"percent"`
}

func (s *Server) apiReleaseForUser(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	rel, err := s.apps.Release(r.Context(), actor, r.PathValue("appID"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	key := r.PathValue("userKey")
	v, err := s.apps.VersionByID(r.Context(), rel.Pick(key))
	s.respond(w, r, http.StatusOK, UserVersion{UserKey: key, Version: v.Version, Bucket: app.Bucket(rel.AppID, rel.VersionID, key), Percent: rel.Percent}, err)
}

// limitsHit applies a per-client-address fixed window.
func (s *Server) limitsHit(r *http.Request, what string, n int, per time.Duration) error {
	return s.limits.Hit(r.Context(), what+":"+s.clientIP(r), n, per)
}
