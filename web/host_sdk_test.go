package web_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/testenv"
)

// countingServer is a plain HTTP server on loopback that counts the
// requests reaching it: mini programs must never reach it.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fmt.Fprint(w, `{"stolen":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// allowedAPI is an HTTPS server at https://api.localhost:PORT, the one
// domain the friendly app is allowed to reach.
func allowedAPI(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"pong":true,"path":%q}`, r.URL.Path)
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "https://api.localhost:" + port, &n
}

// TestHostSDKInChromium runs every SDK call of the friendly mini program
// in one browser session and checks what the user and the program see.
func TestHostSDKInChromium(t *testing.T) {
	w := newHostWorld(t)
	api, apiHits := allowedAPI(t)
	evil, evilHits := countingServer(t)
	f := w.publish(t, "friendly", "Friendly", map[string]any{"allowed_domains": []string{api}}, nil)
	other := w.publish(t, "friendly", "Other Shop", nil, nil)

	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 4 * time.Minute})
	b.run(security.SetIgnoreCertificateErrors(true),
		cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "geolocation"}, cdpbrowser.PermissionSettingGranted).WithOrigin(w.p.URL),
		emulation.SetGeolocationOverride().WithLatitude(31.2304).WithLongitude(121.4737).WithAccuracy(10))

	// Launch: the lifecycle in order, the launch options from the link.
	b.open("/app/" + f.ID + "/?table=12&om_scene=qr")
	b.waitLife("pages/index:app.launch", "pages/index:app.show", "pages/index:page.load", "pages/index:page.show", "pages/index:page.ready")
	var launch struct {
		Path  string
		Query map[string]string
		Scene string
		AppID string `json:"appId"`
	}
	b.in(f.ID, "window.syncLaunch", &launch)
	if launch.Path != "pages/index" || launch.Query["table"] != "12" || launch.Scene != "qr" || launch.AppID != f.ID {
		t.Fatalf("launch options: %+v", launch)
	}

	// The manifest's window members: title and colours of the bar, the
	// window's background.
	var bar struct{ Title, Bg, Fg, PagesBg string }
	b.top(`(() => { const a = document.querySelector('.om-app'); const s = getComputedStyle(a.querySelector('.om-bar'));
		return { Title: a.querySelector('.om-title').textContent, Bg: s.backgroundColor, Fg: s.color, PagesBg: getComputedStyle(a.querySelector('.om-pages')).backgroundColor }; })()`, &bar)
	if bar.Title != "Friendly Title" || bar.Bg != "rgb(232, 106, 26)" || bar.Fg != "rgb(255, 255, 255)" || bar.PagesBg != "rgb(255, 248, 242)" {
		t.Errorf("window members not applied: %+v", bar)
	}

	// Navigation bar calls: this page's title and colours.
	if r := b.sdk(f.ID, `setNavigationBarTitle({ title: 'Menu' })`); r["ok"] != true {
		t.Fatalf("setNavigationBarTitle: %v", r)
	}
	if r := b.sdk(f.ID, `setNavigationBarColor({ backgroundColor: '#123456', frontColor: '#000000' })`); r["ok"] != true {
		t.Fatalf("setNavigationBarColor: %v", r)
	}
	if r := b.sdk(f.ID, `setNavigationBarColor({ backgroundColor: 'red; x' })`); r["code"] != "invalid" {
		t.Fatalf("setNavigationBarColor with a bad colour: %v", r)
	}
	b.top(`(() => { const a = document.querySelector('.om-app'); return { Title: a.querySelector('.om-title').textContent, Bg: getComputedStyle(a.querySelector('.om-bar')).backgroundColor }; })()`, &bar)
	if bar.Title != "Menu" || bar.Bg != "rgb(18, 52, 86)" {
		t.Errorf("after setNavigationBar*: %+v", bar)
	}

	// navigateTo: the page stack, its history entry, and the lifecycle.
	if r := b.sdk(f.ID, `navigateTo({ url: 'second?x=1' })`); r["ok"] != true {
		t.Fatalf("navigateTo: %v", r)
	}
	b.waitLife("pages/index:page.hide", "pages/second:page.load", "pages/second:page.show", "pages/second:page.ready")
	var loc string
	b.top(`location.pathname + location.search`, &loc)
	if loc != "/app/"+f.ID+"/pages/second?x=1" {
		t.Errorf("address after navigateTo: %s", loc)
	}
	b.top(`document.querySelector('.om-title').textContent`, &bar.Title)
	if bar.Title != "Friendly Title" {
		t.Errorf("a new page starts with the manifest's title, not %q", bar.Title)
	}
	b.waitTop(`!document.querySelector('.om-back').hidden`)
	// The browser's back button closes the page.
	b.run(chromedp.NavigateBack())
	b.waitLife("pages/second:page.unload", "pages/index:page.show")
	b.top(`[document.querySelector('.om-title').textContent, document.querySelector('.om-back').hidden, location.pathname].join('|')`, &loc)
	if loc != "Menu|true|/app/"+f.ID+"/pages/index" {
		t.Errorf("after back: title|back hidden|path = %s", loc)
	}
	// The page that closed could still save its state in onUnload.
	if r := b.sdk(f.ID, `getStorage({ key: 'unloaded' })`); fmt.Sprint(r["result"]) != "map[data:second.html]" {
		t.Errorf("storage written by onUnload: %v", r)
	}

	// The stack holds 10 pages, then a clear error; navigateBack({delta}).
	if r := b.sdk(f.ID, `navigateTo({ url: '/pages/nowhere' })`); r["code"] != "not_found" {
		t.Fatalf("navigateTo a page the manifest lacks: %v", r)
	}
	for i := 2; i <= 10; i++ {
		if r := b.sdk(f.ID, fmt.Sprintf(`navigateTo({ url: '/pages/third?n=%d' })`, i)); r["ok"] != true {
			t.Fatalf("navigateTo page %d: %v", i, r)
		}
		b.waitIn(f.ID, fmt.Sprintf(`location.search === '?n=%d' && window.events.some((e) => e.event === 'page.ready')`, i))
	}
	if r := b.sdk(f.ID, `navigateTo({ url: '/pages/second' })`); r["code"] != "limit" || !strings.Contains(fmt.Sprint(r["message"]), "10 pages") {
		t.Fatalf("11th page: %v", r)
	}
	b.sdk(f.ID, `navigateBack({ delta: 3 })`)
	b.waitIn(f.ID, `location.search === '?n=7'`)
	var depth int
	b.top(`document.querySelectorAll('.om-app .om-pages iframe:not([hidden])').length + ':' + history.state.depth`, &loc)
	if loc != "1:7" {
		t.Errorf("visible frames:history depth after navigateBack(3) = %s, want 1:7", loc)
	}
	// redirectTo replaces the page; reLaunch empties the stack.
	b.sdk(f.ID, `redirectTo({ url: '/pages/second?r=1' })`)
	b.waitIn(f.ID, `location.search === '?r=1'`)
	b.top(`history.state.depth`, &depth)
	if depth != 7 {
		t.Errorf("depth after redirectTo: %d", depth)
	}
	b.lifecycle()
	b.sdk(f.ID, `reLaunch({ url: '/pages/index?fresh=1' })`)
	b.waitIn(f.ID, `location.search === '?fresh=1'`)
	b.waitTop(`document.querySelectorAll('.om-app .om-pages iframe').length === 1`)
	b.top(`history.state.depth`, &depth)
	if depth != 1 {
		t.Errorf("depth after reLaunch: %d", depth)
	}
	if r := b.sdk(f.ID, `navigateBack()`); r["code"] != "limit" {
		t.Errorf("navigateBack on the first page: %v", r)
	}

	// UI: toast, modal, action sheet, loading.
	b.sdk(f.ID, `showToast({ title: 'Saved', icon: 'success', duration: 5000 })`)
	b.waitTop(`!document.getElementById('om-toast').hidden && document.getElementById('om-toast').textContent.includes('Saved')`)
	b.in(f.ID, `window.modal = openmini.showModal({ title: 'Delete?', content: 'This cannot be undone.' }); 1`, nil)
	b.clickSheet("modal", ".om-confirm")
	var modal map[string]bool
	b.in(f.ID, `window.modal`, &modal)
	if !modal["confirm"] || modal["cancel"] {
		t.Errorf("showModal confirmed: %v", modal)
	}
	b.in(f.ID, `window.modal = openmini.showModal({ title: 'Again?', cancelText: 'No' }); 1`, nil)
	b.clickSheet("modal", ".om-cancel")
	b.in(f.ID, `window.modal`, &modal)
	if modal["confirm"] || !modal["cancel"] {
		t.Errorf("showModal cancelled: %v", modal)
	}
	b.in(f.ID, `window.sheet = openmini.showActionSheet({ itemList: ['Red', 'Green', 'Blue'] }).catch((e) => e.code); 1`, nil)
	b.clickSheet("actionsheet", `[data-index="1"]`)
	var sheet any
	b.in(f.ID, `window.sheet`, &sheet)
	if fmt.Sprint(sheet) != "map[tapIndex:1]" {
		t.Errorf("showActionSheet: %v", sheet)
	}
	b.in(f.ID, `window.sheet = openmini.showActionSheet({ itemList: ['Only'] }).catch((e) => e.code); 1`, nil)
	b.clickSheet("actionsheet", ".om-cancel")
	b.in(f.ID, `window.sheet`, &sheet)
	if sheet != "cancelled" {
		t.Errorf("showActionSheet cancelled: %v", sheet)
	}
	if r := b.sdk(f.ID, `showActionSheet({ itemList: [] })`); r["code"] != "invalid" {
		t.Errorf("empty action sheet: %v", r)
	}
	b.sdk(f.ID, `showLoading({ title: 'Paying' })`)
	b.waitTop(`!document.querySelector('.om-app .om-busy').hidden && document.querySelector('.om-app .om-busy').textContent === 'Paying'`)
	b.sdk(f.ID, `hideLoading()`)
	b.waitTop(`document.querySelector('.om-app .om-busy').hidden`)

	// Storage: set, get, info, remove, clear; 1 MB per key, 10 MB per app.
	for _, c := range []string{`setStorage({ key: 'cart', data: { noodles: 2 } })`, `setStorage({ key: 'name', data: 'Mona' })`} {
		if r := b.sdk(f.ID, c); r["ok"] != true {
			t.Fatalf("%s: %v", c, r)
		}
	}
	if r := b.sdk(f.ID, `getStorage({ key: 'cart' })`); fmt.Sprint(r["result"]) != "map[data:map[noodles:2]]" {
		t.Errorf("getStorage: %v", r)
	}
	if r := b.sdk(f.ID, `getStorageInfo()`); !strings.Contains(fmt.Sprint(r["result"]), "keys:[cart name unloaded]") || !strings.Contains(fmt.Sprint(r["result"]), "limitSize:10240") {
		t.Errorf("getStorageInfo: %v", r)
	}
	b.sdk(f.ID, `removeStorage({ key: 'cart' })`)
	if r := b.sdk(f.ID, `getStorage({ key: 'cart' })`); r["code"] != "not_found" {
		t.Errorf("getStorage after removeStorage: %v", r)
	}
	if r := b.sdk(f.ID, `setStorage({ key: 'big', data: 'x'.repeat(1048577) })`); r["code"] != "too_large" || !strings.Contains(fmt.Sprint(r["message"]), "1 MB") {
		t.Errorf("a value over 1 MB: %v", r)
	}
	start := time.Now()
	var quota []any
	b.in(f.ID, `(async () => { const out = []; for (let i = 0; i < 11; i++) {
		out.push(await openmini.setStorage({ key: 'k' + i, data: 'y'.repeat(1048000) }).then(() => 'ok', (e) => e.code + ': ' + e.message)); } return out; })()`, &quota)
	for i, q := range quota {
		if want := i < 10; (q == "ok") != want {
			t.Errorf("key %d of ~1 MB: %v (the 11th must pass the 10 MB quota)", i, q)
		}
	}
	if len(quota) == 11 && !strings.Contains(fmt.Sprint(quota[10]), "too_large") {
		t.Errorf("past the quota: %v", quota[10])
	}
	t.Logf("11 MB of storage calls took %v", time.Since(start))
	b.sdk(f.ID, `clearStorage()`)
	if r := b.sdk(f.ID, `getStorageInfo()`); !strings.Contains(fmt.Sprint(r["result"]), "keys:[]") {
		t.Errorf("after clearStorage: %v", r)
	}

	// System information: the window below the navigation bar.
	if r := b.sdk(f.ID, `getSystemInfo()`); !strings.Contains(fmt.Sprint(r["result"]), "windowHeight:800") || !strings.Contains(fmt.Sprint(r["result"]), "windowWidth:390") {
		t.Errorf("getSystemInfo: %v", r)
	}

	// Location with consent: asked once, then remembered.
	b.in(f.ID, `window.pos = openmini.getLocation().catch((e) => e.code); 1`, nil)
	b.clickSheet("consent", ".om-confirm")
	var pos map[string]float64
	b.in(f.ID, `window.pos`, &pos)
	if pos["latitude"] != 31.2304 || pos["longitude"] != 121.4737 {
		t.Errorf("getLocation: %v", pos)
	}
	if r := b.sdk(f.ID, `getLocation()`); r["ok"] != true {
		t.Errorf("getLocation a second time (no question): %v", r)
	}
	// Clipboard: writing needs nothing; reading asks, and the user says no.
	if r := b.sdk(f.ID, `setClipboardData({ data: 'NOODLE10' })`); r["ok"] != true {
		t.Errorf("setClipboardData: %v", r)
	}
	b.in(f.ID, `window.clip = openmini.getClipboardData().catch((e) => e.code); 1`, nil)
	b.clickSheet("consent", ".om-cancel")
	var clip any
	b.in(f.ID, `window.clip`, &clip)
	if clip != "denied" {
		t.Errorf("getClipboardData refused: %v", clip)
	}
	// Phone calls are confirmed.
	b.in(f.ID, `window.call = openmini.makePhoneCall({ phoneNumber: '+86 21 1234 5678' }).catch((e) => e.code); 1`, nil)
	b.clickSheet("call", ".om-cancel")
	b.in(f.ID, `window.call`, &clip)
	if clip != "cancelled" {
		t.Errorf("makePhoneCall cancelled: %v", clip)
	}
	// scanCode is the host's scanner, which another host script plugs in
	// with OpenMiniHost.hook('scan'): here a stand-in that "sees" a code.
	b.top(`OpenMiniHost.hook('scan', (o) => Promise.resolve({ result: 'TABLE-12 for ' + o.appId, scanType: 'QR_CODE' }))`, nil)
	if r := b.sdk(f.ID, `scanCode()`); fmt.Sprint(r["result"]) != "map[charSet:utf-8 rawData: result:TABLE-12 for "+f.ID+" scanType:QR_CODE]" {
		t.Errorf("scanCode through the scanner hook: %v", r)
	}
	if r := b.sdk(f.ID, `invoke('noSuchMethod')`); r["code"] != "unsupported" {
		t.Errorf("an unknown host method: %v", r)
	}

	// Network: the allowed HTTPS domain answers, the app's own files too;
	// anything else is refused by the browser before it leaves.
	if r := b.sdk(f.ID, `request({ url: '`+api+`/ping' })`); !strings.Contains(fmt.Sprint(r["result"]), "statusCode:200") || !strings.Contains(fmt.Sprint(r["result"]), "pong:true") {
		t.Errorf("request to the allowed domain: %v", r)
	}
	if apiHits.Load() == 0 {
		t.Error("the allowed domain saw no request")
	}
	if r := b.sdk(f.ID, `request({ url: '`+f.Base+`common/data.json' })`); !strings.Contains(fmt.Sprint(r["result"]), "hello from the app's own origin") {
		t.Errorf("request to the app's own origin: %v", r)
	}
	if r := b.sdk(f.ID, `request({ url: '`+evil.URL+`/collect' })`); r["code"] != "network" {
		t.Errorf("request to a domain not allowed: %v", r)
	}
	if n := evilHits.Load(); n != 0 {
		t.Errorf("the server that is not allowed saw %d requests", n)
	}

	// Errors in a page reach App({onError}).
	b.in(f.ID, `setTimeout(() => { throw new Error('boom') }); 1`, nil)
	b.waitLife("pages/index:app.error")

	// navigateToMiniProgram: the user confirms; the other app opens with
	// the referrer and extraData; this one is hidden, then shown again.
	b.in(f.ID, `window.nav = openmini.navigateToMiniProgram({ appId: '`+other.ID+`', path: 'pages/second?from=friendly', extraData: { coupon: 'C1' } }).catch((e) => e.code); 1`, nil)
	b.clickSheet("confirm-open", ".om-cancel")
	var nav any
	b.in(f.ID, `window.nav`, &nav)
	if nav != "cancelled" {
		t.Errorf("navigateToMiniProgram declined: %v", nav)
	}
	b.lifecycle()
	b.in(f.ID, `window.nav = openmini.navigateToMiniProgram({ appId: '`+other.ID+`', path: 'pages/second?from=friendly', extraData: { coupon: 'C1' } }).catch((e) => e.code); 1`, nil)
	b.clickSheet("confirm-open", ".om-confirm")
	b.waitLife("pages/index:page.hide", "pages/index:app.hide", "pages/second:app.launch", "pages/second:app.show", "pages/second:page.load")
	var ol map[string]any
	b.in(other.ID, `openmini.ready.then((r) => r.launch)`, &ol)
	if ol["scene"] != "miniprogram" || ol["path"] != "pages/second" || fmt.Sprint(ol["referrerInfo"]) != "map[appId:"+f.ID+" extraData:map[coupon:C1]]" || fmt.Sprint(ol["query"]) != "map[from:friendly]" {
		t.Errorf("launch options of the opened mini program: %v", ol)
	}
	var alive []string
	b.top(`OpenMiniHost.alive()`, &alive)
	if len(alive) != 2 {
		t.Errorf("alive after navigateToMiniProgram: %v", alive)
	}
	// exit closes it; the host shows home with the first one still running.
	b.sdk(other.ID, `exit()`)
	b.waitTop(`!document.getElementById('om-home').hidden && OpenMiniHost.alive().length === 1`)
	b.top(`[...document.querySelectorAll('#om-home .om-alive-list .om-run')].map((e) => e.dataset.app)`, &alive)
	if len(alive) != 1 || alive[0] != f.ID {
		t.Errorf("home's running list: %v", alive)
	}
	// Back to it from home: same page, app.show then page.show.
	b.top(`document.querySelector('#om-home .om-run-open').click()`, nil)
	b.waitLife("pages/index:app.show", "pages/index:page.show")
	if r := b.sdk(f.ID, `getLaunchOptions()`); fmt.Sprint(r["ok"]) != "true" {
		t.Errorf("getLaunchOptions: %v", r)
	}
}
