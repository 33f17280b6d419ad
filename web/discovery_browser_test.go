package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

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
	b.run(chromedp.Click(`.omd-results a[data-app="`+coffee.ID+`"]`, chromedp.ByQuery))
	b.waitTop(`document.querySelector('.om-app[data-app="` + coffee.ID + `"]:not([hidden])')`)
	if app, scene, id := b.onScreen(); app != coffee.ID || scene != "search" || id == 0 {
		t.Errorf("opened from the results: %s, scene %s, launch %v", app, scene, id)
	}

	// English: a suggestion opens the app directly.
	b.run(chromedp.Click(".om-app:not([hidden]) .om-close", chromedp.ByQuery))
	b.waitTop(`!document.getElementById('om-home').hidden`)
	b.top(`(() => { const i = document.querySelector('`+input+`'); i.value = ''; return 1; })()`, nil)
	b.run(chromedp.Click(input, chromedp.ByQuery), chromedp.SendKeys(input, "metr", chromedp.ByQuery))
	b.waitTop(`document.querySelector('#omd-suggest:not([hidden]) a[data-app="` + metro.ID + `"]')`)
	b.run(chromedp.Click(`#omd-suggest a[data-app="`+metro.ID+`"]`, chromedp.ByQuery))
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
	b.run(chromedp.Click(`[data-omd-clear]`, chromedp.ByQuery))
	b.waitTop(`document.querySelector('[data-channel="tools"] a[data-app="` + tips.ID + `"]')`)
	b.run(chromedp.Click(`[data-channel="tools"] a[data-app="`+tips.ID+`"]`, chromedp.ByQuery))
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
