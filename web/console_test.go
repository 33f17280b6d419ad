package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// page GETs a console page and returns its status and its text with HTML
// entities decoded.
func page(t *testing.T, p *platformtest.Running, c *http.Client, path string) (int, string) {
	t.Helper()
	code, body := p.Get(t, c, path)
	return code, html.UnescapeString(body)
}

// post submits a console form and returns the status, the redirect target
// and the page text with HTML entities decoded.
func post(t *testing.T, p *platformtest.Running, c *http.Client, path string, kv ...string) (int, string, string) {
	t.Helper()
	resp, body := p.PostForm(t, c, path, kv...)
	return resp.StatusCode, resp.Header.Get("Location"), html.UnescapeString(body)
}

// uploadForm posts a package the way the versions page's form does.
func uploadForm(t *testing.T, p *platformtest.Running, c *http.Client, appID, version string, pkg []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("version", version)
	mw.WriteField("note", "from the browser")
	if pkg != nil {
		fw, _ := mw.CreateFormFile("package", "noodle-bar.ma")
		fw.Write(pkg)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", p.URL+"/console/apps/"+appID+"/versions", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", p.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(b))
}

// shownOnce finds the value of a shown-once box (id) on a page.
func shownOnce(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no #%s on the page:\n%s", id, body)
	}
	return m[1]
}

func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Fatalf("%s: the page does not say %q:\n%s", what, s, body)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(body, s) {
			t.Fatalf("%s: the page says %q and should not:\n%s", what, s, body)
		}
	}
}

// badPackage is a ZIP with several problems at once.
func badPackage(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"manifest.json":  `{"name": "", "version": {"code": 0, "name": "1.0.0"}, "pages": ["pages/missing"]}`,
		"../escape.js":   "alert(1)",
		"app.js":         "App({})",
		"pages/a/Aa.js":  "1",
		"pages/a/aA.js":  "2",
		"common/x.woff3": "?",
	} {
		fw, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

func TestConsoleUploadListsEveryProblem(t *testing.T) {
	w := newDevWorld(t)
	c := w.dev.C
	bad := badPackage(t)
	_, err := miniapp.OpenBytes(context.Background(), bad, miniapp.DefaultLimits())
	problems := miniapp.Problems(err)
	if len(problems) < 2 {
		t.Fatalf("the bad package has %d problems; the test wants several: %v", len(problems), err)
	}
	code, body := uploadForm(t, w.p, c, w.appID, "", bad)
	if code != http.StatusBadRequest {
		t.Fatalf("bad package: %d", code)
	}
	mustContain(t, "refused upload", body, "Why the package was refused", `value="from the browser"`)
	for _, pr := range problems {
		mustContain(t, "refused upload", body, pr.Message)
	}

	code, body = uploadForm(t, w.p, c, w.appID, "", nil)
	if code != http.StatusBadRequest {
		t.Fatalf("upload without a file: %d", code)
	}
	mustContain(t, "upload without a file", body, "choose a package file")

	// Over the operator's limit, the upload is refused before it is read.
	var pol map[string]any
	w.operator.Must(t, 200, "GET", "/api/v1/admin/policy", nil, &pol)
	pol["limits"].(map[string]any)["max_package_bytes"] = 2048
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)
	code, body = uploadForm(t, w.p, c, w.appID, "", platformtest.Package(t, "shop", "Noodle Bar", "1.0.0", nil))
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("package over the limit: %d\n%s", code, body)
	}
	mustContain(t, "package over the limit", body, "limit of 2.0 KB")
	pol["limits"].(map[string]any)["max_package_bytes"] = 2 << 20
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)

	_, body = page(t, w.p, c, "/console/apps/"+w.appID+"/versions")
	mustContain(t, "versions after refused uploads", body, "No versions yet.")

	// A good package, named in the form, becomes a development version.
	code, _ = uploadForm(t, w.p, c, w.appID, "1.0.0-beta", platformtest.Package(t, "shop", "Noodle Bar", "1.0.0", nil))
	if code != http.StatusSeeOther {
		t.Fatalf("good upload: %d", code)
	}
	_, body = page(t, w.p, c, "/console/apps/"+w.appID+"/versions")
	mustContain(t, "versions after an upload", body, "1.0.0-beta", "In development", "from the browser", "Version uploaded.")
	// The flash is shown once.
	_, body = page(t, w.p, c, "/console/apps/"+w.appID+"/versions")
	mustNotContain(t, "versions again", body, "Version uploaded.")
}

func TestConsoleReleaseControls(t *testing.T) {
	w := newDevWorld(t)
	c, base := w.dev.C, "/console/apps/"+w.appID
	w.upload(t, w.dev, "1.0.0")
	w.approve(t, "1.0.0")

	_, body := page(t, w.p, c, base)
	mustContain(t, "before the first release", body, "Not released yet", "Release to everyone")
	if code, loc, _ := post(t, w.p, c, base+"/release", "version", "1.0.0", "percent", "100"); code != 303 || loc != base {
		t.Fatalf("first release: %d to %q", code, loc)
	}
	w.upload(t, w.dev, "2.0.0")
	w.approve(t, "2.0.0")

	code, _, body := post(t, w.p, c, base+"/release", "version", "2.0.0", "percent", "custom", "custom", "")
	if code != 400 {
		t.Fatalf("release without a percentage: %d", code)
	}
	mustContain(t, "release without a percentage", body, "give a percentage from 1 to 100")
	if code, _, body := post(t, w.p, c, base+"/release", "version", "2.0.0", "percent", "custom", "custom", "30"); code != 303 {
		t.Fatalf("release to 30%%: %d\n%s", code, body)
	}
	_, body = page(t, w.p, c, base)
	mustContain(t, "rollout", body, "Version 2.0.0 is rolling out to 30% of users; everyone else gets 1.0.0.", "Pause the rollout")

	// Paused, the share cannot grow; the refusal is shown on the page.
	if code, _, _ := post(t, w.p, c, base+"/release/pause"); code != 303 {
		t.Fatalf("pause: %d", code)
	}
	code, _, body = post(t, w.p, c, base+"/release", "version", "2.0.0", "percent", "50")
	if code != 409 {
		t.Fatalf("raise while paused: %d", code)
	}
	mustContain(t, "raise while paused", body, "is paused", "Resume the rollout")
	if code, _, _ := post(t, w.p, c, base+"/release/resume"); code != 303 {
		t.Fatalf("resume: %d", code)
	}

	// Which version does a user get: the page and the API agree.
	var me web.Me
	w.dev.Must(t, 200, "GET", "/api/v1/me", nil, &me)
	var uv web.UserVersion
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/apps/%s/release/users/%d", w.appID, me.AccountID), nil, &uv)
	_, body = page(t, w.p, c, base+"?user=dev@noodles.example")
	mustContain(t, "which version", body, "This user gets version "+uv.Version+".", fmt.Sprintf("Their bucket is %d;", uv.Bucket))
	code, body = page(t, w.p, c, base+"?user=nobody@nowhere.example")
	if code != 404 {
		t.Fatalf("unknown user: %d", code)
	}
	mustContain(t, "unknown user", body, "nobody@nowhere.example", "Which version does a user get?")

	// Rollback to the version still serving the rest, at once, to everyone.
	if code, _, body := post(t, w.p, c, base+"/rollback", "version", "1.0.0"); code != 303 {
		t.Fatalf("rollback: %d\n%s", code, body)
	}
	_, body = page(t, w.p, c, base)
	mustContain(t, "after rollback", body, "Version 1.0.0 is released to everyone.", "Rolled back.")
	var rel app.Release
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+w.appID+"/release", nil, &rel)
	if rel.Version != "1.0.0" || rel.Percent != 100 {
		t.Fatalf("release after rollback: %+v", rel)
	}
}

func TestConsoleSettingsSecretTrialAndTesters(t *testing.T) {
	w := newDevWorld(t)
	c, base := w.dev.C, "/console/apps/"+w.appID

	code, _, body := post(t, w.p, c, base+"/settings", "name", "Noodle Bar", "category", "food", "allowed_domains", "api.noodles.example\nhttp://insecure.example")
	if code != 400 {
		t.Fatalf("insecure domain: %d", code)
	}
	mustContain(t, "insecure domain", body, "must use https", "http://insecure.example")
	code, _, _ = post(t, w.p, c, base+"/settings", "name", "Noodle Bar", "short_name", "Noodles", "description", "Hand-pulled noodles.",
		"category", "food", "keywords", "noodles, 面, lunch", "allowed_domains", "api.noodles.example\n\nhttps://pay.noodles.example:8443",
		"webhook_url", "https://hooks.noodles.example/openmini")
	if code != 303 {
		t.Fatalf("save settings: %d", code)
	}
	var a app.App
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+w.appID, nil, &a)
	if a.ShortName != "Noodles" || strings.Join(a.Keywords, "|") != "noodles|面|lunch" || strings.Join(a.AllowedDomains, " ") != "https://api.noodles.example https://pay.noodles.example:8443" || a.WebhookURL != "https://hooks.noodles.example/openmini" {
		t.Fatalf("saved settings: %+v", a)
	}

	// A rotated secret is shown once; the old one keeps working meanwhile.
	code, _, body = post(t, w.p, c, base+"/secret")
	if code != 200 {
		t.Fatalf("rotate: %d", code)
	}
	secret := shownOnce(t, body, "new-secret")
	for _, s := range []string{secret, w.secret} {
		if _, err := w.p.Apps.AuthenticateClient(context.Background(), w.appID, s); err != nil {
			t.Fatalf("secret %q after rotation: %v", s[:8], err)
		}
	}
	_, body = page(t, w.p, c, base+"/settings")
	mustNotContain(t, "settings after rotation", body, secret)

	// The trial version's link.
	w.upload(t, w.dev, "1.0.0")
	if code, _, _ := post(t, w.p, c, base+"/trial", "version", "1.0.0"); code != 303 {
		t.Fatalf("set trial: %d", code)
	}
	_, body = page(t, w.p, c, base+"/testers")
	mustContain(t, "testers page", body, w.p.URL+"/app/"+w.appID+"/?trial=1")

	code, _, body = post(t, w.p, c, base+"/testers", "email", "stranger@example.com")
	if code != 404 {
		t.Fatalf("unknown tester: %d", code)
	}
	mustContain(t, "unknown tester", body, "nobody has signed up with stranger@example.com", `value="stranger@example.com"`)
	if code, _, _ := post(t, w.p, c, base+"/testers", "email", "op@example.com"); code != 303 {
		t.Fatalf("add tester: %d", code)
	}
	var ts struct{ Testers []app.Tester }
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+w.appID+"/testers", nil, &ts)
	if len(ts.Testers) != 1 {
		t.Fatalf("testers: %+v", ts)
	}
	if code, _, _ := post(t, w.p, c, fmt.Sprintf("%s/testers/%d/remove", base, ts.Testers[0].AccountID)); code != 303 {
		t.Fatalf("remove tester: %d", code)
	}
	_, body = page(t, w.p, c, base+"/testers")
	mustContain(t, "testers after removal", body, "No testers yet.", "Tester removed.")
	_, body = page(t, w.p, c, base+"/audit")
	mustContain(t, "app audit log", body, "tester.remove", "tester.add", "version.trial", "app.secret.rotate", "app.update")
}

func TestConsoleOrganisationPage(t *testing.T) {
	w := newDevWorld(t)
	c, orgPage := w.dev.C, fmt.Sprintf("/console/orgs/%d", w.orgID)

	// An API key is shown once, works, shows its last use, and is revoked.
	code, _, body := post(t, w.p, c, orgPage+"/keys", "name", "CI deploy", "app_id", w.appID)
	if code != 201 {
		t.Fatalf("create key: %d\n%s", code, body)
	}
	token := shownOnce(t, body, "new-key")
	var me web.Me
	w.p.KeyAPI(token).Must(t, 200, "GET", "/api/v1/me", nil, &me)
	_, body = page(t, w.p, c, orgPage)
	mustContain(t, "keys", body, "CI deploy", "Only "+w.appID, "last used")
	mustNotContain(t, "keys", body, token)
	var keys struct{ Keys []struct{ ID int64 } }
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), nil, &keys)
	if code, _, _ := post(t, w.p, c, fmt.Sprintf("%s/keys/%d/revoke", orgPage, keys.Keys[0].ID)); code != 303 {
		t.Fatalf("revoke key: %d", code)
	}
	if code := w.p.KeyAPI(token).Do(t, "GET", "/api/v1/me", nil, nil); code != 401 {
		t.Fatalf("revoked key: %d", code)
	}

	// A member invitation: shown once, opened by a newcomer, who signs up
	// into the organisation as a viewer.
	code, _, body = post(t, w.p, c, orgPage+"/invitations", "role", "viewer", "max_uses", "1", "expires_days", "3")
	if code != 201 {
		t.Fatalf("create invitation: %d\n%s", code, body)
	}
	link := shownOnce(t, body, "invitation-link")
	joinPath := strings.TrimPrefix(link, w.p.URL)
	viewer := w.p.Client()
	_, body = page(t, w.p, viewer, joinPath)
	mustContain(t, "join page", body, "You are invited to join Noodle Bar Ltd as Viewer.", "Create the account")
	code, loc, body := post(t, w.p, viewer, "/signup", "code", strings.TrimPrefix(joinPath, "/join?code="), "name", "Vic Viewer",
		"email", "vic@noodles.example", "password", "viewer-password-1")
	if code != 303 || loc != orgPage {
		t.Fatalf("sign up with a member invitation: %d to %q\n%s", code, loc, body)
	}
	_, body = page(t, w.p, viewer, orgPage)
	mustContain(t, "the viewer's organisation page", body, "You joined the organisation.", "Your role: Viewer", "Dana Dev")
	mustNotContain(t, "the viewer's organisation page", body, "Create an invitation link", "Create an API key")
	_, body = page(t, w.p, viewer, "/console/apps/"+w.appID+"/versions")
	mustNotContain(t, "the viewer's versions page", body, `id="upload"`)
	_, body = page(t, w.p, viewer, joinPath)
	mustContain(t, "used invitation", body, "This invitation can no longer be used.")

	// The owner makes the viewer a developer.
	var members struct {
		Members []struct {
			AccountID int64  `json:"account_id"`
			Email     string `json:"email"`
		}
	}
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/orgs/%d/members", w.orgID), nil, &members)
	vic := members.Members[len(members.Members)-1]
	if code, _, _ := post(t, w.p, c, fmt.Sprintf("%s/members/%d/role", orgPage, vic.AccountID), "role", "developer"); code != 303 {
		t.Fatalf("change role: %d", code)
	}
	_, body = page(t, w.p, viewer, "/console/apps/"+w.appID+"/versions")
	mustContain(t, "the new developer's versions page", body, `id="upload"`)
	// The last owner cannot leave.
	code, _, body = post(t, w.p, c, fmt.Sprintf("%s/members/%d/remove", orgPage, w.ownerID(t)))
	if code != 409 {
		t.Fatalf("last owner leaving: %d", code)
	}
	mustContain(t, "last owner leaving", body, "an organisation needs an owner")

	// Someone signed in elsewhere accepts an invitation on the join page.
	_, _, body = post(t, w.p, c, orgPage+"/invitations", "role", "developer")
	joinPath = strings.TrimPrefix(shownOnce(t, body, "invitation-link"), w.p.URL)
	other := w.p.API(w.p.Client())
	other.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "olga@dumplings.example", Name: "Olga", Password: "olga-password-12", OrgName: "Dumplings"}, nil)
	_, body = page(t, w.p, other.C, joinPath)
	mustContain(t, "join page, signed in", body, "Signed in as olga@dumplings.example", "Accept the invitation")
	if code, loc, _ := post(t, w.p, other.C, "/join", "code", strings.TrimPrefix(joinPath, "/join?code=")); code != 303 || loc != orgPage {
		t.Fatalf("accept invitation: %d to %q", code, loc)
	}
	_, body = page(t, w.p, other.C, "/console")
	mustContain(t, "olga's console", body, "Noodle Bar Ltd", "Dumplings", "Noodle Bar")
}

// ownerID is the developer's account ID.
func (w *devWorld) ownerID(t *testing.T) int64 {
	var me web.Me
	w.dev.Must(t, 200, "GET", "/api/v1/me", nil, &me)
	return me.AccountID
}

func TestSignupLinksAndAdmission(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	op := p.CreateOperator(t, "op@example.com", "operator-password-1")
	_, body := page(t, p, p.Client(), "/signin")
	mustContain(t, "sign-in page", body, `href="/signup"`)

	// Open sign-up: no code asked, the account and organisation are made.
	c := p.Client()
	_, body = page(t, p, c, "/signup")
	mustNotContain(t, "open sign-up", body, `name="code"`)
	code, loc, _ := post(t, p, c, "/signup", "name", "Ann", "email", "ann@tea.example", "password", "ann-password-12", "org_name", "Tea House")
	if code != 303 || !strings.HasPrefix(loc, "/console/orgs/") {
		t.Fatalf("open sign-up: %d to %q", code, loc)
	}
	code, body = page(t, p, c, loc)
	mustContain(t, "after sign-up", body, "Welcome!", "Tea House", "Your role: Owner")
	code, _, body = post(t, p, p.Client(), "/signup", "name", "Ann", "email", "ann@tea.example", "password", "ann-password-12", "org_name", "Tea 2")
	if code != 409 {
		t.Fatalf("second sign-up with the same e-mail: %d", code)
	}
	mustContain(t, "second sign-up", body, "already has an account; sign in instead", `value="ann@tea.example"`)

	// Invitation only, set in the operator console.
	code, _, body = post(t, p, op, "/admin/policy", "mode", "invite", "max_package_mb", "2", "max_uncompressed_mb", "10",
		"max_files", "500", "max_pages", "50", "games_enabled", "1")
	if code != 303 {
		t.Fatalf("save policy: %d\n%s", code, body)
	}
	_, body = page(t, p, p.Client(), "/signup")
	mustContain(t, "invite-only sign-up", body, `name="code"`, "admits new organisations by invitation")
	code, _, body = post(t, p, p.Client(), "/signup", "name", "Bob", "email", "bob@bakery.example", "password", "bob-password-123", "org_name", "Bakery")
	if code != 403 {
		t.Fatalf("sign-up without an invitation: %d", code)
	}
	mustContain(t, "sign-up without an invitation", body, "sign-up is by invitation only")

	code, _, body = post(t, p, op, "/admin/invitations", "max_uses", "1", "expires_days", "2", "note", "bakery")
	if code != 201 {
		t.Fatalf("admission invitation: %d\n%s", code, body)
	}
	invCode := strings.TrimPrefix(shownOnce(t, body, "invitation-link"), p.URL+"/join?code=")
	_, body = page(t, p, op, "/admin/invitations")
	mustContain(t, "admission invitations", body, "bakery", "Used 0 of 1 times")
	code, loc, _ = post(t, p, p.Client(), "/signup", "code", invCode, "name", "Bob", "email", "bob@bakery.example", "password", "bob-password-123", "org_name", "Bakery")
	if code != 303 {
		t.Fatalf("sign-up with the invitation: %d", code)
	}
	code, _, body = post(t, p, p.Client(), "/signup", "code", invCode, "name", "Eve", "email", "eve@bakery.example", "password", "eve-password-123", "org_name", "Bakery 2")
	if code != 400 {
		t.Fatalf("second use of a single-use invitation: %d", code)
	}
	mustContain(t, "second use", body, "this code has been used up")
}
