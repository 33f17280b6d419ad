package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// devWorld is a platform with an operator, a developer organisation and
// one registered app.
type devWorld struct {
	p        *platformtest.Running
	operator *platformtest.API
	dev      *platformtest.API
	orgID    int64
	appID    string
	secret   string
}

func newDevWorld(t *testing.T) *devWorld {
	t.Helper()
	p := platformtest.Start(t, platform.Config{})
	w := &devWorld{p: p}
	w.operator = p.API(p.CreateOperator(t, "op@example.com", "operator-password-1"))
	w.dev = p.API(p.Client())
	var su web.SignupResponse
	w.dev.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "dev@noodles.example", Name: "Dana Dev", Password: "developer-password-1", OrgName: "Noodle Bar Ltd"}, &su)
	w.orgID = su.Org.ID
	var created web.AppCreated
	w.dev.Must(t, 201, "POST", "/api/v1/apps", map[string]any{"org_id": w.orgID, "name": "Noodle Bar", "category": "food", "keywords": []string{"noodles", "面"}}, &created)
	w.appID, w.secret = created.App.ID, created.Secret
	if !app.ValidID(w.appID) || !strings.HasPrefix(w.secret, app.SecretPrefix) {
		t.Fatalf("app ID %q / secret %q", w.appID, w.secret)
	}
	return w
}

func (w *devWorld) upload(t *testing.T, api *platformtest.API, version string) app.Version {
	t.Helper()
	var v app.Version
	api.Must(t, 201, "POST", "/api/v1/apps/"+w.appID+"/versions?note=notes+for+"+version, platformtest.Package(t, "shop", "Noodle Bar", version, nil), &v)
	return v
}

func (w *devWorld) approve(t *testing.T, version string) {
	t.Helper()
	var v app.Version
	w.dev.Must(t, 200, "POST", "/api/v1/apps/"+w.appID+"/versions/"+version+"/submit", nil, &v)
	w.operator.Must(t, 200, "POST", fmt.Sprintf("/api/v1/admin/reviews/%d/approve", v.ID), nil, nil)
}

func TestVersionLifecycleThroughTheAPI(t *testing.T) {
	w := newDevWorld(t)
	base := "/api/v1/apps/" + w.appID

	v1 := w.upload(t, w.dev, "1.0.0")
	if v1.State != app.StateDevelopment || v1.Size == 0 || v1.Manifest.Name != "Noodle Bar" || len(v1.Signature) == 0 {
		t.Fatalf("uploaded version: %+v", v1)
	}
	// The same version name twice is refused.
	var eb platformtest.ErrorBody
	if code := w.dev.Do(t, "POST", base+"/versions", platformtest.Package(t, "shop", "Noodle Bar", "1.0.0", nil), &eb); code != 409 || !strings.Contains(eb.Error.Message, "1.0.0") {
		t.Fatalf("duplicate version: %d %+v", code, eb)
	}
	// A first release needs review.
	if code := w.dev.Do(t, "POST", base+"/release", web.ReleaseRequest{Version: "1.0.0", Percent: 100}, &eb); code != 409 || eb.Error.Code != "conflict" {
		t.Fatalf("release before review: %d %+v", code, eb)
	}

	// Review: submit, the reviewer sees it with its changes, rejects with a
	// reason the developer sees, the developer resubmits, it is approved.
	w.dev.Must(t, 200, "POST", base+"/versions/1.0.0/submit", nil, nil)
	var queue struct{ Reviews []app.ReviewItem }
	w.operator.Must(t, 200, "GET", "/api/v1/admin/reviews", nil, &queue)
	if len(queue.Reviews) != 1 || queue.Reviews[0].AppName != "Noodle Bar" || queue.Reviews[0].OrgName != "Noodle Bar Ltd" {
		t.Fatalf("review queue: %+v", queue.Reviews)
	}
	var detail web.ReviewDetail
	w.operator.Must(t, 200, "GET", fmt.Sprintf("/api/v1/admin/reviews/%d", v1.ID), nil, &detail)
	if len(detail.Changes) == 0 || detail.Changes[0].Change != "added" || !strings.Contains(detail.PreviewURL, "/app/"+w.appID) {
		t.Fatalf("review detail: %+v", detail)
	}
	if code := w.dev.Do(t, "POST", fmt.Sprintf("/api/v1/admin/reviews/%d/approve", v1.ID), nil, &eb); code != 403 {
		t.Fatalf("developer approving own version: %d", code)
	}
	if code := w.operator.Do(t, "POST", fmt.Sprintf("/api/v1/admin/reviews/%d/reject", v1.ID), web.RejectRequest{}, &eb); code != 400 || !strings.Contains(eb.Error.Message, "reason") {
		t.Fatalf("reject without reason: %d %+v", code, eb)
	}
	w.operator.Must(t, 200, "POST", fmt.Sprintf("/api/v1/admin/reviews/%d/reject", v1.ID), web.RejectRequest{Reason: "The cart page has no way back."}, nil)
	var got app.Version
	w.dev.Must(t, 200, "GET", base+"/versions/1.0.0", nil, &got)
	if got.State != app.StateRejected || got.ReviewReason != "The cart page has no way back." || got.ReviewedBy != "op@example.com" {
		t.Fatalf("rejected version as the developer sees it: %+v", got)
	}
	w.approve(t, "1.0.0")

	var rel app.Release
	if code := w.dev.Do(t, "POST", base+"/release", web.ReleaseRequest{Version: "1.0.0", Percent: 20}, &eb); code != 409 {
		t.Fatalf("first release to 20%%: %d", code)
	}
	w.dev.Must(t, 200, "POST", base+"/release", web.ReleaseRequest{Version: "1.0.0", Percent: 100}, &rel)
	if rel.Version != "1.0.0" || rel.Percent != 100 {
		t.Fatalf("release: %+v", rel)
	}

	// Version 2 goes out to 20%, chosen by a stable hash of the user.
	w.upload(t, w.dev, "2.0.0")
	w.approve(t, "2.0.0")
	w.dev.Must(t, 200, "POST", base+"/release", web.ReleaseRequest{Version: "2.0.0", Percent: 20}, &rel)
	if rel.Version != "2.0.0" || rel.Previous != "1.0.0" || rel.Percent != 20 {
		t.Fatalf("gradual release: %+v", rel)
	}
	onV2 := map[string]bool{}
	for i := 0; i < 400; i++ {
		var uv web.UserVersion
		key := fmt.Sprintf("user-%d", i)
		w.dev.Must(t, 200, "GET", base+"/release/users/"+key, nil, &uv)
		if uv.Version == "2.0.0" {
			onV2[key] = true
		}
	}
	if n := len(onV2); n < 50 || n > 110 {
		t.Fatalf("%d of 400 users get 2.0.0 at 20%%", n)
	}
	// Pausing keeps the share; raising it waits for resume.
	w.dev.Must(t, 200, "POST", base+"/release/pause", nil, &rel)
	if code := w.dev.Do(t, "POST", base+"/release", web.ReleaseRequest{Version: "2.0.0", Percent: 50}, &eb); code != 409 || !strings.Contains(eb.Error.Message, "paused") {
		t.Fatalf("raise while paused: %d %+v", code, eb)
	}
	w.dev.Must(t, 200, "POST", base+"/release/resume", nil, nil)
	w.dev.Must(t, 200, "POST", base+"/release", web.ReleaseRequest{Version: "2.0.0", Percent: 50}, &rel)
	// Nobody who had 2.0.0 at 20% loses it at 50%.
	for key := range onV2 {
		var uv web.UserVersion
		w.dev.Must(t, 200, "GET", base+"/release/users/"+key, nil, &uv)
		if uv.Version != "2.0.0" {
			t.Fatalf("%s flipped back to %s when the rollout grew", key, uv.Version)
		}
	}
	rel = app.Release{}
	w.dev.Must(t, 200, "POST", base+"/release", web.ReleaseRequest{Version: "2.0.0", Percent: 100}, &rel)
	if rel.Percent != 100 || rel.Previous != "" {
		t.Fatalf("full release: %+v", rel)
	}
	// Instant rollback to the previous version, then forward again.
	w.dev.Must(t, 200, "POST", base+"/rollback", nil, &rel)
	if rel.Version != "1.0.0" || rel.Percent != 100 {
		t.Fatalf("rollback: %+v", rel)
	}
	w.dev.Must(t, 200, "POST", base+"/rollback", web.RollbackRequest{Version: "2.0.0"}, &rel)
	if rel.Version != "2.0.0" {
		t.Fatalf("rollback --to 2.0.0: %+v", rel)
	}
	w.upload(t, w.dev, "3.0.0")
	if code := w.dev.Do(t, "POST", base+"/rollback", web.RollbackRequest{Version: "3.0.0"}, &eb); code != 409 {
		t.Fatalf("rollback to a version never released: %d", code)
	}

	// Every step is in the audit log, which the organisation reads.
	var log struct {
		Entries []struct{ Action, Actor string }
	}
	w.dev.Must(t, 200, "GET", base+"/audit?limit=500", nil, &log)
	var actions []string
	for _, e := range log.Entries {
		actions = append(actions, e.Action)
	}
	joined := strings.Join(actions, " ")
	for _, want := range []string{"app.create", "version.upload", "version.submit", "version.reject", "version.approve", "release", "release.pause", "release.resume", "rollback"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit log lacks %s: %s", want, joined)
		}
	}
}

func TestUploadRejectsABadPackageNamingEveryProblem(t *testing.T) {
	w := newDevWorld(t)
	var eb platformtest.ErrorBody
	code := w.dev.Do(t, "POST", "/api/v1/apps/"+w.appID+"/versions", []byte("this is not a zip file"), &eb)
	if code != 400 || eb.Error.Code != "invalid" || len(eb.Error.Problems) == 0 {
		t.Fatalf("garbage upload: %d %+v", code, eb)
	}
	bad := platformtest.Package(t, "blank", "X", "1.0.0", nil)
	// Cut the package short: a damaged upload.
	code = w.dev.Do(t, "POST", "/api/v1/apps/"+w.appID+"/versions", bad[:len(bad)/2], &eb)
	if code != 400 || eb.Error.Message == "" {
		t.Fatalf("truncated upload: %d %+v", code, eb)
	}
	// Tighten the limit: the same package is now too large.
	var pol map[string]any
	w.operator.Must(t, 200, "GET", "/api/v1/admin/policy", nil, &pol)
	pol["limits"].(map[string]any)["max_package_bytes"] = 1024
	pol["limits"].(map[string]any)["max_uncompressed_bytes"] = 4096
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)
	code = w.dev.Do(t, "POST", "/api/v1/apps/"+w.appID+"/versions", platformtest.Package(t, "shop", "X", "1.0.1", nil), &eb)
	if code != 413 || eb.Error.Code != "too_large" {
		t.Fatalf("package over the operator's limit: %d %+v", code, eb)
	}
	var vs struct{ Versions []app.Version }
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+w.appID+"/versions", nil, &vs)
	if len(vs.Versions) != 0 {
		t.Fatalf("refused uploads left %d versions behind", len(vs.Versions))
	}
}

func TestAPIKeysRolesAndScopes(t *testing.T) {
	w := newDevWorld(t)
	var key web.APIKeyCreated
	w.dev.Must(t, 201, "POST", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), web.APIKeyRequest{Name: "CI deploy", AppID: w.appID}, &key)
	if !strings.HasPrefix(key.Token, org.KeyPrefix) {
		t.Fatalf("token %q", key.Token)
	}
	ci := w.p.KeyAPI(key.Token)
	w.upload(t, ci, "1.0.0")
	var me web.Me
	ci.Must(t, 200, "GET", "/api/v1/me", nil, &me)
	if me.KeyAppID != w.appID || !strings.Contains(me.Actor, "CI deploy") {
		t.Fatalf("me with a key: %+v", me)
	}
	// The key is limited to its app and cannot make keys or approve.
	var other web.AppCreated
	w.dev.Must(t, 201, "POST", "/api/v1/apps", map[string]any{"org_id": w.orgID, "name": "Second", "category": "tools"}, &other)
	var eb platformtest.ErrorBody
	if code := ci.Do(t, "POST", "/api/v1/apps/"+other.App.ID+"/versions", platformtest.Package(t, "blank", "S", "1.0.0", nil), &eb); code != 403 {
		t.Fatalf("key used on another app: %d %+v", code, eb)
	}
	if code := ci.Do(t, "POST", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), web.APIKeyRequest{Name: "x"}, &eb); code != 403 {
		t.Fatalf("key making keys: %d", code)
	}
	// Last use is shown; a revoked key stops at once.
	var keys struct{ Keys []org.APIKey }
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), nil, &keys)
	if len(keys.Keys) != 1 || keys.Keys[0].LastUsedAt.IsZero() || strings.Contains(fmt.Sprint(keys), key.Token) {
		t.Fatalf("key list: %+v", keys)
	}
	w.dev.Must(t, 200, "DELETE", fmt.Sprintf("/api/v1/orgs/%d/api-keys/%d", w.orgID, key.Key.ID), nil, nil)
	if code := ci.Do(t, "GET", "/api/v1/me", nil, &eb); code != 401 {
		t.Fatalf("revoked key: %d", code)
	}

	// A viewer reads but cannot upload; an outsider sees nothing.
	var inv web.InvitationCreated
	w.dev.Must(t, 201, "POST", fmt.Sprintf("/api/v1/orgs/%d/invitations", w.orgID), web.InvitationRequest{Role: "viewer"}, &inv)
	viewer := w.p.API(w.p.Client())
	viewer.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "vic@noodles.example", Name: "Vic", Password: "viewer-password-1", Code: inv.Code}, nil)
	viewer.Must(t, 200, "GET", "/api/v1/apps/"+w.appID+"/versions", nil, nil)
	if code := viewer.Do(t, "POST", "/api/v1/apps/"+w.appID+"/versions", platformtest.Package(t, "shop", "X", "9.0.0", nil), &eb); code != 403 || !strings.Contains(eb.Error.Message, "developer") {
		t.Fatalf("viewer upload: %d %+v", code, eb)
	}
	// The invitation was single-use.
	if code := w.p.API(w.p.Client()).Do(t, "POST", "/api/v1/signup", web.SignupRequest{Email: "eve@noodles.example", Name: "Eve", Password: "eve-password-123", Code: inv.Code}, &eb); code != 400 || !strings.Contains(eb.Error.Message, "used up") {
		t.Fatalf("second use of a single-use invitation: %d %+v", code, eb)
	}
	outsider := w.p.API(w.p.Client())
	outsider.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "olga@other.example", Name: "Olga", Password: "outsider-password", OrgName: "Other"}, nil)
	if code := outsider.Do(t, "GET", "/api/v1/apps/"+w.appID, nil, &eb); code != 404 {
		t.Fatalf("outsider reading an app: %d", code)
	}
	if code := w.p.API(w.p.Client()).Do(t, "GET", "/api/v1/apps", nil, &eb); code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", code)
	}
	// Anonymous with bad path IDs as well: one answer, the first problem.
	req, err := http.NewRequest("DELETE", w.p.URL+"/api/v1/orgs/x/members/y", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", w.p.URL)
	res, err := w.p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || bytes.Count(raw, []byte(`"error"`)) != 1 {
		t.Fatalf("anonymous with bad IDs: %d %s", res.StatusCode, raw)
	}
}

func TestAdmissionPolicy(t *testing.T) {
	w := newDevWorld(t)
	var pol map[string]any
	w.operator.Must(t, 200, "GET", "/api/v1/admin/policy", nil, &pol)
	pol["admission"] = map[string]any{"mode": "invite", "deny_domains": []string{"spam.example"}}
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)

	var eb platformtest.ErrorBody
	if code := w.p.API(w.p.Client()).Do(t, "POST", "/api/v1/signup", web.SignupRequest{Email: "a@shop.example", Name: "A", Password: "a-password-123", OrgName: "Shop"}, &eb); code != 403 || !strings.Contains(eb.Error.Message, "invitation") {
		t.Fatalf("sign-up without invitation under invite-only: %d %+v", code, eb)
	}
	var inv web.InvitationCreated
	w.operator.Must(t, 201, "POST", "/api/v1/admin/invitations", web.InvitationRequest{MaxUses: 2, ExpiresHours: 24}, &inv)
	if !strings.Contains(inv.URL, "/join?code=") {
		t.Fatalf("invitation URL %q", inv.URL)
	}
	var su web.SignupResponse
	w.p.API(w.p.Client()).Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "b@shop.example", Name: "B", Password: "b-password-123", OrgName: "Shop B", Code: inv.Code}, &su)
	if su.Org.Name != "Shop B" || su.Org.Role != "owner" {
		t.Fatalf("admitted organisation: %+v", su.Org)
	}
	// Developers cannot make admission invitations or change the policy.
	if code := w.dev.Do(t, "POST", "/api/v1/admin/invitations", web.InvitationRequest{}, &eb); code != 403 {
		t.Fatalf("developer making an admission invitation: %d", code)
	}
	if code := w.dev.Do(t, "PUT", "/api/v1/admin/policy", pol, &eb); code != 403 {
		t.Fatalf("developer changing policy: %d", code)
	}
	// Games off: the games category disappears and cannot be chosen.
	pol["games_enabled"] = false
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)
	var cats struct{ Categories []struct{ Slug string } }
	w.dev.Must(t, 200, "GET", "/api/v1/categories", nil, &cats)
	for _, c := range cats.Categories {
		if c.Slug == "games" {
			t.Fatal("games category listed while games are off")
		}
	}
	if code := w.dev.Do(t, "POST", "/api/v1/apps", map[string]any{"org_id": w.orgID, "name": "Tetra", "category": "games"}, &eb); code != 403 || !strings.Contains(eb.Error.Message, "games") {
		t.Fatalf("game app while games are off: %d %+v", code, eb)
	}
}
