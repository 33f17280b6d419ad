package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// idWorld is a platform with an operator, a developer organisation and
// its apps, for the identity tests.
type idWorld struct {
	p        *platformtest.Running
	operator *platformtest.API
	dev      *platformtest.API
	orgID    int64
}

func newIDWorld(t *testing.T) *idWorld {
	t.Helper()
	p := platformtest.Start(t, platform.Config{})
	w := &idWorld{p: p}
	w.operator = p.API(p.CreateOperator(t, "op@example.com", "operator-password-1"))
	w.dev = p.API(p.Client())
	var su web.SignupResponse
	w.dev.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "dev@noodles.example", Name: "Dana Dev", Password: "developer-password-1", OrgName: "Noodle Bar Ltd"}, &su)
	w.orgID = su.Org.ID
	return w
}

// createApp registers an app and returns its ID and secret.
func (w *idWorld) createApp(t *testing.T, name string) (string, string) {
	t.Helper()
	var created web.AppCreated
	w.dev.Must(t, 201, "POST", "/api/v1/apps", map[string]any{"org_id": w.orgID, "name": name, "category": "food"}, &created)
	return created.App.ID, created.Secret
}

// release uploads pkg as version 1.0.0 of appID, has it approved and
// releases it to everyone.
func (w *idWorld) release(t *testing.T, appID string, pkg []byte) {
	t.Helper()
	var v app.Version
	w.dev.Must(t, 201, "POST", "/api/v1/apps/"+appID+"/versions", pkg, &v)
	w.dev.Must(t, 200, "POST", "/api/v1/apps/"+appID+"/versions/1.0.0/submit", nil, &v)
	w.operator.Must(t, 200, "POST", fmt.Sprintf("/api/v1/admin/reviews/%d/approve", v.ID), nil, nil)
	w.dev.Must(t, 200, "POST", "/api/v1/apps/"+appID+"/release", web.ReleaseRequest{Version: "1.0.0", Percent: 100}, nil)
}

// loginPackage is a mini program whose page asks for a code with the
// profile scope (declared in its manifest), with the phone scope (not
// declared) and for launch data on a tap, shows what it got, and counts
// its visits in the host's per-user storage.
func loginPackage(t *testing.T, name string) []byte {
	t.Helper()
	return platformtest.Package(t, "blank", name, "1.0.0", func(dir string) {
		mp := filepath.Join(dir, "manifest.json")
		b, err := os.ReadFile(mp)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m["req_permissions"] = []map[string]string{{"name": "userInfo", "reason": "To greet you by name."}}
		b, _ = json.MarshalIndent(m, "", "  ")
		write := func(rel, s string) {
			if err := os.WriteFile(filepath.Join(dir, rel), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("manifest.json", string(b))
		write("pages/index.html", `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Login</title></head>
<body>
  <p>Visits: <strong id="visits"></strong></p>
  <button id="login">Log in with OpenMini</button>
  <button id="launch">Launch data</button>
  <button id="phone">Phone number</button>
  <p id="code"></p>
  <p id="token"></p>
  <p id="error"></p>
  <script src="../app.js"></script>
  <script src="index.js"></script>
</body>
</html>
`)
		write("pages/index.js", `(async function () {
  const sdk = window.app.sdk;
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  document.body.addEventListener('click', () => { show('error', ''); }, true);
  const saved = await sdk.getStorage({ key: 'visits' }).catch(() => null);
  const visits = ((saved && Number(saved.data)) || 0) + 1;
  await sdk.setStorage({ key: 'visits', data: visits });
  show('visits', String(visits));
  document.getElementById('login').addEventListener('click', () => {
    sdk.getAuthCode({ scopes: ['profile'] }).then((r) => show('code', r.code), (e) => show('error', e.code + ': ' + e.message));
  });
  document.getElementById('phone').addEventListener('click', () => {
    sdk.getAuthCode({ scopes: ['phone'] }).then((r) => show('code', r.code), (e) => show('error', e.code + ': ' + e.message));
  });
  document.getElementById('launch').addEventListener('click', () => {
    sdk.getLaunchData().then((r) => show('token', r.token), (e) => show('error', e.code + ': ' + e.message));
  });
})();
`)
	})
}

var (
	hiddenRE  = regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`)
	articleRE = regexp.MustCompile(`(?s)<article class="om-card om-message">(.*?)</article>`)
	codeRE    = regexp.MustCompile(`code [a-z ]*is (\d{6})\.`)
)

// hidden returns the value of a hidden form field in an HTML page.
func hidden(t *testing.T, body, name string) string {
	t.Helper()
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("no field %q in the page:\n%s", name, body)
	return ""
}

// mailboxCode reads the newest code sent to dest from the development
// mailbox page, as a newcomer would.
func mailboxCode(t *testing.T, p *platformtest.Running, dest string) string {
	t.Helper()
	status, body := p.Get(t, p.Client(), "/dev/mailbox")
	if status != http.StatusOK {
		t.Fatalf("GET /dev/mailbox: %d", status)
	}
	for _, m := range articleRE.FindAllStringSubmatch(body, -1) {
		if text := html.UnescapeString(m[1]); strings.Contains(text, dest) {
			if c := codeRE.FindStringSubmatch(text); c != nil {
				return c[1]
			}
		}
	}
	t.Fatalf("no code for %s in the development mailbox:\n%s", dest, body)
	return ""
}

// signUpUser signs a host user up through the pages with client c (which
// then holds the session) and returns the page the sign-up ended on.
func signUpUser(t *testing.T, p *platformtest.Running, c *http.Client, login, dest, pw, name string) {
	t.Helper()
	resp, body := p.PostForm(t, c, "/me/signup", "login", login, "password", pw, "name", name, "next", "/me")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="code-form"`) {
		t.Fatalf("sign-up: %d\n%s", resp.StatusCode, body)
	}
	resp, body = p.PostForm(t, c, "/me/signup/confirm", "challenge", hidden(t, body, "challenge"), "code", mailboxCode(t, p, dest), "next", "/me")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me" {
		t.Fatalf("confirm sign-up: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}
