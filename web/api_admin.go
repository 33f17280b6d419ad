package web

import (
	"net/http"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
)

// routesAPIAdmin: the operator's REST API, plus the public package keys.
func (s *Server) routesAPIAdmin(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/admin/reviews", s.apiReviews)
	s.api(mux, "GET /api/v1/admin/reviews/{versionID}", s.apiReview)
	s.api(mux, "POST /api/v1/admin/reviews/{versionID}/approve", s.apiApprove)
	s.api(mux, "POST /api/v1/admin/reviews/{versionID}/reject", s.apiReject)
	s.api(mux, "GET /api/v1/admin/policy", s.apiPolicy)
	s.api(mux, "PUT /api/v1/admin/policy", s.apiPolicySet)
	s.api(mux, "GET /api/v1/categories", s.apiCategories)
	s.api(mux, "PUT /api/v1/admin/categories/{slug}", s.apiCategorySave)
	s.api(mux, "DELETE /api/v1/admin/categories/{slug}", s.apiCategoryDelete)
	s.api(mux, "GET /api/v1/admin/orgs", s.apiAdminOrgs)
	s.api(mux, "PUT /api/v1/admin/orgs/{orgID}/status", s.apiAdminOrgStatus)
	s.api(mux, "GET /api/v1/admin/invitations", s.apiAdminInvitations)
	s.api(mux, "POST /api/v1/admin/invitations", s.apiAdminInvitationCreate)
	s.api(mux, "GET /api/v1/admin/audit", s.apiAdminAudit)
	mux.HandleFunc("GET /.well-known/miniapp-package-keys.json", s.handlePackageKeys)
}

func (s *Server) apiReviews(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.actor(w, r)
	if !ok {
		return
	}
	items, err := s.apps.ReviewQueue(r.Context(), actor)
	s.respond(w, r, http.StatusOK, map[string]any{"reviews": items}, err)
}

// ReviewDetail is what a reviewer sees of a version: the version, its
// app, a preview link and the file changes against the released version.
type ReviewDetail struct {
	app.ReviewItem
	PreviewURL      string           `json:"preview_url"`
	ReleasedVersion string           `json:"released_version,omitempty"`
	Changes         []app.FileChange `json:"changes"`
}

func (s *Server) reviewDetail(r *http.Request, actor openmini.Actor, id int64) (ReviewDetail, error) {
	it, err := s.apps.ReviewVersion(r.Context(), actor, id)
	if err != nil {
		return ReviewDetail{}, err
	}
	d := ReviewDetail{ReviewItem: it, PreviewURL: s.previewURL(it.AppID, it.ID)}
	var base *app.Version
	if rel, err := s.apps.Release(r.Context(), openmini.Actor{StaffRole: "admin", Label: "system"}, it.AppID); err == nil {
		if bv, err := s.apps.VersionByID(r.Context(), rel.VersionID); err == nil {
			base = &bv
			d.ReleasedVersion = bv.Version
		}
	}
	d.Changes, err = s.apps.Diff(r.Context(), base, &it.Version)
	if d.Changes == nil {
		d.Changes = []app.FileChange{}
	}
	return d, err
}

// previewURL is where staff open a version in the host.
func (s *Server) previewURL(appID string, versionID int64) string {
	return s.cfg.PublicURL + "/app/" + appID + "/?preview=" + itoa(versionID)
}

func (s *Server) apiReview(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "versionID")
	if !ok {
		return
	}
	d, err := s.reviewDetail(r, actor, id)
	s.respond(w, r, http.StatusOK, d, err)
}

func (s *Server) apiApprove(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "versionID")
	if !ok {
		return
	}
	v, err := s.apps.Approve(r.Context(), actor, id)
	v.Files = nil
	s.respond(w, r, http.StatusOK, v, err)
}

// RejectRequest carries the reason the developer will see.
type RejectRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) apiReject(w http.ResponseWriter, r *http.Request) {
	actor, id, ok := s.actorAndID(w, r, "versionID")
	if !ok {
		return
	}
	var req RejectRequest
	if !s.decode(w, r, &req) {
		return
	}
	v, err := s.apps.Reject(r.Context(), actor, id, req.Reason)
	v.Files = nil
	s.respond(w, r, http.StatusOK, v, err)
}

func (s *Server) requireStaffActor(w http.ResponseWriter, r *http.Request) (openmini.Actor, bool) {
	actor, ok := s.actor(w, r)
	if !ok {
		return actor, false
	}
	if !actor.IsStaff() {
		s.renderError(w, r, openmini.Errorf(openmini.EFORBIDDEN, "this is for the operator's staff"))
		return actor, false
	}
	return actor, true
}

func (s *Server) apiPolicy(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireStaffActor(w, r); !ok {
		return
	}
	p, err := s.policy.Get(r.Context())
	s.respond(w, r, http.StatusOK, p, err)
}

func (s *Server) apiPolicySet(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	var p policy.Policy
	if !s.decode(w, r, &p) {
		return
	}
	p, err := s.policy.Set(r.Context(), actor, p)
	s.respond(w, r, http.StatusOK, p, err)
}

// apiCategories lists the categories apps may choose (public).
func (s *Server) apiCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := s.policy.Categories(r.Context(), r.URL.Query().Get("all") == "1")
	s.respond(w, r, http.StatusOK, map[string]any{"categories": cs}, err)
}

func (s *Server) apiCategorySave(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	var c policy.Category
	if !s.decode(w, r, &c) {
		return
	}
	c.Slug = r.PathValue("slug")
	err := s.policy.SaveCategory(r.Context(), actor, c)
	s.respond(w, r, http.StatusOK, c, err)
}

func (s *Server) apiCategoryDelete(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	err := s.policy.DeleteCategory(r.Context(), actor, r.PathValue("slug"))
	s.respond(w, r, http.StatusOK, map[string]any{"deleted": r.PathValue("slug")}, err)
}

func (s *Server) apiAdminOrgs(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	orgs, err := s.orgs.All(r.Context(), actor)
	if orgs == nil {
		orgs = []org.Org{}
	}
	s.respond(w, r, http.StatusOK, map[string]any{"orgs": orgs}, err)
}

// StatusRequest suspends or re-activates an organisation.
type StatusRequest struct {
	Status string `json:"status"`
}

func (s *Server) apiAdminOrgStatus(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	id, ok := s.pathInt(w, r, "orgID")
	if !ok {
		return
	}
	var req StatusRequest
	if !s.decode(w, r, &req) {
		return
	}
	err := s.orgs.SetStatus(r.Context(), actor, id, req.Status)
	s.respond(w, r, http.StatusOK, map[string]any{"org_id": id, "status": req.Status}, err)
}

func (s *Server) apiAdminInvitations(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	invs, err := s.orgs.Invitations(r.Context(), actor, 0)
	if invs == nil {
		invs = []org.Invitation{}
	}
	s.respond(w, r, http.StatusOK, map[string]any{"invitations": invs}, err)
}

func (s *Server) apiAdminInvitationCreate(w http.ResponseWriter, r *http.Request) {
	actor, ok := s.requireStaffActor(w, r)
	if !ok {
		return
	}
	var req InvitationRequest
	if !s.decode(w, r, &req) {
		return
	}
	s.createInvitation(w, r, actor, 0, req)
}

func (s *Server) apiAdminAudit(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireStaffActor(w, r); !ok {
		return
	}
	s.auditList(w, r, audit.Filter{})
}

// handlePackageKeys publishes the public keys that sign packages, as a
// JWK Set, for `openmini verify` and any client.
func (s *Server) handlePackageKeys(w http.ResponseWriter, r *http.Request) {
	b, err := miniappKeySet(s.apps.Keys().Set())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(b)
}
