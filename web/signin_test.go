package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/platform"
)

func TestSetupLinkCreatesTheOperatorOnce(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	if !strings.Contains(p.Out.String(), "/setup?token=") {
		t.Fatalf("banner has no setup link:\n%s", p.Out.String())
	}
	token := p.SetupToken(t)
	anon := p.Client()

	if code, _ := p.Get(t, anon, "/setup?token=wrong"); code != http.StatusUnauthorized {
		t.Fatalf("setup with a wrong token: %d", code)
	}
	resp, body := p.PostForm(t, anon, "/setup", "token", token, "name", "Op", "email", "op@example.com", "password", "short")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at least 10 characters") {
		t.Fatalf("short password: %d\n%s", resp.StatusCode, body)
	}
	admin := p.CreateOperator(t, "op@example.com", "operator-password-1")
	if code, body := p.Get(t, admin, "/admin"); code != 200 || !strings.Contains(body, "Signed in as op@example.com") {
		t.Fatalf("/admin after setup: %d\n%s", code, body)
	}
	// The link works once.
	resp, _ = p.PostForm(t, p.Client(), "/setup", "token", token, "name", "Mallory", "email", "m@example.com", "password", "mallory-password-1")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second use of the setup link: %d", resp.StatusCode)
	}

	// Sign out, then back in.
	resp, _ = p.PostForm(t, admin, "/signout")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if code, _ := p.Get(t, admin, "/admin"); code != http.StatusSeeOther {
		t.Fatalf("/admin after sign-out: %d, want a redirect to sign in", code)
	}
	resp, body = p.PostForm(t, admin, "/signin", "email", "op@example.com", "password", "not-the-password")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong e-mail or password") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = p.PostForm(t, admin, "/signin", "email", "OP@example.com", "password", "operator-password-1", "next", "/admin")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("sign in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// An open redirect through ?next= is refused.
	resp, _ = p.PostForm(t, p.Client(), "/signin", "email", "op@example.com", "password", "operator-password-1", "next", "//evil.example/")
	if loc := resp.Header.Get("Location"); loc != "/admin" {
		t.Fatalf("next=//evil.example redirected to %q", loc)
	}
}

func TestSignInLocksOutAfterRepeatedFailures(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	p.CreateOperator(t, "op@example.com", "operator-password-1")
	c := p.Client()
	var last *http.Response
	var body string
	for i := 0; i < 6; i++ {
		last, body = p.PostForm(t, c, "/signin", "email", "op@example.com", "password", "guess-number-"+string(rune('a'+i)))
	}
	if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "too many attempts") || last.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth wrong password: %d Retry-After=%q\n%s", last.StatusCode, last.Header.Get("Retry-After"), body)
	}
	// Even the right password waits until the lock ends.
	last, _ = p.PostForm(t, c, "/signin", "email", "op@example.com", "password", "operator-password-1")
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password during lockout: %d", last.StatusCode)
	}
}

func TestCrossOriginFormPostIsRefused(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	req, _ := http.NewRequest("POST", p.URL+"/signin", strings.NewReader("email=a%40b.c&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site form post: %d, want 403", resp.StatusCode)
	}
}

// TestSetupInBrowser walks the first-run setup in a phone-sized Chromium,
// then reads the operator console in Simplified Chinese.
func TestSetupInBrowser(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	ctx := testenv.Browser(t)
	var heading, zhHeading, signedIn string
	var overflow bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(p.SetupURL),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "Olivia Operator"),
		chromedp.SendKeys(`input[name=email]`, "olivia@example.com"),
		chromedp.SendKeys(`input[name=password]`, "operator-password-1"),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`main p`),
		chromedp.Text(`h1`, &heading),
		chromedp.Text(`main p`, &signedIn),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
		chromedp.Click(`a[hreflang="zh-Hans"]`),
		chromedp.WaitVisible(`a[hreflang="en"]`),
		chromedp.Text(`h1`, &zhHeading),
	)
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Operator console" || !strings.Contains(signedIn, "olivia@example.com") {
		t.Fatalf("after setup: heading %q, text %q", heading, signedIn)
	}
	if overflow {
		t.Fatal("the operator console scrolls sideways on a phone-sized screen")
	}
	if zhHeading != "运营后台" {
		t.Fatalf("Chinese heading %q, want 运营后台", zhHeading)
	}
}
