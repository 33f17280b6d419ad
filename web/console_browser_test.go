package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/platform"
)

// walker drives one phone-sized browser through the consoles. Every page
// it lands on is checked: no sideways scrolling at 390px, and no broken
// format verbs (a translation whose arguments do not fit shows "%!").
type walker struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string // who is browsing, for messages
}

func (w *walker) run(actions ...chromedp.Action) {
	w.t.Helper()
	if err := chromedp.Run(w.ctx, actions...); err != nil {
		var loc string
		chromedp.Run(w.ctx, chromedp.Location(&loc))
		w.t.Fatalf("%s at %s: %v", w.name, loc, err)
	}
}

// check fails the test when the page scrolls sideways or shows "%!".
func (w *walker) check() {
	w.t.Helper()
	var res struct {
		Overflow bool
		Width    int
		Inner    int
		BadVerb  bool
		URL      string
	}
	w.run(chromedp.Evaluate(`({
		Overflow: document.documentElement.scrollWidth > window.innerWidth,
		Width: document.documentElement.scrollWidth, Inner: window.innerWidth,
		BadVerb: document.body.innerText.includes("%!"), URL: location.href})`, &res))
	if res.Overflow {
		w.t.Errorf("%s: %s scrolls sideways on a 390px screen (%dpx wide, viewport %dpx)", w.name, res.URL, res.Width, res.Inner)
	}
	if res.BadVerb {
		w.t.Errorf("%s: %s shows a broken format verb (%%!)", w.name, res.URL)
	}
}

// open loads a path of the platform and checks the page.
func (w *walker) open(path string) {
	w.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = w.base + path
	}
	w.run(chromedp.Navigate(u), chromedp.WaitReady(`body`, chromedp.ByQuery))
	w.check()
}

// submit clicks a submit button and waits for the next page to load.
func (w *walker) submit(sel string) {
	w.t.Helper()
	w.run(
		chromedp.Evaluate(`document.body.dataset.stale = "1"`, nil),
		chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.WaitReady(`body:not([data-stale])`, chromedp.ByQuery),
	)
	w.check()
}

// fill sets form fields, given as selector, value pairs.
func (w *walker) fill(kv ...string) {
	w.t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		w.run(chromedp.SetValue(kv[i], kv[i+1], chromedp.ByQuery))
	}
}

func (w *walker) text(sel string) string {
	w.t.Helper()
	var s string
	w.run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// contains fails unless the element's text holds each of want.
func (w *walker) contains(sel string, want ...string) {
	w.t.Helper()
	got := w.text(sel)
	for _, s := range want {
		if !strings.Contains(got, s) {
			w.t.Fatalf("%s: %s says %q, want it to contain %q", w.name, sel, got, s)
		}
	}
}

func (w *walker) flash(want string) {
	w.t.Helper()
	w.contains(`.flash`, want)
}

func (w *walker) signIn(email, pw string) {
	w.t.Helper()
	w.open("/signin")
	w.fill(`input[name=email]`, email, `input[name=password]`, pw)
	w.submit(`main form button[type=submit]`)
}

func (w *walker) signOut() {
	w.t.Helper()
	w.submit(`.topbar form button`)
}

// inChinese visits each path in Simplified Chinese and checks that the page
// speaks it and fits the screen; it switches back to English afterwards.
func (w *walker) inChinese(paths ...string) {
	w.t.Helper()
	for _, p := range paths {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		w.open(p + sep + "lang=zh-Hans")
		var lang string
		var han bool
		w.run(chromedp.Evaluate(`document.documentElement.lang`, &lang),
			chromedp.Evaluate(`/\p{Script=Han}/u.test(document.querySelector("main").innerText)`, &han))
		if lang != "zh-Hans" || !han {
			w.t.Errorf("%s: %s in Chinese: lang=%q, Chinese text: %v", w.name, p, lang, han)
		}
	}
	w.open("/signin?lang=en")
}

func createReviewer(t *testing.T, p *platformtest.Running, email, pw string) {
	t.Helper()
	_, err := p.Accounts.Create(context.Background(), p.DB, account.NewAccount{Email: email, Name: "Rita Reviewer", Password: pw, StaffRole: account.RoleReviewer})
	if err != nil {
		t.Fatal(err)
	}
}

func writePackage(t *testing.T, version string, edit func(dir string)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "noodle-bar-"+version+".ma")
	if err := os.WriteFile(path, platformtest.Package(t, "shop", "Noodle Bar", version, edit), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConsolesInBrowser is the walk through the consoles: the
// operator closes admission and invites a developer; the developer signs up
// from the link, registers a mini program, uploads a package from the
// browser and submits it; a reviewer, in another browser, reads the review
// page (manifest, sizes, diff, preview link) and approves; the developer
// releases. The next version is rejected with a reason the developer reads,
// then approved and released to 20%, then 100%. Finally every page is
// visited in Simplified Chinese.
func TestConsolesInBrowser(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	p.CreateOperator(t, "op@example.com", "operator-password-1")
	createReviewer(t, p, "rita@example.com", "reviewer-password-1")
	dev := &walker{t: t, ctx: testenv.Browser(t), base: p.URL, name: "developer's browser"}

	// The operator makes sign-up invitation-only and invites a developer.
	dev.signIn("op@example.com", "operator-password-1")
	dev.open("/admin/policy")
	dev.run(chromedp.Click(`input[name=mode][value=invite]`, chromedp.ByQuery))
	dev.submit(`#policy button[type=submit]`)
	dev.flash("Policy saved.")
	dev.open("/admin/invitations")
	dev.fill(`#invite input[name=note]`, "Noodle Bar pilot")
	dev.submit(`#invite button[type=submit]`)
	link := dev.text(`#invitation-link`)
	if !strings.HasPrefix(link, p.URL+"/join?code=inv_") {
		t.Fatalf("invitation link %q", link)
	}
	dev.signOut()

	// Without the invitation, sign-up is refused.
	dev.open("/signup")
	dev.fill(`input[name=name]`, "Mallory", `input[name=email]`, "m@example.com", `input[name=password]`, "mallory-password-1",
		`input[name=org_name]`, "Mallory Inc", `input[name=code]`, "inv_wrong")
	dev.submit(`#signup button`)
	dev.contains(`.error`, "this code is not valid")

	// The developer opens the link and signs up with it.
	dev.inChinese(strings.TrimPrefix(link, p.URL))
	dev.open(link)
	dev.contains(`#invitation`, "invites you to publish mini programs")
	dev.fill(`#signup input[name=name]`, "Dana Dev", `#signup input[name=email]`, "dana@noodles.example",
		`#signup input[name=password]`, "developer-password-1", `#signup input[name=org_name]`, "Noodle Bar Ltd")
	dev.submit(`#signup button`)
	dev.flash("Welcome!")
	dev.contains(`h1`, "Noodle Bar Ltd")

	// Registering a mini program shows its app secret once.
	dev.open("/console")
	dev.fill(`#register-app input[name=name]`, "Noodle Bar")
	dev.run(chromedp.SetValue(`#register-app select[name=category]`, "food", chromedp.ByQuery))
	dev.submit(`#register-app button`)
	if s := dev.text(`#new-secret`); !strings.HasPrefix(s, "oms_") {
		t.Fatalf("new app secret %q", s)
	}
	appID := dev.text(`.sub code`)
	appPage := "/console/apps/" + appID
	var orgPage string
	dev.run(chromedp.Evaluate(`document.querySelector(".sub a").getAttribute("href")`, &orgPage))

	// Upload from the browser, then submit for review.
	dev.open(appPage + "/versions")
	dev.run(chromedp.SetUploadFiles(`#upload input[name=package]`, []string{writePackage(t, "1.0.0", nil)}, chromedp.ByQuery))
	dev.fill(`#upload input[name=note]`, "First menu")
	dev.submit(`#upload button[type=submit]`)
	dev.flash("Version uploaded.")
	dev.contains(`[id="version-1.0.0"]`, "In development", "First menu", "dana@noodles.example")
	dev.submit(`[id="version-1.0.0"] button.submit`)
	dev.flash("Submitted for review.")
	dev.contains(`[id="version-1.0.0"]`, "Waiting for review")

	// The reviewer, in another browser, reviews and approves.
	rev := &walker{t: t, ctx: testenv.Browser(t), base: p.URL, name: "reviewer's browser"}
	rev.signIn("rita@example.com", "reviewer-password-1")
	rev.contains(`h1`, "Review queue")
	rev.contains(`a.review-item`, "Noodle Bar 1.0.0", "Noodle Bar Ltd")
	rev.submit(`a.review-item`)
	rev.contains(`#review-summary`, "Noodle Bar Ltd", appID, "dana@noodles.example")
	rev.contains(`#manifest`, "Noodle Bar", "1.0.0", "pages/index", "pages/cart", "userInfo", "To show your name on the order.")
	rev.contains(`#sizes`, "compressed", "unpacked", "files")
	rev.contains(`#changes`, "every file is new")
	reviewPage := rev.currentPath()
	var href string
	var added int
	rev.run(chromedp.Evaluate(`document.querySelector("#preview").href`, &href),
		chromedp.Evaluate(`document.querySelectorAll("pre.diff span.add").length`, &added))
	if href != p.URL+"/app/"+appID+"/?preview="+strings.TrimPrefix(reviewPage, "/admin/reviews/") || added == 0 {
		t.Fatalf("review page: preview link %q, %d added lines", href, added)
	}
	rev.submit(`#approve`)
	rev.flash("Version approved.")
	rev.contains(`main`, "Nothing is waiting for review.")

	// The first release goes to everyone.
	dev.open(appPage)
	dev.contains(`#release-state`, "Not released yet")
	dev.submit(`#release-form button[value="100"]`)
	dev.flash("Release updated.")
	dev.contains(`#release-state`, "Version 1.0.0 is released to everyone.")

	// Version 1.1.0 is rejected with a reason the developer reads.
	dev.open(appPage + "/versions")
	dev.run(chromedp.SetUploadFiles(`#upload input[name=package]`, []string{writePackage(t, "1.1.0", nil)}, chromedp.ByQuery))
	dev.submit(`#upload button[type=submit]`)
	dev.submit(`[id="version-1.1.0"] button.submit`)
	rev.open("/admin/reviews")
	rev.submit(`a.review-item`)
	rev.contains(`#changes`, "Changes against the released version 1.0.0")
	var removed int
	rev.run(chromedp.Evaluate(`document.querySelectorAll("pre.diff span.del").length`, &removed))
	if removed == 0 {
		t.Fatal("the diff of 1.1.0 against 1.0.0 shows no removed line (the manifest's version changed)")
	}
	reason := "The cart page has no way back to the menu."
	rev.fill(`#reject-form textarea[name=reason]`, reason)
	rev.submit(`#reject`)
	rev.flash("Version rejected.")
	dev.open(appPage + "/versions")
	dev.contains(`[id="version-1.1.0"]`, "Rejected", "Rejected by rita@example.com")
	if got := dev.text(`[id="version-1.1.0"] .reason`); got != reason {
		t.Fatalf("the developer reads the reason %q, want %q", got, reason)
	}

	// Resubmitted and approved, it goes out to 20%, then to everyone.
	dev.submit(`[id="version-1.1.0"] button.submit`)
	rev.open("/admin/reviews")
	rev.submit(`a.review-item`)
	rev.submit(`#approve`)
	dev.open(appPage)
	if v := dev.value(`#release-form select[name=version]`); v != "1.1.0" {
		t.Fatalf("the release form starts on %q, want the approved 1.1.0", v)
	}
	dev.submit(`#release-form button[value="20"]`)
	dev.contains(`#release-state`, "Version 1.1.0 is rolling out to 20% of users; everyone else gets 1.0.0.")
	dev.submit(`#release-form button[value="100"]`)
	dev.contains(`#release-state`, "Version 1.1.0 is released to everyone.")

	// Every page, in Simplified Chinese, fits the screen.
	dev.inChinese("/console", appPage, appPage+"/versions", appPage+"/settings", appPage+"/testers", appPage+"/audit",
		orgPage, orgPage+"/audit")
	rev.inChinese("/admin/reviews")
	rev.signOut()
	rev.inChinese("/signin", "/signup")
	rev.signIn("op@example.com", "operator-password-1")
	rev.inChinese("/admin", reviewPage, "/admin/orgs", "/admin/invitations", "/admin/policy", "/admin/categories", "/admin/audit")
}

func (w *walker) currentPath() string {
	w.t.Helper()
	var p string
	w.run(chromedp.Evaluate(`location.pathname`, &p))
	return p
}

func (w *walker) value(sel string) string {
	w.t.Helper()
	var v string
	w.run(chromedp.Value(sel, &v, chromedp.ByQuery))
	return v
}
