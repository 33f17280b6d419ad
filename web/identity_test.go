package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// TestHostUserAccounts walks the host user pages over HTTP: sign-up by
// e-mail and by phone with the code from the development mailbox, sign
// out, password and code sign-in, password reset, nickname and avatar,
// and the device's anonymous storage moving into the account.
func TestHostUserAccounts(t *testing.T) {
	w := newIDWorld(t)
	p := w.p
	appID, _ := w.createApp(t, "Noodle Bar")

	// Anonymous visitors are sent to sign in, and back.
	c := p.Client()
	resp, _ := p.PostForm(t, c, "/me/name", "name", "x")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous POST /me/name: %d", resp.StatusCode)
	}
	r, err := c.Get(p.URL + "/me/apps")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/me/signin?next=%2Fme%2Fapps" {
		t.Fatalf("anonymous /me/apps: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// The anonymous device stores something in a mini program first.
	p.Get(t, c, "/") // gets the device cookie
	api := &platformtest.API{R: p, C: c, Origin: true}
	api.Must(t, 200, "POST", "/host/api/storage", web.StorageRequest{App: appID, Op: "set", Key: "cart", Data: []byte(`["noodles"]`)}, nil)

	// Sign-up: bad input names the problem, a wrong code counts down, the
	// right one creates the account and signs in.
	resp, body := p.PostForm(t, c, "/me/signup", "login", "alice@example.com", "password", "short", "name", "Alice")
	if resp.StatusCode != 400 || !strings.Contains(body, "password: use at least 10 characters") {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	resp, body = p.PostForm(t, c, "/me/signup", "login", "not an address", "password", "alice-password-1", "name", "Alice")
	if resp.StatusCode != 400 || !strings.Contains(body, "is not a phone number") {
		t.Fatalf("bad login: %d\n%s", resp.StatusCode, body)
	}
	resp, body = p.PostForm(t, c, "/me/signup", "login", "Alice@Example.com", "password", "alice-password-1", "name", "Alice", "next", "/me")
	if resp.StatusCode != 200 || !strings.Contains(body, "a****@example.com") {
		t.Fatalf("sign-up: %d\n%s", resp.StatusCode, body)
	}
	challenge := hidden(t, body, "challenge")
	code := mailboxCode(t, p, "alice@example.com")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	resp, body = p.PostForm(t, c, "/me/signup/confirm", "challenge", challenge, "code", wrong, "next", "/me")
	if resp.StatusCode != 401 || !strings.Contains(body, "4 attempts left") || hidden(t, body, "challenge") != challenge {
		t.Fatalf("wrong code: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = p.PostForm(t, c, "/me/signup/confirm", "challenge", challenge, "code", code, "next", "/me")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/me" {
		t.Fatalf("confirm: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, body := p.Get(t, c, "/me")
	if status != 200 || !strings.Contains(body, `id="me-name">Alice<`) || !strings.Contains(body, "alice@example.com") || !strings.Contains(body, "verified") {
		t.Fatalf("profile: %d\n%s", status, body)
	}
	// The same code does not work twice; the address cannot sign up twice.
	resp, _ = p.PostForm(t, p.Client(), "/me/signup/confirm", "challenge", challenge, "code", code)
	if resp.StatusCode != 401 {
		t.Fatalf("code reused: %d", resp.StatusCode)
	}
	resp, body = p.PostForm(t, p.Client(), "/me/signup", "login", "alice@example.com", "password", "alice-password-2")
	if resp.StatusCode != 409 || !strings.Contains(body, "sign in instead") {
		t.Fatalf("second sign-up: %d", resp.StatusCode)
	}

	// The device's storage now belongs to the account.
	var got struct{ Data json.RawMessage }
	api.Must(t, 200, "POST", "/host/api/storage", web.StorageRequest{App: appID, Op: "get", Key: "cart"}, &got)
	if string(got.Data) != `["noodles"]` {
		t.Fatalf("adopted storage: %q", got.Data)
	}
	var me web.MeResponse
	api.Must(t, 200, "GET", "/host/api/me", nil, &me)
	if !me.SignedIn || me.Name != "Alice" || me.Login != "alice@example.com" {
		t.Fatalf("host me: %+v", me)
	}

	// Nickname and avatar.
	resp, body = p.PostForm(t, c, "/me/name", "name", "  ")
	if resp.StatusCode != 400 || !strings.Contains(body, "nickname of 1 to 64") {
		t.Fatalf("empty nickname: %d", resp.StatusCode)
	}
	resp, _ = p.PostForm(t, c, "/me/name", "name", "Alice 李")
	if resp.StatusCode != 303 {
		t.Fatalf("nickname: %d", resp.StatusCode)
	}
	if status, body := upload(t, p, c, "not-an-image.txt", []byte("hello")); status != 400 || !strings.Contains(body, "PNG, JPEG or WebP") {
		t.Fatalf("text avatar: %d", status)
	}
	pic := pngBytes(t)
	if status, _ := upload(t, p, c, "me.png", pic); status != 303 {
		t.Fatalf("avatar: %d", status)
	}
	_, body = p.Get(t, c, "/me?lang=zh-Hans")
	m := regexp.MustCompile(`<img class="om-avatar" src="(/avatars/\d+/[^"]+\.png)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "Alice 李") || !strings.Contains(body, "<h1>我</h1>") || !strings.Contains(body, "上传头像") {
		t.Fatalf("profile after avatar (zh-Hans):\n%s", body)
	}
	p.Get(t, c, "/me?lang=en") // back to English
	r, err = p.Client().Get(p.URL + m[1])
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" || !bytes.Equal(img, pic) {
		t.Fatalf("avatar URL: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}

	// Sign out; sign in with a wrong and then the right password.
	resp, _ = p.PostForm(t, c, "/me/signout")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	api.Must(t, 200, "GET", "/host/api/me", nil, &me)
	if me.SignedIn {
		t.Fatal("still signed in after signing out")
	}
	resp, body = p.PostForm(t, c, "/me/signin", "login", "alice@example.com", "password", "wrong-password-1", "next", "/me/apps")
	if resp.StatusCode != 401 || !strings.Contains(body, "wrong e-mail, phone number or password") || hidden(t, body, "next") != "/me/apps" {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = p.PostForm(t, c, "/me/signin", "login", "ALICE@example.com", "password", "alice-password-1", "next", "/me/apps")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/me/apps" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// An off-site next is ignored.
	resp, _ = p.PostForm(t, p.Client(), "/me/signin", "login", "alice@example.com", "password", "alice-password-1", "next", "//evil.example/")
	if resp.Header.Get("Location") != "/" {
		t.Fatalf("off-site next: %s", resp.Header.Get("Location"))
	}

	// Phone sign-up, then sign-in by code for an account made elsewhere
	// (the operator's), then a password reset (the developer's).
	pc := p.Client()
	signUpUser(t, p, pc, "+86 138 0013 8000", "+8613800138000", "phone-password-1", "")
	_, body = p.Get(t, pc, "/me")
	if body = html.UnescapeString(body); !strings.Contains(body, "+8613800138000") || !strings.Contains(body, "User 8000") {
		t.Fatalf("phone profile:\n%s", body)
	}

	oc := p.Client()
	resp, body = p.PostForm(t, oc, "/me/signin/code", "login", "op@example.com")
	if resp.StatusCode != 200 || hidden(t, body, "sent_to") != "o*@example.com" {
		t.Fatalf("code sign-in: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = p.PostForm(t, oc, "/me/signin/code/confirm", "challenge", hidden(t, body, "challenge"), "code", mailboxCode(t, p, "op@example.com"))
	if resp.StatusCode != 303 {
		t.Fatalf("code sign-in confirm: %d", resp.StatusCode)
	}
	api = &platformtest.API{R: p, C: oc, Origin: true}
	api.Must(t, 200, "GET", "/host/api/me", nil, &me)
	if me.Name != "Olivia Operator" {
		t.Fatalf("signed in by code as %+v", me)
	}
	// A code for an unknown login looks the same and sends nothing.
	resp, body = p.PostForm(t, p.Client(), "/me/signin/code", "login", "nobody@example.com")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="code-form"`) {
		t.Fatalf("code for unknown login: %d", resp.StatusCode)
	}

	rc := p.Client()
	resp, body = p.PostForm(t, rc, "/me/reset", "login", "dev@noodles.example")
	if resp.StatusCode != 200 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	resetCode := mailboxCode(t, p, "dev@noodles.example")
	resp, body = p.PostForm(t, rc, "/me/reset/confirm", "challenge", hidden(t, body, "challenge"), "code", resetCode, "password", "short")
	if resp.StatusCode != 400 || !strings.Contains(body, "at least 10") {
		t.Fatalf("reset with a short password: %d", resp.StatusCode)
	}
	resp, _ = p.PostForm(t, rc, "/me/reset/confirm", "challenge", hidden(t, body, "challenge"), "code", resetCode, "password", "new-dev-password-1")
	if resp.StatusCode != 303 {
		t.Fatalf("reset confirm: %d", resp.StatusCode)
	}
	resp, _ = p.PostForm(t, p.Client(), "/me/signin", "login", "dev@noodles.example", "password", "developer-password-1")
	if resp.StatusCode != 401 {
		t.Fatalf("old password after reset: %d", resp.StatusCode)
	}
	resp, _ = p.PostForm(t, p.Client(), "/me/signin", "login", "dev@noodles.example", "password", "new-dev-password-1")
	if resp.StatusCode != 303 {
		t.Fatalf("new password after reset: %d", resp.StatusCode)
	}

	// Rate limits: one code a minute per address; repeated wrong passwords
	// lock the login with a Retry-After, even for the right password.
	resp, body = p.PostForm(t, p.Client(), "/me/signin/code", "login", "alice@example.com")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many") {
		t.Fatalf("a second code within a minute: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for i := range 5 {
		if resp, _ = p.PostForm(t, p.Client(), "/me/signin", "login", "+8613800138000", "password", "wrong-password-1"); resp.StatusCode != 401 {
			t.Fatalf("wrong password %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, _ = p.PostForm(t, p.Client(), "/me/signin", "login", "+8613800138000", "password", "wrong-password-1")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth wrong password: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, _ = p.PostForm(t, p.Client(), "/me/signin", "login", "+8613800138000", "password", "phone-password-1")
	if resp.StatusCode != 429 {
		t.Fatalf("right password while locked: %d", resp.StatusCode)
	}
}

func upload(t *testing.T, p *platformtest.Running, c *http.Client, name string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("avatar", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", p.URL+"/me/avatar", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", p.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMailboxOnlyForDevelopment: on a platform with a public, non-loopback
// URL the development mailbox (which holds live codes) is hidden from
// everyone but the operator's staff.
func TestMailboxOnlyForDevelopment(t *testing.T) {
	p := platformtest.Start(t, platform.Config{PublicURL: "https://super.example.com"})
	ctx := context.Background()
	h := p.Handler()
	get := func(cookie string) int {
		req := httptest.NewRequest("GET", "https://super.example.com/dev/mailbox", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "om_session", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := get(""); code != http.StatusNotFound {
		t.Fatalf("anonymous mailbox on a public platform: %d", code)
	}
	// The sign-up page does not point at it either.
	req := httptest.NewRequest("GET", "https://super.example.com/me/signup", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "/dev/mailbox") {
		t.Fatalf("sign-up page on a public platform: %d, mentions the mailbox: %v", rec.Code, strings.Contains(rec.Body.String(), "/dev/mailbox"))
	}
	// A host user is not staff.
	uid, err := p.Identity.ConfirmSignUp(ctx, signUpChallenge(t, p, "user@example.com"), devCode(t, p, "user@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := p.Accounts.CreateSession(ctx, uid)
	if code := get(tok); code != http.StatusNotFound {
		t.Fatalf("host user sees the mailbox: %d", code)
	}
	if err := p.Accounts.SetStaffRole(ctx, uid, "admin"); err != nil {
		t.Fatal(err)
	}
	if code := get(tok); code != http.StatusOK {
		t.Fatalf("staff mailbox: %d", code)
	}
}

func signUpChallenge(t *testing.T, p *platformtest.Running, login string) string {
	t.Helper()
	ch, err := p.Identity.StartSignUp(context.Background(), identity.SignUp{Login: login, Password: "user-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	return ch.ID
}

func devCode(t *testing.T, p *platformtest.Running, dest string) string {
	t.Helper()
	msgs, err := p.Identity.Mailbox(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == dest {
			if c := codeRE.FindStringSubmatch(m.Body); c != nil {
				return c[1]
			}
		}
	}
	t.Fatalf("no code for %s", dest)
	return ""
}
