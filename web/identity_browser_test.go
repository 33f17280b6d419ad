package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/testenv"
)

// idBrowser drives one phone-sized Chromium for the identity test.
type idBrowser struct {
	t   *testing.T
	ctx context.Context
}

func (b *idBrowser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		var loc, text string
		chromedp.Run(b.ctx, chromedp.Location(&loc), chromedp.Evaluate(`document.body ? document.body.innerText : ""`, &text))
		b.t.Fatalf("%s (at %s): %v\npage text:\n%s", what, loc, err, text)
	}
}

// fits fails the test when the page scrolls sideways on the phone screen.
func (b *idBrowser) fits() {
	b.t.Helper()
	var res struct {
		Overflow bool
		URL      string
	}
	b.run("measure", chromedp.Evaluate(`({Overflow: document.documentElement.scrollWidth > window.innerWidth, URL: location.href})`, &res))
	if res.Overflow {
		b.t.Errorf("%s scrolls sideways on a 390px screen", res.URL)
	}
}

// frame returns the mini program's page iframe on screen, once its
// document has loaded (before that the node's document is the frame's
// initial empty one, which the real page replaces).
func (b *idBrowser) frame() *cdp.Node {
	b.t.Helper()
	var frames []*cdp.Node
	b.run("find the mini program frame",
		chromedp.WaitVisible(`.om-app:not([hidden]) .om-pages iframe:not([hidden])`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`.om-app:not([hidden]) .om-loading:not([hidden])`, chromedp.ByQuery),
		chromedp.Nodes(`.om-app:not([hidden]) .om-pages iframe:not([hidden])`, &frames, chromedp.ByQuery))
	return frames[len(frames)-1]
}

// inFrame reads the text of sel inside the mini program once it is not
// empty.
func (b *idBrowser) inFrame(sel string) string {
	b.t.Helper()
	var s string
	f := b.frame()
	b.run("read "+sel+" in the mini program",
		chromedp.WaitVisible(sel+`:not(:empty)`, chromedp.ByQuery, chromedp.FromNode(f)),
		chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.FromNode(f)))
	return s
}

// tap clicks sel inside the mini program.
func (b *idBrowser) tap(sel string, then ...chromedp.Action) {
	b.t.Helper()
	f := b.frame()
	b.run("tap "+sel+" in the mini program", append([]chromedp.Action{chromedp.Click(sel, chromedp.ByQuery, chromedp.FromNode(f))}, then...)...)
}

// TestIdentityInTheBrowser is the end-to-end run: an anonymous
// user opens a released mini program, taps its log-in button, is asked to
// sign in, creates an account (code from the development mailbox), comes
// back to the same page with the device's storage kept, goes through the
// consent sheet and gets a code; a Go backend exchanges it at the real
// token endpoint and coreos/go-oidc verifies the ID token; the mini
// program's launch data verifies offline with the JWKS; the user removes
// the app's access under Me and userinfo refuses the backend's token.
func TestIdentityInTheBrowser(t *testing.T) {
	w := newIDWorld(t)
	p := w.p
	appID, secret := w.createApp(t, "Noodle Bar")
	w.release(t, appID, loginPackage(t, "Noodle Bar"))
	b := &idBrowser{t: t, ctx: testenv.Browser(t)}

	// Anonymous: the page counts a first visit; tapping log in asks to
	// sign in.
	b.run("open the mini program", chromedp.Navigate(p.URL+"/app/"+appID+"/"))
	if v := b.inFrame("#visits"); v != "1" {
		t.Fatalf("first visit shows %q", v)
	}
	var sheetText string
	b.tap("#login",
		chromedp.WaitVisible(`.om-sheet[data-kind="signin"]`, chromedp.ByQuery),
		chromedp.Text(`.om-sheet[data-kind="signin"]`, &sheetText, chromedp.ByQuery))
	if !strings.Contains(sheetText, "Noodle Bar wants to know who you are") {
		t.Fatalf("sign-in sheet: %q", sheetText)
	}
	b.run("sign-in sheet: sign in",
		chromedp.Click(`.om-sheet[data-kind="signin"] .om-confirm`, chromedp.ByQuery),
		chromedp.WaitVisible(`#signin-password`, chromedp.ByQuery))
	b.fits()
	var loc string
	b.run("sign-in page", chromedp.Location(&loc), chromedp.Click(`a[href^="/me/signup"]`, chromedp.ByQuery), chromedp.WaitVisible(`#signup-form`, chromedp.ByQuery))
	if !strings.Contains(loc, "next=%2Fapp%2F"+appID+"%2Fpages%2Findex") {
		t.Fatalf("sign-in page does not lead back to the mini program: %s", loc)
	}
	b.fits()
	b.run("sign up",
		chromedp.SendKeys(`#signup-form input[name=login]`, "alice@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#signup-form input[name=password]`, "alice-password-1", chromedp.ByQuery),
		chromedp.SendKeys(`#signup-form input[name=name]`, "Alice", chromedp.ByQuery),
		chromedp.Click(`#signup-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#code-form`, chromedp.ByQuery))
	b.fits()

	// The newcomer reads the code in the development mailbox, in a second
	// tab, as the page suggests.
	tab, closeTab := chromedp.NewContext(b.ctx)
	var mail string
	if err := chromedp.Run(tab, chromedp.Navigate(p.URL+"/dev/mailbox"), chromedp.Text(`.om-message .om-body`, &mail, chromedp.ByQuery)); err != nil {
		t.Fatalf("mailbox: %v", err)
	}
	closeTab()
	m := codeRE.FindStringSubmatch(mail)
	if m == nil {
		t.Fatalf("mailbox message: %q", mail)
	}
	b.run("enter the code",
		chromedp.SendKeys(`#code-form input[name=code]`, m[1], chromedp.ByQuery),
		chromedp.Click(`#code-form button[type=submit]`, chromedp.ByQuery))

	// Back in the mini program, on the same page, with its storage kept.
	if v := b.inFrame("#visits"); v != "2" {
		t.Fatalf("after signing up the mini program shows %q visits, want 2 (the device's storage kept)", v)
	}
	b.run("back in the mini program", chromedp.Location(&loc))
	if !strings.Contains(loc, "/app/"+appID+"/pages/index") {
		t.Fatalf("after sign-up the browser is at %s", loc)
	}
	// A scope the manifest does not declare is refused without a sheet;
	// "Deny" is not remembered: the next tap asks again.
	b.tap("#phone")
	if e := b.inFrame("#error"); !strings.HasPrefix(e, "not_declared:") {
		t.Fatalf("undeclared scope: %q", e)
	}
	b.tap("#login",
		chromedp.WaitVisible(`.om-sheet[data-kind="auth-consent"]`, chromedp.ByQuery),
		chromedp.Click(`.om-sheet[data-kind="auth-consent"] .om-cancel`, chromedp.ByQuery))
	if e := b.inFrame("#error"); !strings.HasPrefix(e, "denied:") {
		t.Fatalf("denied consent: %q", e)
	}
	b.tap("#login",
		chromedp.WaitVisible(`.om-sheet[data-kind="auth-consent"]`, chromedp.ByQuery),
		chromedp.Text(`.om-sheet[data-kind="auth-consent"]`, &sheetText, chromedp.ByQuery))
	for _, want := range []string{"Noodle Bar would like to know", "your nickname and avatar", "To greet you by name.", "Noodle Bar Ltd"} {
		if !strings.Contains(sheetText, want) {
			t.Fatalf("consent sheet %q lacks %q", sheetText, want)
		}
	}
	b.fits()
	b.run("allow", chromedp.Click(`.om-sheet[data-kind="auth-consent"] .om-confirm`, chromedp.ByQuery))
	code := b.inFrame("#code")
	if !strings.HasPrefix(code, "oc_") {
		t.Fatalf("mini program got %q", code)
	}

	// The mini program's server: exchange and verify.
	be := newBackend(t, p.URL, appID, secret)
	tok, idTok, err := be.exchange(code)
	if err != nil {
		t.Fatalf("backend exchange: %v", err)
	}
	var claims struct {
		Name string `json:"name"`
	}
	idTok.Claims(&claims)
	if claims.Name != "Alice" || !strings.HasPrefix(idTok.Subject, "au_") {
		t.Fatalf("ID token: %q %+v", idTok.Subject, claims)
	}

	// Launch data, verified offline.
	b.tap("#launch")
	token := b.inFrame("#token")
	d, err := identity.VerifyLaunchWithKeys(token, fetchJWKS(t, p.URL), p.URL, appID, time.Now())
	if err != nil {
		t.Fatalf("launch data from the browser: %v", err)
	}
	if d.AppUserID != idTok.Subject || d.Path != "pages/index" || d.Scene == "" {
		t.Fatalf("launch data: %+v, ID token sub %s", d, idTok.Subject)
	}

	// Me tab: who is signed in; the authorised mini programs; remove.
	var name string
	b.run("Me tab",
		chromedp.Navigate(p.URL+"/"),
		chromedp.Click(`a[data-tab="om-me"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#om-me .om-me-name`, chromedp.ByQuery),
		chromedp.Text(`#om-me .om-me-name`, &name, chromedp.ByQuery))
	if name != "Alice" {
		t.Fatalf("Me tab shows %q", name)
	}
	b.fits()
	var grant string
	b.run("authorised mini programs",
		chromedp.Click(`#om-me a[href="/me/apps"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.om-grant[data-app="`+appID+`"]`, chromedp.ByQuery),
		chromedp.Text(`.om-grant[data-app="`+appID+`"]`, &grant, chromedp.ByQuery))
	if !strings.Contains(grant, "Noodle Bar") || !strings.Contains(grant, "Your nickname and avatar") || !strings.Contains(grant, "To greet you by name.") {
		t.Fatalf("authorised mini programs: %q", grant)
	}
	b.fits()
	if _, err := be.userinfo(tok); err != nil {
		t.Fatalf("userinfo before revoking: %v", err)
	}
	b.run("remove all access",
		chromedp.Click(`.om-grant[data-app="`+appID+`"] .om-danger`, chromedp.ByQuery),
		chromedp.WaitVisible(`.om-flash`, chromedp.ByQuery))
	var left int
	b.run("count apps", chromedp.Evaluate(`document.querySelectorAll('.om-grant').length`, &left))
	if left != 0 {
		t.Fatalf("%d apps still listed after removing access", left)
	}
	if _, err := be.userinfo(tok); err == nil {
		t.Fatal("userinfo still answers after the user removed the app's access")
	}

	// The same pages in Simplified Chinese.
	var h1 string
	b.run("Chinese", chromedp.Navigate(p.URL+"/me/apps?lang=zh-Hans"), chromedp.Text(`h1`, &h1, chromedp.ByQuery))
	if h1 != "已授权的小程序" {
		t.Fatalf("Chinese heading %q", h1)
	}
	b.fits()
	b.run("Chinese profile", chromedp.Navigate(p.URL+"/me"), chromedp.Text(`h1`, &h1, chromedp.ByQuery))
	if h1 != "我" {
		t.Fatalf("Chinese profile heading %q", h1)
	}
	b.fits()
}
