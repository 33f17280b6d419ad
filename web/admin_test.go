package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestOperatorConsoleAccess(t *testing.T) {
	w := newDevWorld(t)
	createReviewer(t, w.p, "rita@example.com", "reviewer-password-1")
	rev := w.p.Client()
	if code, loc, _ := post(t, w.p, rev, "/signin", "email", "rita@example.com", "password", "reviewer-password-1"); code != 303 || loc != "/admin" {
		t.Fatalf("reviewer sign-in: %d to %q", code, loc)
	}
	code, _ := w.p.Get(t, rev, "/admin")
	if code != 303 {
		t.Fatalf("reviewer on /admin: %d, want a redirect to the review queue", code)
	}
	code, body := page(t, w.p, rev, "/admin/reviews")
	if code != 200 {
		t.Fatalf("reviewer on the queue: %d", code)
	}
	mustNotContain(t, "the reviewer's tabs", body, `href="/admin/policy"`, `href="/admin/orgs"`)
	for _, path := range []string{"/admin/policy", "/admin/orgs", "/admin/invitations", "/admin/categories", "/admin/audit"} {
		if code, _ := w.p.Get(t, rev, path); code != http.StatusForbidden {
			t.Errorf("reviewer on %s: %d, want 403", path, code)
		}
	}
	if code, _, _ := post(t, w.p, rev, "/admin/policy", "mode", "open"); code != http.StatusForbidden {
		t.Errorf("reviewer saving the policy: %d, want 403", code)
	}
	// Developers are not staff; strangers are sent to sign in.
	if code, _ := w.p.Get(t, w.dev.C, "/admin/reviews"); code != http.StatusForbidden {
		t.Errorf("developer on the review queue: %d, want 403", code)
	}
	if code, _ := w.p.Get(t, w.p.Client(), "/console"); code != http.StatusSeeOther {
		t.Errorf("anonymous on /console: %d, want a redirect to sign in", code)
	}
	if code, _, _ := post(t, w.p, w.p.Client(), fmt.Sprintf("/console/orgs/%d/keys", w.orgID), "name", "x"); code != http.StatusUnauthorized {
		t.Errorf("anonymous form post: %d, want 401", code)
	}
	// Someone else's app is not found, not forbidden.
	stranger := w.p.API(w.p.Client())
	stranger.Must(t, 201, "POST", "/api/v1/signup", map[string]string{"email": "s@else.example", "name": "S", "password": "stranger-password-1", "org_name": "Else"}, nil)
	if code, _ := w.p.Get(t, stranger.C, "/console/apps/"+w.appID); code != http.StatusNotFound {
		t.Errorf("stranger on the app page: %d, want 404", code)
	}
}

func TestReviewInOperatorConsole(t *testing.T) {
	w := newDevWorld(t)
	op := w.operator.C
	v := w.upload(t, w.dev, "1.0.0")
	_, body := page(t, w.p, op, "/admin")
	mustContain(t, "overview", body, `<strong>0</strong> <span>waiting for review`)
	w.dev.Must(t, 200, "POST", "/api/v1/apps/"+w.appID+"/versions/1.0.0/submit", nil, nil)
	_, body = page(t, w.p, op, "/admin")
	mustContain(t, "overview", body, `<strong>1</strong> <span>waiting for review`)

	review := fmt.Sprintf("/admin/reviews/%d", v.ID)
	code, _, body := post(t, w.p, op, review+"/reject", "reason", "   ")
	if code != 400 {
		t.Fatalf("reject without a reason: %d", code)
	}
	mustContain(t, "reject without a reason", body, "tell the developer why", "Noodle Bar 1.0.0")
	if code, loc, _ := post(t, w.p, op, review+"/reject", "reason", "Prices need a currency."); code != 303 || loc != "/admin/reviews" {
		t.Fatalf("reject: %d to %q", code, loc)
	}
	_, body = page(t, w.p, op, review)
	mustContain(t, "decided review", body, "Rejected by op@example.com", "Prices need a currency.")
	mustNotContain(t, "decided review", body, `id="approve"`)
	code, _, body = post(t, w.p, op, review+"/approve")
	if code != 409 {
		t.Fatalf("approving a rejected version: %d", code)
	}
	_, body = page(t, w.p, w.dev.C, "/console/apps/"+w.appID+"/versions")
	mustContain(t, "developer's versions", body, "Rejected by op@example.com", "Prices need a currency.")
}

func TestOperatorConsoleForms(t *testing.T) {
	w := newDevWorld(t)
	op := w.operator.C

	// The policy form names the bad field and keeps what was typed.
	code, _, body := post(t, w.p, op, "/admin/policy", "mode", "open", "max_package_mb", "2", "max_uncompressed_mb", "10",
		"max_files", "1", "max_pages", "50", "allow_domains", "noodles.example")
	if code != 400 {
		t.Fatalf("bad policy: %d", code)
	}
	mustContain(t, "bad policy", body, "limits.max_files", `value="1"`, "noodles.example")
	code, _, body = post(t, w.p, op, "/admin/policy", "mode", "open", "max_package_mb", "two", "max_uncompressed_mb", "10", "max_files", "500", "max_pages", "50")
	if code != 400 {
		t.Fatalf("policy with words for a size: %d", code)
	}
	mustContain(t, "policy with words for a size", body, `"two" is not a size in MB`)
	if code, _, _ := post(t, w.p, op, "/admin/policy", "mode", "open", "max_package_mb", "1.5", "max_uncompressed_mb", "10",
		"max_files", "500", "max_pages", "50", "deny_domains", "spam.example"); code != 303 {
		t.Fatalf("save policy: %d", code)
	}
	var pol struct {
		Admission struct {
			DenyDomains []string `json:"deny_domains"`
		}
		Limits struct {
			MaxPackageBytes int64 `json:"max_package_bytes"`
		}
		GamesEnabled bool `json:"games_enabled"`
	}
	w.operator.Must(t, 200, "GET", "/api/v1/admin/policy", nil, &pol)
	if pol.Limits.MaxPackageBytes != 1572864 || pol.GamesEnabled || strings.Join(pol.Admission.DenyDomains, ",") != "spam.example" {
		t.Fatalf("saved policy: %+v", pol)
	}
	// With games off, developers are not offered the games category.
	_, body = page(t, w.p, w.dev.C, "/console")
	mustNotContain(t, "register form with games off", body, `value="games"`)
	mustContain(t, "register form", body, `value="food"`)

	// Categories: add, rename, refuse to delete one in use, delete.
	if code, _, _ := post(t, w.p, op, "/admin/categories", "slug", "pets", "name_en", "Pets", "name_zh", "宠物", "position", "9"); code != 303 {
		t.Fatalf("add category: %d", code)
	}
	code, _, body = post(t, w.p, op, "/admin/categories", "slug", "Bad Slug", "name_en", "Bad")
	if code != 400 {
		t.Fatalf("bad slug: %d", code)
	}
	mustContain(t, "bad slug", body, "must be lower-case letters", `value="Bad Slug"`)
	if code, _, _ := post(t, w.p, op, "/admin/categories", "slug", "pets", "name_en", "Pets & animals", "name_zh", "宠物", "position", "9"); code != 303 {
		t.Fatalf("rename category: %d", code)
	}
	_, body = page(t, w.p, w.dev.C, "/console?lang=zh-Hans")
	mustContain(t, "register form in Chinese", body, `<option value="pets">宠物</option>`)
	_, body = page(t, w.p, w.dev.C, "/console?lang=en")
	mustContain(t, "register form in English", body, `<option value="pets">Pets & animals</option>`)
	code, _, body = post(t, w.p, op, "/admin/categories/food/delete")
	if code != 409 {
		t.Fatalf("delete a category in use: %d", code)
	}
	mustContain(t, "delete a category in use", body, "used by 1 apps")
	if code, _, _ := post(t, w.p, op, "/admin/categories/pets/delete"); code != 303 {
		t.Fatalf("delete category: %d", code)
	}

	// Suspending an organisation makes it read-only for its members.
	if code, _, _ := post(t, w.p, op, fmt.Sprintf("/admin/orgs/%d/status", w.orgID), "status", "suspended"); code != 303 {
		t.Fatalf("suspend: %d", code)
	}
	_, body = page(t, w.p, w.dev.C, "/console")
	mustContain(t, "suspended organisation", body, "Suspended by the operator")
	mustNotContain(t, "suspended organisation", body, `id="register-app"`)
	code, _, body = post(t, w.p, w.dev.C, "/console/apps", "org_id", fmt.Sprint(w.orgID), "name", "Another", "category", "food")
	if code != 403 {
		t.Fatalf("registering in a suspended organisation: %d", code)
	}
	mustContain(t, "registering in a suspended organisation", body, "suspended by the operator")
	if code, _, _ := post(t, w.p, op, fmt.Sprintf("/admin/orgs/%d/status", w.orgID), "status", "active"); code != 303 {
		t.Fatalf("activate: %d", code)
	}
	code, _, body = post(t, w.p, w.dev.C, "/console/apps", "org_id", fmt.Sprint(w.orgID), "name", "Another", "category", "food")
	if code != 201 {
		t.Fatalf("registering again: %d\n%s", code, body)
	}
	mustContain(t, "registered", body, "Mini program registered", "oms_")

	_, body = page(t, w.p, op, "/admin/audit")
	mustContain(t, "operator audit log", body, "org.suspended", "org.active", "category.delete", "policy.update", "app.create")
}
