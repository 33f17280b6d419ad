package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/qr"
)

// The OpenAPI 3.1 description of the REST API, served at
// GET /api/openapi.json. It is generated from apiOperations (one line per
// route) and from the Go types the handlers encode and decode, by
// reflection (openapi_schema.go), so schemas cannot drift from the types.
// TestOpenAPIMatchesRoutes fails, naming the route, when a pattern
// registered with s.api has no line in the table or a line names no
// registered route.

// authKind says who may call an operation.
type authKind int

const (
	authPublic   authKind = iota // anyone, without credentials
	authCaller                   // an API key (Bearer omk_...) or a console session
	authStaff                    // a console session of the operator's staff; never an API key
	authMerchant                 // a merchant API key (pay_api.go): HTTP Basic, or Bearer {key id}.{secret}
)

// rawBody is a body that is not JSON, named by its media type.
type rawBody string

// fields describes a JSON object that a handler builds as a map: every key
// is always present, with the schema of its Go value's type (nil: null).
type fields map[string]any

// nonNull wraps a slice or map value in fields that the handler never
// sends as null (it replaces nil with an empty one).
type nonNull struct{ v any }

// param is a query or path parameter.
type param struct {
	name string
	typ  string // "string" or "integer"
	desc string
}

// apiOp is one documented operation. Build it with op and the modifiers.
type apiOp struct {
	route    string // the pattern given to s.api: "GET /api/v1/apps/{appID}"
	id       string // operationId, unique
	summary  string
	tag      string
	auth     authKind
	in       any // request body: nil, a Go value of the decoded type, or a rawBody
	out      any // success body: a Go value of the encoded type, fields, or a rawBody
	status   int // success status
	desc     string
	query    []param
	optional bool  // the request body may be left out
	session  bool  // a successful answer starts a console session
	errs     []int // error statuses beyond the ones derived from the other columns
}

// op is one line of the table.
func op(route, id, summary, tag string, auth authKind, in, out any, status int) apiOp {
	return apiOp{route: route, id: id, summary: summary, tag: tag, auth: auth, in: in, out: out, status: status}
}

func (o apiOp) describe(d string) apiOp         { o.desc = d; return o }
func (o apiOp) withQuery(p ...param) apiOp      { o.query = append(o.query, p...); return o }
func (o apiOp) optionalBody() apiOp             { o.optional = true; return o }
func (o apiOp) startsSession() apiOp            { o.session = true; return o }
func (o apiOp) mayFailWith(status ...int) apiOp { o.errs = append(o.errs, status...); return o }

// Tags, in the order the document lists them.
const (
	tagAccount  = "Account"
	tagOrgs     = "Organisations"
	tagApps     = "Apps"
	tagVersions = "Versions"
	tagRelease  = "Release"
	tagReview   = "Review"
	tagOperator = "Operator"
	tagMeta     = "Meta"
	tagQR       = "QR codes"
)

var tagDescriptions = [][2]string{
	{tagAccount, "Signing up and who is calling."},
	{tagOrgs, "Developer organisations: members, invitations, API keys, audit log."},
	{tagApps, "Mini programs: settings, secret, testers, audit log."},
	{tagVersions, "Uploading packages and moving versions through trial and review."},
	{tagRelease, "Gradual release, pause, rollback, and which version a user gets."},
	{tagReview, "The operator's review queue."},
	{tagOperator, "The operator's policy, categories, organisations and invitations."},
	{tagQR, "QR codes and short links: create one or a numbered batch, images, printable kits, statistics."},
	{tagPay, tagPayDescription},
	{tagDiscovery, tagDiscoveryDescription},
	{tagMeta, "This document."},
}

// qrStatsRange limits QR statistics in time.
var qrStatsRange = []param{
	{"since", "string", "Only events at or after this date (2025-01-31) or time (RFC 3339)."},
	{"until", "string", "Only events before this date or time."},
}

// qrPageImage are the parameters of an app page code.
var qrPageImage = []param{
	{"page", "string", "The page, e.g. pages/order (default: the first page)."},
	{"query", "string", "The page's parameters as a URL query, e.g. table=12&store=88."},
	{"trial", "string", "1 for the trial version."},
	{"size", "integer", "Image edge in pixels, 128 to 1024 (default 512)."},
	{"level", "string", "Error correction L, M, Q or H (default M)."},
	{"icon", "string", "1 to draw the app's icon in the centre."},
}

// auditPage are the paging parameters of the audit log lists.
var auditPage = []param{
	{"before", "integer", "Only entries with a smaller id: pass the last id of the previous page."},
	{"limit", "integer", "Entries per page: 1 to 500, default 100."},
}

// apiOperations is the table the document is generated from.
//
// To document a new route, add ONE line here next to its neighbours:
//
//	op("POST /api/v1/things", "createThing", "Create a thing", tagApps, authCaller, ThingRequest{}, Thing{}, http.StatusCreated),
//
// route is exactly the pattern given to s.api; in is a zero value of the
// type the handler decodes (nil for no body, rawBody("media/type") for a
// raw one); out is a zero value of the type it encodes, or fields{...} for a
// map it builds. Path parameters are described in pathParam; add new
// names there. .withQuery, .describe, .optionalBody, .startsSession and
// .mayFailWith add the rest.
func apiOperations() []apiOp {
	const ok, created = http.StatusOK, http.StatusCreated
	entries := fields{"entries": nonNull{[]audit.Entry{}}}
	return []apiOp{
		op("GET /api/openapi.json", "getOpenAPI", "This OpenAPI document", tagMeta, authPublic, nil, nonNull{map[string]any{}}, ok),

		op("POST /api/v1/signup", "signup", "Sign up as a developer with a new organisation", tagAccount, authPublic, SignupRequest{}, SignupResponse{}, created).
			describe("Creates an account and its organisation under the operator's admission policy (invitation_code when sign-up is invite-only) and starts a console session (Set-Cookie: om_session). Limited per client address.").
			startsSession().mayFailWith(http.StatusTooManyRequests),
		op("GET /api/v1/me", "getMe", "Who is calling, and their organisations", tagAccount, authCaller, nil, Me{}, ok),

		op("GET /api/v1/orgs", "listOrgs", "List your organisations", tagOrgs, authCaller, nil, fields{"orgs": nonNull{[]org.Org{}}}, ok),
		op("POST /api/v1/orgs", "createOrg", "Create an organisation", tagOrgs, authCaller, NameRequest{}, org.Org{}, created),
		op("GET /api/v1/orgs/{orgID}", "getOrg", "Get an organisation, with your role in it", tagOrgs, authCaller, nil, org.Org{}, ok),
		op("GET /api/v1/orgs/{orgID}/members", "listMembers", "List members", tagOrgs, authCaller, nil, fields{"members": []org.Member{}}, ok),
		op("PATCH /api/v1/orgs/{orgID}/members/{accountID}", "setMemberRole", "Change a member's role", tagOrgs, authCaller, RoleRequest{}, fields{"account_id": int64(0), "role": ""}, ok),
		op("DELETE /api/v1/orgs/{orgID}/members/{accountID}", "removeMember", "Remove a member", tagOrgs, authCaller, nil, fields{"removed": int64(0)}, ok),
		op("GET /api/v1/orgs/{orgID}/invitations", "listInvitations", "List invitations", tagOrgs, authCaller, nil, fields{"invitations": nonNull{[]org.Invitation{}}}, ok),
		op("POST /api/v1/orgs/{orgID}/invitations", "createInvitation", "Invite people to the organisation", tagOrgs, authCaller, InvitationRequest{}, InvitationCreated{}, created).
			describe("The code and link are shown only in this answer."),
		op("DELETE /api/v1/invitations/{invitationID}", "revokeInvitation", "Revoke an invitation", tagOrgs, authCaller, nil, fields{"revoked": int64(0)}, ok),
		op("POST /api/v1/invitations/accept", "acceptInvitation", "Join an organisation with an invitation code", tagOrgs, authCaller, AcceptRequest{}, org.Org{}, ok).
			describe("An operator's invitation (no organisation) creates a new organisation named org_name."),
		op("GET /api/v1/orgs/{orgID}/api-keys", "listAPIKeys", "List API keys", tagOrgs, authCaller, nil, fields{"keys": nonNull{[]org.APIKey{}}}, ok),
		op("POST /api/v1/orgs/{orgID}/api-keys", "createAPIKey", "Create an API key", tagOrgs, authCaller, APIKeyRequest{}, APIKeyCreated{}, created).
			describe("The token (omk_...) is shown only in this answer; it is stored hashed. app_id limits the key to one app."),
		op("DELETE /api/v1/orgs/{orgID}/api-keys/{keyID}", "revokeAPIKey", "Revoke an API key", tagOrgs, authCaller, nil, fields{"revoked": int64(0)}, ok),
		op("GET /api/v1/orgs/{orgID}/audit", "listOrgAudit", "The organisation's audit log, newest first", tagOrgs, authCaller, nil, entries, ok).withQuery(auditPage...),

		op("GET /api/v1/apps", "listApps", "List the apps you can see", tagApps, authCaller, nil, fields{"apps": []app.App{}}, ok),
		op("POST /api/v1/apps", "createApp", "Register a mini program", tagApps, authCaller, AppCreateRequest{}, AppCreated{}, created).
			describe("The app ID is assigned by the platform and is a DNS label (the app's origin). The secret is shown only in this answer. With an API key, org_id defaults to the key's organisation."),
		op("GET /api/v1/apps/{appID}", "getApp", "Get an app", tagApps, authCaller, nil, app.App{}, ok),
		op("PATCH /api/v1/apps/{appID}", "updateApp", "Change an app's settings", tagApps, authCaller, app.Settings{}, app.App{}, ok).
			describe("Only the fields sent are changed."),
		op("POST /api/v1/apps/{appID}/secret", "rotateAppSecret", "Rotate the app secret", tagApps, authCaller, nil, SecretRotated{}, ok).
			describe("The new secret is shown only in this answer; the old ones keep working until old_valid_until."),
		op("GET /api/v1/apps/{appID}/audit", "listAppAudit", "The app's audit log, newest first", tagApps, authCaller, nil, entries, ok).withQuery(auditPage...),
		op("GET /api/v1/apps/{appID}/testers", "listTesters", "List testers", tagApps, authCaller, nil, fields{"testers": []app.Tester{}}, ok),
		op("POST /api/v1/apps/{appID}/testers", "addTester", "Add a tester by e-mail", tagApps, authCaller, TesterRequest{}, app.Tester{}, created),
		op("DELETE /api/v1/apps/{appID}/testers/{accountID}", "removeTester", "Remove a tester", tagApps, authCaller, nil, fields{"removed": int64(0)}, ok),

		op("GET /api/v1/apps/{appID}/versions", "listVersions", "List versions, newest first", tagVersions, authCaller, nil, fields{"versions": []app.Version{}}, ok),
		op("POST /api/v1/apps/{appID}/versions", "uploadVersion", "Upload a package as a new version", tagVersions, authCaller, rawBody(miniapp.MediaType), app.Version{}, created).
			describe("The body is the package itself (a ZIP in the W3C MiniApp layout, as `openmini pack` writes it). It is validated in full; a rejected package answers 400 with every problem in error.problems. The version starts in development.").
			withQuery(param{"version", "string", "Version name; defaults to the manifest's version.name."}, param{"note", "string", "Release note shown to reviewers and testers."}),
		op("GET /api/v1/apps/{appID}/versions/{version}", "getVersion", "Get a version, with its file list", tagVersions, authCaller, nil, app.Version{}, ok),
		op("GET /api/v1/apps/{appID}/versions/{version}/package", "downloadPackage", "Download the signed package", tagVersions, authCaller, nil, rawBody(miniapp.MediaType), ok).
			describe("The ETag is the package's SHA-256; the platform signature is in the version's JSON."),
		op("POST /api/v1/apps/{appID}/versions/{version}/submit", "submitVersion", "Submit a version for review", tagVersions, authCaller, nil, app.Version{}, ok),
		op("PUT /api/v1/apps/{appID}/trial", "setTrial", "Make a version the trial version", tagVersions, authCaller, VersionRequest{}, app.Version{}, ok).
			describe("Only the organisation's members and the app's testers can open the trial version."),
		op("DELETE /api/v1/apps/{appID}/trial", "clearTrial", "Clear the trial version", tagVersions, authCaller, nil, fields{"trial": nil}, ok),

		op("GET /api/v1/apps/{appID}/release", "getRelease", "The current release", tagRelease, authCaller, nil, app.Release{}, ok),
		op("POST /api/v1/apps/{appID}/release", "releaseVersion", "Release an approved version to a share of users", tagRelease, authCaller, ReleaseRequest{}, app.Release{}, ok).
			describe("percent (1-100, 0 means 100) picks users by a stable hash, so nobody flips between versions as the share grows. A first release must go to 100%."),
		op("POST /api/v1/apps/{appID}/release/pause", "pauseRelease", "Pause a gradual release", tagRelease, authCaller, nil, app.Release{}, ok),
		op("POST /api/v1/apps/{appID}/release/resume", "resumeRelease", "Resume a paused release", tagRelease, authCaller, nil, app.Release{}, ok),
		op("POST /api/v1/apps/{appID}/rollback", "rollback", "Roll back to an earlier released version", tagRelease, authCaller, RollbackRequest{}, app.Release{}, ok).
			describe("Without a body or version, goes back to the previous release.").optionalBody(),
		op("GET /api/v1/apps/{appID}/release/users/{userKey}", "getUserVersion", "Which version a given user gets", tagRelease, authCaller, nil, UserVersion{}, ok),

		op("GET /api/v1/admin/reviews", "listReviews", "The review queue", tagReview, authStaff, nil, fields{"reviews": []app.ReviewItem{}}, ok),
		op("GET /api/v1/admin/reviews/{versionID}", "getReview", "A submitted version, with a preview link and its changes", tagReview, authStaff, nil, ReviewDetail{}, ok).
			describe("changes is the file diff against the released version (every file is added for a first release)."),
		op("POST /api/v1/admin/reviews/{versionID}/approve", "approveVersion", "Approve a version", tagReview, authStaff, nil, app.Version{}, ok),
		op("POST /api/v1/admin/reviews/{versionID}/reject", "rejectVersion", "Reject a version with a reason the developer sees", tagReview, authStaff, RejectRequest{}, app.Version{}, ok),

		op("GET /api/v1/admin/policy", "getPolicy", "The operator's policy", tagOperator, authStaff, nil, policy.Policy{}, ok),
		op("PUT /api/v1/admin/policy", "setPolicy", "Replace the operator's policy", tagOperator, authStaff, policy.Policy{}, policy.Policy{}, ok),
		op("GET /api/v1/categories", "listCategories", "The categories apps may choose", tagOperator, authPublic, nil, fields{"categories": []policy.Category{}}, ok).
			withQuery(param{"all", "string", "1 to include game categories while games are switched off."}),
		op("PUT /api/v1/admin/categories/{slug}", "saveCategory", "Create or change a category", tagOperator, authStaff, policy.Category{}, policy.Category{}, ok).
			describe("The slug in the path wins over one in the body."),
		op("DELETE /api/v1/admin/categories/{slug}", "deleteCategory", "Delete a category", tagOperator, authStaff, nil, fields{"deleted": ""}, ok),
		op("GET /api/v1/admin/orgs", "listAllOrgs", "Every organisation", tagOperator, authStaff, nil, fields{"orgs": nonNull{[]org.Org{}}}, ok),
		op("PUT /api/v1/admin/orgs/{orgID}/status", "setOrgStatus", "Suspend or re-activate an organisation", tagOperator, authStaff, StatusRequest{}, fields{"org_id": int64(0), "status": ""}, ok),
		op("GET /api/v1/admin/invitations", "listOperatorInvitations", "The operator's invitations to new organisations", tagOperator, authStaff, nil, fields{"invitations": nonNull{[]org.Invitation{}}}, ok),
		op("POST /api/v1/admin/invitations", "createOperatorInvitation", "Invite a new organisation", tagOperator, authStaff, InvitationRequest{}, InvitationCreated{}, created),
		op("GET /api/v1/admin/audit", "listAudit", "The whole audit log, newest first", tagOperator, authStaff, nil, entries, ok).withQuery(auditPage...),

		op("POST /api/v1/qr/codes", "createQRCode", "Create a QR code", tagQR, authCaller, QRCodeRequest{}, QRCode{}, created).
			describe("The code's image encodes its short link {server}/s/{slug}; the target (a page with parameters, the trial version, a merchant's collection page or an order) is stored on the server, so parameters have no length cap and the target can change later."),
		op("GET /api/v1/qr/codes", "listQRCodes", "List QR codes, oldest first", tagQR, authCaller, nil, QRCodeList{}, ok).
			withQuery(param{"app_id", "string", "Only this app's codes."}, param{"org_id", "integer", "The organisation (default: the app's, or the API key's)."},
				param{"batch_id", "integer", "Only the codes of this batch."}, param{"kind", "string", "page, trial, collect or order."},
				param{"after", "integer", "Only codes with a larger id: pass next_after of the previous page."}, param{"limit", "integer", "Codes per page: 1 to 1000, default 100."}),
		op("GET /api/v1/qr/codes/{codeID}", "getQRCode", "Get a QR code, or its image", tagQR, authCaller, nil, QRCode{}, ok).
			describe("With .png or .svg after the ID (/api/v1/qr/codes/12.png) the answer is the code's image instead: ?size=128..1024 (default 512), ?level=L|M|Q|H (default M), ?margin=2..10 modules, ?icon=1 for the app's icon in the centre (raises the level to Q).").
			withQuery(param{"size", "integer", "Image edge in pixels (images only)."}, param{"level", "string", "Error correction L, M, Q or H (images only)."},
				param{"margin", "integer", "Quiet zone in modules (images only)."}, param{"icon", "string", "1 to draw the app's icon in the centre (images only)."}),
		op("PATCH /api/v1/qr/codes/{codeID}", "updateQRCode", "Change, disable or re-enable a QR code", tagQR, authCaller, QRCodeUpdate{}, QRCode{}, ok).
			describe("Only the fields sent change. A new target keeps the short link, so printed codes lead somewhere new. A disabled or expired code shows a notice when scanned."),
		op("GET /api/v1/qr/codes/{codeID}/stats", "getQRCodeStats", "A QR code's scans, unique users, launches and payments", tagQR, authCaller, nil, qr.Stats{}, ok).
			withQuery(qrStatsRange...),
		op("POST /api/v1/qr/batches", "createQRBatch", "Create numbered QR codes from a template", tagQR, authCaller, QRBatchRequest{}, QRBatch{}, created).
			describe("Tables 1 to 200 of store 88: from 1, to 200, param table, query {\"store\": \"88\"}, label_template \"Table {n}\". At most 1,000 codes; all are created or none."),
		op("GET /api/v1/qr/batches/{batchID}", "getQRBatch", "Get a batch with its codes", tagQR, authCaller, nil, QRBatch{}, ok),
		op("GET /api/v1/qr/batches/{batchID}/kit.pdf", "downloadQRBatchPDF", "The batch as a printable A4 PDF kit", tagQR, authCaller, nil, rawBody("application/pdf"), ok).
			withQuery(param{"per_page", "integer", "Codes per page: 1, 2, 4, 6, 8, 9, 12 or 20 (default 1)."}, param{"level", "string", "Error correction L, M, Q or H (default Q)."}),
		op("GET /api/v1/qr/batches/{batchID}/kit.zip", "downloadQRBatchZIP", "The batch's images as a ZIP with codes.csv", tagQR, authCaller, nil, rawBody("application/zip"), ok).
			withQuery(param{"format", "string", "png (default) or svg."}, param{"size", "integer", "Image edge in pixels."}, param{"level", "string", "Error correction L, M, Q or H."}),
		op("GET /api/v1/apps/{appID}/qr/stats", "getAppQRStats", "Statistics over all of an app's QR codes, with a row per code", tagQR, authCaller, nil, qr.AppStats{}, ok).
			withQuery(qrStatsRange...),
		op("GET /api/v1/apps/{appID}/qr.png", "getAppPageQRPNG", "A PNG code for a page of the app, not stored", tagQR, authCaller, nil, rawBody("image/png"), ok).
			describe("Encodes the page's launch link itself (no short link, no statistics).").withQuery(qrPageImage...),
		op("GET /api/v1/apps/{appID}/qr.svg", "getAppPageQRSVG", "An SVG code for a page of the app, not stored", tagQR, authCaller, nil, rawBody("image/svg+xml"), ok).
			describe("As qr.png, in SVG.").withQuery(qrPageImage...),
	}
}

// pathParam describes a path parameter by its name in route patterns.
func pathParam(name string) (param, bool) {
	switch name {
	case "appID":
		return param{name, "string", "The app ID (a DNS label)."}, true
	case "version":
		return param{name, "string", "The version name, e.g. 1.2.0."}, true
	case "slug":
		return param{name, "string", "The category slug."}, true
	case "userKey":
		return param{name, "string", "Any stable key of a user, e.g. the app's pseudonymous user ID."}, true
	case "codeID":
		return param{name, "string", "A QR code's numeric ID; GET also takes it with .png or .svg appended, for the image."}, true
	case "batchID":
		return param{name, "integer", "A QR code batch's numeric ID."}, true
	case "orderID", "merchantOrderNo", "refundID", "eventID", "date":
		return payPathParam(name)
	case "orgID", "accountID", "invitationID", "keyID", "versionID":
		return param{name, "integer", "A numeric ID."}, true
	}
	return param{}, false
}

// errorCodes are the stable codes of package openmini, in the order the
// document lists them; TestOpenAPIErrorCodes keeps it equal to errors.go.
var errorCodes = []string{
	openmini.EINVALID, openmini.ENOTFOUND, openmini.ECONFLICT, openmini.EUNAUTHORIZED,
	openmini.EFORBIDDEN, openmini.ETOOLARGE, openmini.ERATELIMITED, openmini.EUNAVAILABLE,
	openmini.EINTERNAL,
}

// enums lists the values of string properties that take one of a fixed
// set, as "Schema.property"; a name that matches no property fails the
// build.
func enums() map[string][]string {
	states := []string{app.StateDevelopment, app.StateReview, app.StateRejected, app.StateApproved, app.StateReleased}
	roles := []string{org.RoleOwner, org.RoleDeveloper, org.RoleViewer}
	orgStatus := []string{"active", "suspended"}
	return map[string][]string{
		"AppVersion.state":       states,
		"ReviewItem.state":       states,
		"ReviewDetail.state":     states,
		"Org.role":               roles,
		"Member.role":            roles,
		"RoleRequest.role":       roles,
		"Invitation.role":        roles,
		"InvitationRequest.role": roles,
		"Org.status":             orgStatus,
		"StatusRequest.status":   orgStatus,
		"Admission.mode":         {policy.AdmissionOpen, policy.AdmissionInvite},
		"FileChange.change":      {"added", "removed", "changed"},
	}
}

// errorResponses names the reusable error responses by status.
var errorResponses = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "NotFound",
	http.StatusConflict:              "Conflict",
	http.StatusRequestEntityTooLarge: "TooLarge",
	http.StatusTooManyRequests:       "RateLimited",
}

// routesOpenAPI serves the OpenAPI document. It is built on the first
// request, once every route is registered.
func (s *Server) routesOpenAPI(mux *http.ServeMux) {
	var once sync.Once
	var body []byte
	var etag string
	var err error
	s.api(mux, "GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			var doc *oaDocument
			if doc, err = s.openAPI(); err == nil {
				body, err = json.MarshalIndent(doc, "", "  ")
			}
			sum := sha256.Sum256(body)
			etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		})
		if err != nil {
			s.renderError(w, r, fmt.Errorf("openapi: %w", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "", s.started, bytes.NewReader(body))
	})
}

// OpenAPI returns the OpenAPI 3.1 document of the REST API as JSON. It
// fails when the operation table describes something it cannot, such as
// a path parameter without a description or a type with a custom JSON
// encoding and no schema.
func (s *Server) OpenAPI() ([]byte, error) {
	doc, err := s.openAPI()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}

// The document's shape: only the parts of OpenAPI 3.1 used here.
type (
	oaDocument struct {
		OpenAPI    string                             `json:"openapi"`
		Info       oaInfo                             `json:"info"`
		Servers    []oaServer                         `json:"servers"`
		Security   []oaRequirement                    `json:"security"`
		Tags       []oaTag                            `json:"tags"`
		Paths      map[string]map[string]*oaOperation `json:"paths"`
		Components oaComponents                       `json:"components"`
	}
	oaInfo struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	}
	oaServer struct {
		URL string `json:"url"`
	}
	oaTag struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	oaRequirement map[string][]string
	oaComponents  struct {
		Schemas         map[string]*jsonSchema      `json:"schemas"`
		Responses       map[string]*oaResponse      `json:"responses"`
		SecuritySchemes map[string]oaSecurityScheme `json:"securitySchemes"`
	}
	oaSecurityScheme struct {
		Type         string `json:"type"`
		Description  string `json:"description"`
		Scheme       string `json:"scheme,omitempty"`
		BearerFormat string `json:"bearerFormat,omitempty"`
		In           string `json:"in,omitempty"`
		Name         string `json:"name,omitempty"`
	}
	oaOperation struct {
		OperationID string                 `json:"operationId"`
		Summary     string                 `json:"summary"`
		Description string                 `json:"description,omitempty"`
		Tags        []string               `json:"tags"`
		Security    []oaRequirement        `json:"security"`
		Parameters  []oaParameter          `json:"parameters,omitempty"`
		RequestBody *oaRequestBody         `json:"requestBody,omitempty"`
		Responses   map[string]*oaResponse `json:"responses"`
	}
	oaParameter struct {
		Name        string      `json:"name"`
		In          string      `json:"in"`
		Description string      `json:"description"`
		Required    bool        `json:"required"`
		Schema      *jsonSchema `json:"schema"`
	}
	oaRequestBody struct {
		Required bool               `json:"required"`
		Content  map[string]oaMedia `json:"content"`
	}
	oaMedia struct {
		Schema *jsonSchema `json:"schema"`
	}
	oaResponse struct {
		Ref         string              `json:"$ref,omitempty"`
		Description string              `json:"description,omitempty"`
		Headers     map[string]oaHeader `json:"headers,omitempty"`
		Content     map[string]oaMedia  `json:"content,omitempty"`
	}
	oaHeader struct {
		Description string      `json:"description"`
		Schema      *jsonSchema `json:"schema"`
	}
)

const apiDescription = "The REST API of an OpenMini platform: everything the developer and operator consoles do.\n\n" +
	"Authenticate with an API key (`Authorization: Bearer omk_...`, created in the console) or the console's session cookie. " +
	"Errors answer JSON `{\"error\": {\"code\", \"message\", \"problems\"?, \"request_id\"}}`; `code` is stable and decides the HTTP status."

// openAPI builds the document from apiOperations.
func (s *Server) openAPI() (*oaDocument, error) {
	g := newSchemaGen()
	errSchema := g.of(APIError{})
	doc := &oaDocument{
		OpenAPI:  "3.1.0",
		Info:     oaInfo{Title: "OpenMini", Version: s.cfg.Version, Description: apiDescription},
		Servers:  []oaServer{{URL: s.cfg.PublicURL}},
		Security: []oaRequirement{{"apiKey": {}}, {"session": {}}},
		Paths:    map[string]map[string]*oaOperation{},
		Components: oaComponents{
			Responses: map[string]*oaResponse{},
			SecuritySchemes: map[string]oaSecurityScheme{
				"apiKey": {Type: "http", Scheme: "bearer", BearerFormat: "omk_...",
					Description: "An API key of an organisation (optionally scoped to one app), created in the developer console or by `openmini login`: `Authorization: Bearer omk_...`."},
				"merchantKey": {Type: "http", Scheme: "basic",
					Description: "A merchant API key (developer console › Merchants): the key id (mk_...) as the user name and the secret (msk_...) as the password. For /api/v1/merchant only."},
				"merchantBearer": {Type: "http", Scheme: "bearer", BearerFormat: "{key id}.{secret}",
					Description: "The same merchant API key as `Authorization: Bearer mk_....msk_...`. For /api/v1/merchant only."},
				"session": {Type: "apiKey", In: "cookie", Name: sessionCookie,
					Description: "The console session cookie, set by signing in (or by POST /api/v1/signup). Requests other than GET must come from the host's own origin."},
			},
		},
	}
	for _, t := range tagDescriptions {
		doc.Tags = append(doc.Tags, oaTag{Name: t[0], Description: t[1]})
	}
	errMedia := map[string]oaMedia{"application/json": {Schema: errSchema}}
	retry := map[string]oaHeader{"Retry-After": {Description: "Seconds to wait before trying again.", Schema: &jsonSchema{Type: "integer"}}}
	for status, name := range errorResponses {
		doc.Components.Responses[name] = &oaResponse{Description: errorStatusText(status), Content: errMedia}
	}
	doc.Components.Responses["RateLimited"].Headers = retry
	doc.Components.Responses["Error"] = &oaResponse{Description: "Any other error: rate_limited (429, with Retry-After), unavailable (503), internal (500).", Content: errMedia, Headers: retry}

	seenID := map[string]bool{}
	for _, o := range slices.Concat(apiOperations(), payAPIOperations(), discoveryAPIOperations()) {
		method, path, ok := strings.Cut(o.route, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("openapi: route %q is not \"METHOD /path\"", o.route)
		}
		if seenID[o.id] || o.id == "" {
			return nil, fmt.Errorf("openapi: %s: operationId %q is empty or used twice", o.route, o.id)
		}
		seenID[o.id] = true
		path = openAPIPath(path)
		oper, err := s.operation(g, o, path)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", o.route, err)
		}
		if doc.Paths[path] == nil {
			doc.Paths[path] = map[string]*oaOperation{}
		}
		m := strings.ToLower(method)
		if doc.Paths[path][m] != nil {
			return nil, fmt.Errorf("openapi: %s is in the table twice", o.route)
		}
		doc.Paths[path][m] = oper
	}
	schemas, err := g.finish()
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if e := schemas["Error"]; e != nil {
		if code := e.property("error").property("code"); code != nil {
			code.Enum = errorCodes
			code.Description = "Stable machine code; it decides the HTTP status."
		}
	}
	for at, values := range enums() {
		name, prop, _ := strings.Cut(at, ".")
		p := schemas[name].property(prop)
		if p == nil {
			return nil, fmt.Errorf("openapi: enum for %s: no such schema property", at)
		}
		p.Enum = values
	}
	doc.Components.Schemas = schemas
	return doc, nil
}

// operation describes one table line.
func (s *Server) operation(g *schemaGen, o apiOp, path string) (*oaOperation, error) {
	oper := &oaOperation{OperationID: o.id, Summary: o.summary, Description: o.desc, Tags: []string{o.tag}, Responses: map[string]*oaResponse{}}
	switch o.auth {
	case authPublic:
		oper.Security = []oaRequirement{}
	case authCaller:
		oper.Security = []oaRequirement{{"apiKey": {}}, {"session": {}}}
	case authMerchant:
		oper.Security = []oaRequirement{{"merchantKey": {}}, {"merchantBearer": {}}}
	case authStaff:
		oper.Security = []oaRequirement{{"session": {}}}
		oper.Description = strings.TrimSpace("For the operator's staff (a console session, not an API key). " + oper.Description)
	}
	names := pathNames(path)
	for _, n := range names {
		p, ok := pathParam(n)
		if !ok {
			return nil, fmt.Errorf("path parameter {%s} has no description: add it to pathParam in web/openapi.go", n)
		}
		oper.Parameters = append(oper.Parameters, oaParameter{Name: n, In: "path", Required: true, Description: p.desc, Schema: &jsonSchema{Type: p.typ}})
	}
	for _, p := range o.query {
		oper.Parameters = append(oper.Parameters, oaParameter{Name: p.name, In: "query", Description: p.desc, Schema: &jsonSchema{Type: p.typ}})
	}
	errs := slices.Clone(o.errs)
	switch in := o.in.(type) {
	case nil:
	case rawBody:
		oper.RequestBody = &oaRequestBody{Required: !o.optional, Content: map[string]oaMedia{string(in): {Schema: binarySchema(string(in))}}}
		errs = append(errs, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	default:
		oper.RequestBody = &oaRequestBody{Required: !o.optional, Content: map[string]oaMedia{"application/json": {Schema: g.of(in)}}}
		errs = append(errs, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	}
	if o.auth != authPublic {
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden)
	}
	if len(names) > 0 {
		errs = append(errs, http.StatusNotFound)
	}
	if o.in != nil || strings.HasPrefix(o.route, "POST ") || strings.HasPrefix(o.route, "DELETE ") {
		errs = append(errs, http.StatusConflict)
	}
	ok := &oaResponse{Description: http.StatusText(o.status)}
	switch out := o.out.(type) {
	case nil:
	case rawBody:
		ok.Content = map[string]oaMedia{string(out): {Schema: binarySchema(string(out))}}
		if out == miniapp.MediaType {
			ok.Headers = map[string]oaHeader{
				"ETag":                {Description: "The package's SHA-256, quoted.", Schema: &jsonSchema{Type: "string"}},
				"Content-Disposition": {Description: "attachment; filename=\"{appID}-{version}.ma\"", Schema: &jsonSchema{Type: "string"}},
			}
		}
	default:
		ok.Content = map[string]oaMedia{"application/json": {Schema: g.of(out)}}
	}
	if o.session {
		ok.Headers = map[string]oaHeader{"Set-Cookie": {Description: sessionCookie + ": the new console session.", Schema: &jsonSchema{Type: "string"}}}
	}
	oper.Responses[fmt.Sprint(o.status)] = ok
	slices.Sort(errs)
	for _, st := range slices.Compact(errs) {
		name, ok := errorResponses[st]
		if !ok {
			return nil, fmt.Errorf("no error response for status %d: add it to errorResponses", st)
		}
		oper.Responses[fmt.Sprint(st)] = &oaResponse{Ref: "#/components/responses/" + name}
	}
	oper.Responses["default"] = &oaResponse{Ref: "#/components/responses/Error"}
	return oper, nil
}

// openAPIPath turns a ServeMux path pattern into an OpenAPI path:
// "{name...}" becomes "{name}" and a trailing "{$}" is dropped.
func openAPIPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

// pathNames lists the {names} in an OpenAPI path, in order.
func pathNames(p string) []string {
	var names []string
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, p[i+1:i+j])
		p = p[i+j+1:]
	}
}

// errorStatusText says which codes answer with status.
func errorStatusText(status int) string {
	var codes []string
	for _, c := range errorCodes {
		if httpStatus(c) == status {
			codes = append(codes, c)
		}
	}
	return fmt.Sprintf("%s (error code %s)", http.StatusText(status), strings.Join(codes, ", "))
}

func binarySchema(mediaType string) *jsonSchema {
	return &jsonSchema{Type: "string", ContentMediaType: mediaType}
}
