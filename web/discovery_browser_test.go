package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/internal/testenv"
)

// channel creates a home page channel through the operator console's
// form and adds apps to it, in order; it returns the channel's page.
func (w *discoWorld) channel(t *testing.T, slug, en, zh string, appIDs ...string) string {
	t.Helper()
	resp, body := w.p.PostForm(t, w.operator.C, "/admin/discovery/channels", "slug", slug, "title_en", en, "title_zh", zh)
	page := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(page, "/admin/discovery/channels/") {
		t.Fatalf("create channel %s: %d %s", slug, resp.StatusCode, body)
	}
	for _, id := range appIDs {
		if resp, body := w.p.PostForm(t, w.operator.C, page+"/apps", "app_id", id); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add %s to %s: %d %s", id, slug, resp.StatusCode, body)
		}
	}
	return page
}

// scenes returns an app's launches by scene today, from the analytics API.
func (w *discoWorld) scenes(t *testing.T, appID string) map[discovery.Scene]int64 {
	t.Helper()
	var rep discovery.Report
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+appID+"/analytics", nil, &rep)
	return rep.Totals.Scenes
}

// fits checks the page on screen needs no sideways scrolling on a phone.
func (b *browser) fits(what string) {
	b.t.Helper()
	var ok bool
	b.top(`document.documentElement.scrollWidth <= window.innerWidth`, &ok)
	if !ok {
		var wide string
		b.top(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className).join(', ')`, &wide)
		b.t.Errorf("%s scrolls sideways on a 390px screen: %s", what, wide)
	}
}

// tap waits for sel in the host page, with no view refresh under way,
// and clicks it as a finger would (a click event on it, in one step, so a
// refreshed view never leaves a stale node).
func (b *browser) tap(sel string) {
	b.t.Helper()
	ready := `!document.querySelector('[data-loading]') && document.querySelector(` + jsString(sel) + `)`
	b.waitTop(ready)
	var ok bool
	b.top(`(() => { const e = `+ready+`; if (e) e.click(); return !!e; })()`, &ok)
	if !ok {
		b.t.Fatalf("tap %s: gone", sel)
	}
}

// onScreen is the app the shell shows and the scene it was shown with.
func (b *browser) onScreen() (appID, scene string, launchID float64) {
	b.t.Helper()
	var st struct {
		App    string  `json:"app"`
		Scene  string  `json:"scene"`
		Launch float64 `json:"launch"`
	}
	b.top(`(() => { const c = OpenMiniHost._.current(); return c ? { app: c.l.appId, scene: c.showScene, launch: c.l.launchId || 0 } : {}; })()`, &st)
	return st.App, st.Scene, st.Launch
}

// TestHomeSearchAndChannelsInChromium: the home page shows the operator's
// channels; typing Chinese or English in the search box suggests apps;
// searching lists results (with the corrected query for a typo); results,
// suggestions and channel tiles open the app with their scene, which
// analytics then counts.
func TestHomeSearchAndChannelsInChromium(t *testing.T) {
	w := newDiscoWorld(t)
	coffee := w.app(t, "星巴克咖啡 Starbucks Coffee", "food", "咖啡和甜点。Coffee and cakes all day.", "coffee", "咖啡")
	metro := w.app(t, "Metro Ride 地铁", "travel", "Tickets for the metro and buses.", "metro", "地铁")
	tips := w.app(t, "Tip Split", "tools", "Split a bill between friends.", "bill")
	w.channel(t, "food", "Food near you", "附近美食", coffee.ID)
	w.channel(t, "tools", "Tools", "工具", tips.ID)

	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	b.open("/")
	b.waitTop(`document.querySelector('[data-channel="food"] a[data-app="` + coffee.ID + `"]')`)
	var titles []string
	b.top(`[...document.querySelectorAll('.omd-channel h2')].map((h) => h.textContent)`, &titles)
	if strings.Join(titles, "|") != "Food near you|Tools" {
		t.Errorf("channels on the home page: %v", titles)
	}
	b.fits("the home page")

	// Chinese: suggestions while typing, then the results page.
	input := `.omd-search input[name="q"]`
	b.run(chromedp.Click(input, chromedp.ByQuery), chromedp.SendKeys(input, "咖啡", chromedp.ByQuery))
	b.waitTop(`document.querySelector('#omd-suggest:not([hidden]) a[data-app="` + coffee.ID + `"]')`)
	b.run(chromedp.SendKeys(input, kb.Enter, chromedp.ByQuery))
	b.waitTop(`document.querySelector('.omd-results a[data-app="` + coffee.ID + `"]')`)
	var path string
	b.top(`decodeURIComponent(location.pathname + location.search)`, &path)
	if path != "/?q=咖啡" {
		t.Errorf("address after searching: %q", path)
	}
	var hits []string
	b.top(`[...document.querySelectorAll('.omd-results a[data-app]')].map((a) => a.dataset.app)`, &hits)
	if len(hits) != 1 {
		t.Errorf("results for 咖啡: %v, want only the coffee shop", hits)
	}
	b.fits("search results")
	b.tap(`.omd-results a[data-app="` + coffee.ID + `"]`)
	b.waitTop(`document.querySelector('.om-app[data-app="` + coffee.ID + `"]:not([hidden])')`)
	if app, scene, id := b.onScreen(); app != coffee.ID || scene != "search" || id == 0 {
		t.Errorf("opened from the results: %s, scene %s, launch %v", app, scene, id)
	}

	// English: a suggestion opens the app directly. Back home, the home
	// view is drawn again (an app was opened since); wait for the new
	// search box, so typing does not go into the one being replaced.
	b.top(`(() => { document.querySelector('.omd-search').dataset.stale = '1'; return 1; })()`, nil)
	b.tap(".om-app:not([hidden]) .om-close")
	b.waitTop(`!document.getElementById('om-home').hidden`)
	b.waitTop(`document.querySelector('#om-home-body:not([data-loading]) .omd-search[data-wired]:not([data-stale])')`)
	b.top(`(() => { const i = document.querySelector('`+input+`'); i.value = ''; return 1; })()`, nil)
	b.run(chromedp.Click(input, chromedp.ByQuery), chromedp.SendKeys(input, "metr", chromedp.ByQuery))
	b.waitTop(`document.querySelector('#omd-suggest:not([hidden]) a[data-app="` + metro.ID + `"]')`)
	b.tap(`#omd-suggest a[data-app="` + metro.ID + `"]`)
	b.waitTop(`document.querySelector('.om-app[data-app="` + metro.ID + `"]:not([hidden])')`)
	if app, scene, _ := b.onScreen(); app != metro.ID || scene != "search" {
		t.Errorf("opened from a suggestion: %s, scene %s", app, scene)
	}

	// A typo is corrected; a channel tile opens with scene channel.
	b.open("/?q=starbuks")
	b.waitTop(`document.querySelector('.omd-corrected')`)
	var corrected string
	b.top(`document.querySelector('.omd-corrected').textContent`, &corrected)
	if !strings.Contains(corrected, "starbucks") {
		t.Errorf("corrected query line: %q", corrected)
	}
	b.tap(`[data-omd-clear]`)
	b.waitTop(`document.querySelector('[data-channel="tools"] a[data-app="` + tips.ID + `"]')`)
	b.tap(`[data-channel="tools"] a[data-app="` + tips.ID + `"]`)
	b.waitTop(`document.querySelector('.om-app[data-app="` + tips.ID + `"]:not([hidden])')`)

	for id, want := range map[string]discovery.Scene{coffee.ID: discovery.SceneSearch, metro.ID: discovery.SceneSearch, tips.ID: discovery.SceneChannel} {
		if got := w.scenes(t, id); got[want] != 1 {
			t.Errorf("%s: launches by scene %v, want one from %s", id, got, want)
		}
	}

	// The home page in Chinese.
	b.open("/?lang=zh-Hans")
	b.waitTop(`document.querySelector('[data-channel="food"]')`)
	var zh string
	b.top(`document.getElementById('om-home-body').innerText`, &zh)
	for _, s := range []string{"附近美食", "为你推荐", "搜索"} {
		if !strings.Contains(zh, s) {
			t.Errorf("the Chinese home page has no %q:\n%s", s, zh)
		}
	}
	b.fits("the Chinese home page")
}

// TestMyMiniProgramsInChromium: a signed-in user adds an app to their
// favourites from the capsule menu, and "my mini programs" lists
// favourites and recent apps (last used first); one tap opens each with
// scene favourite or recent, switching back to a running one is instant,
// the time each spent on screen reaches analytics, and the star removes a
// favourite.
func TestMyMiniProgramsInChromium(t *testing.T) {
	w := newDiscoWorld(t)
	coffee := w.app(t, "Corner Coffee", "food", "Coffee to go.")
	metro := w.app(t, "Metro Ride", "travel", "Metro tickets.")
	user, token := w.user(t, "lily@example.com")
	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	b.signIn(token)

	// Favourite from the capsule menu of a running app.
	b.open("/app/" + coffee.ID + "/")
	b.waitTop(`document.querySelector('.om-app[data-app="` + coffee.ID + `"]:not([hidden])')`)
	b.waitTop(`window.OpenMiniHost && document.querySelector('script[src*="host-discovery"]') && true`)
	b.tap(`.om-app[data-app="` + coffee.ID + `"] .om-more`)
	b.clickSheet("menu", `button[data-index="1"]`)
	b.waitTop(`!document.getElementById('om-toast').hidden && document.getElementById('om-toast').textContent.includes('Added to favourites')`)
	if favs, err := w.p.Discovery.Favourites(w.ctx, user); err != nil || len(favs) != 1 || favs[0].AppID != coffee.ID {
		t.Fatalf("favourites after the menu: %+v, %v", favs, err)
	}
	b.open("/app/" + metro.ID + "/")
	b.waitTop(`document.querySelector('.om-app[data-app="` + metro.ID + `"]:not([hidden])')`)

	// A fresh page of "my mini programs": nothing is running.
	b.open("/my")
	b.waitTop(`document.querySelector('#omd-favourites a[data-open="favourite"]')`)
	var recent, favs []string
	b.top(`[...document.querySelectorAll('#omd-recent li[data-app]')].map((li) => li.dataset.app)`, &recent)
	b.top(`[...document.querySelectorAll('#omd-favourites li[data-app]')].map((li) => li.dataset.app)`, &favs)
	if strings.Join(recent, ",") != metro.ID+","+coffee.ID || strings.Join(favs, ",") != coffee.ID {
		t.Fatalf("my mini programs: recent %v, favourites %v", recent, favs)
	}
	b.fits("my mini programs")

	// One tap: the favourite opens; leave it running; the recent one opens.
	b.tap(`#omd-favourites a[data-open="favourite"]`)
	b.waitTop(`document.querySelector('.om-app[data-app="` + coffee.ID + `"]:not([hidden])')`)
	app, scene, favLaunch := b.onScreen()
	if app != coffee.ID || scene != "favourite" || favLaunch == 0 {
		t.Fatalf("from favourites: %s, scene %s, launch %v", app, scene, favLaunch)
	}
	time.Sleep(1200 * time.Millisecond) // on screen for a moment
	b.tap(".om-app:not([hidden]) .om-close")
	b.tap(`#om-tabs a[data-tab="om-my"]`)
	b.waitTop(`!document.getElementById('om-my').hidden && document.querySelector('#omd-recent a[data-open="recent"]')`)
	b.tap(`#omd-recent li[data-app="` + metro.ID + `"] a[data-open="recent"]`)
	b.waitTop(`document.querySelector('.om-app[data-app="` + metro.ID + `"]:not([hidden])')`)
	if app, scene, _ := b.onScreen(); app != metro.ID || scene != "recent" {
		t.Fatalf("from recent: %s, scene %s", app, scene)
	}
	// Back to the coffee shop, still running: no new launch.
	b.tap(".om-app:not([hidden]) .om-close")
	b.tap(`#om-tabs a[data-tab="om-my"]`)
	b.waitTop(`!document.getElementById('om-my').hidden && document.querySelector('#omd-recent li[data-app="` + coffee.ID + `"] a')`)
	b.tap(`#omd-recent li[data-app="` + coffee.ID + `"] a`)
	b.waitTop(`document.querySelector('.om-app[data-app="` + coffee.ID + `"]:not([hidden])')`)
	var alive []string
	b.top(`OpenMiniHost.alive()`, &alive)
	if len(alive) != 2 {
		t.Errorf("running after switching: %v", alive)
	}
	if sc := w.scenes(t, coffee.ID); sc[discovery.SceneFavourite] != 1 || sc[discovery.SceneLink] != 1 || sc[discovery.SceneRecent] != 0 {
		t.Errorf("coffee launches by scene: %v (the switch back is not a launch)", sc)
	}
	if sc := w.scenes(t, metro.ID); sc[discovery.SceneRecent] != 1 {
		t.Errorf("metro launches by scene: %v", sc)
	}
	// The time the coffee shop was on screen after opening it from
	// favourites (at least the 1.2 s waited) was reported when the user
	// left it, and analytics averages it in.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var fg int64
		if err := w.p.DB.QueryRow(w.ctx, `SELECT foreground_ms FROM discovery_launches WHERE id = ?`, int64(favLaunch)).Scan(&fg); err != nil {
			t.Fatal(err)
		}
		var rep discovery.Report
		w.dev.Must(t, 200, "GET", "/api/v1/apps/"+coffee.ID+"/analytics", nil, &rep)
		if fg >= 1200 && rep.Totals.AvgSessionMs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the favourite launch's foreground time: %d ms; analytics %+v", fg, rep.Totals)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The star takes it out of favourites.
	b.open("/my?lang=zh-Hans")
	b.waitTop(`document.querySelector('#omd-favourites [data-favourite="` + coffee.ID + `"]')`)
	var heading string
	b.top(`document.querySelector('#omd-favourites h2').textContent`, &heading)
	if heading != "我的收藏" {
		t.Errorf("favourites heading in Chinese: %q", heading)
	}
	b.tap(`#omd-favourites [data-favourite="` + coffee.ID + `"]`)
	b.waitTop(`!document.querySelector('#omd-favourites li[data-app]')`)
	if favs, _ := w.p.Discovery.Favourites(w.ctx, user); len(favs) != 0 {
		t.Errorf("favourites after the star: %+v", favs)
	}
	// The page opened on "my mini programs" fills the home view when the
	// user goes there.
	b.tap(`#om-tabs a[data-tab="om-home"]`)
	b.waitTop(`!document.getElementById('om-home').hidden && !document.querySelector('[data-pending]') && document.querySelector('#om-home-body .omd-search')`)
}

// TestRecommendationWithReasonInChromium: after the user opens a mini
// program, the home page recommends one that people who use it also use,
// saying so; the user hides it for good. Someone not signed in gets
// trending ones, with that reason.
func TestRecommendationWithReasonInChromium(t *testing.T) {
	w := newDiscoWorld(t)
	coffee := w.app(t, "Corner Coffee", "food", "Coffee to go.")
	bakery := w.app(t, "Bread Bakery", "food", "Fresh bread every morning.")
	w.app(t, "Metro Ride", "travel", "Metro tickets.")
	// Three people use the coffee shop and the bakery.
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		id, _ := w.user(t, email)
		for _, app := range []string{coffee.ID, bakery.ID} {
			if _, err := w.p.Discovery.RecordLaunch(w.ctx, discovery.Launch{AccountID: id, AppID: app, Scene: discovery.SceneLink}); err != nil {
				t.Fatal(err)
			}
		}
	}
	user, token := w.user(t, "lily@example.com")
	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	b.signIn(token)
	b.open("/")
	var before []string
	b.top(`[...document.querySelectorAll('#omd-recs li[data-app]')].map((li) => li.dataset.app + ':' + li.dataset.kind)`, &before)

	// Lily opens the coffee shop; the platform's refresh job runs.
	b.open("/app/" + coffee.ID + "/")
	b.waitTop(`document.querySelector('.om-app[data-app="` + coffee.ID + `"]:not([hidden])')`)
	if err := w.p.Discovery.Refresh(w.ctx); err != nil {
		t.Fatal(err)
	}
	b.tap(".om-app:not([hidden]) .om-close")
	rec := `#omd-recs li[data-app="` + bakery.ID + `"][data-kind="also_used"]`
	b.waitTop(`document.querySelector('` + rec + `')`)
	var reason string
	b.top(`document.querySelector('`+rec+` .omd-reason').textContent`, &reason)
	if reason != "Because you use Corner Coffee" {
		t.Errorf("reason shown: %q (before using anything: %v)", reason, before)
	}
	b.fits("recommendations")

	// Hidden for good.
	b.tap(rec + ` [data-hide]`)
	b.waitTop(`!document.querySelector('#omd-recs li[data-app="` + bakery.ID + `"]')`)
	if hidden, err := w.p.Discovery.HiddenRecommendations(w.ctx, user); err != nil || len(hidden) != 1 || hidden[0].AppID != bakery.ID {
		t.Fatalf("hidden recommendations: %+v, %v", hidden, err)
	}
	b.open("/")
	b.waitTop(`document.querySelector('#omd-recs')`)
	var after []string
	b.top(`[...document.querySelectorAll('#omd-recs li[data-app]')].map((li) => li.dataset.app)`, &after)
	for _, id := range after {
		if id == bakery.ID {
			t.Errorf("the hidden app is recommended again: %v", after)
		}
	}

	// Someone not signed in: what is trending, with the reason.
	anon := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	anon.open("/?lang=zh-Hans")
	anon.waitTop(`document.querySelector('#omd-recs li[data-kind="trending"]')`)
	var zh string
	anon.top(`document.querySelector('#omd-recs li[data-kind="trending"] .omd-reason').textContent`, &zh)
	if zh != "正在流行" {
		t.Errorf("trending reason in Chinese: %q", zh)
	}

	// Nearby: the coffee shop's merchant has a place; the visitor shares
	// their position (about 180 m away) and gets it with the distance,
	// again on the next visit without asking.
	w.merchant(t, coffee.ID, "Corner Coffee Ltd", 31.2304, 121.4737)
	if err := w.p.ReindexDiscovery(w.ctx); err != nil {
		t.Fatal(err)
	}
	anon.run(cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "geolocation"}, cdpbrowser.PermissionSettingGranted).WithOrigin(w.p.URL),
		emulation.SetGeolocationOverride().WithLatitude(31.2320).WithLongitude(121.4737).WithAccuracy(20))
	anon.open("/?lang=zh-Hans")
	anon.tap(`[data-nearby]:not([hidden])`)
	near := `#omd-recs li[data-kind="nearby"][data-app="` + coffee.ID + `"] .omd-reason`
	anon.waitTop(`document.querySelector('` + near + `')`)
	anon.top(`document.querySelector('`+near+`').textContent`, &zh)
	if zh != "附近，距你180米" {
		t.Errorf("nearby reason: %q", zh)
	}
	anon.open("/")
	anon.waitTop(`document.querySelector('` + near + `')`)
}
