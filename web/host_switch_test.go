package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/openmini/openmini/internal/testenv"
)

// TestHostSwitchingInChromium keeps five mini programs alive, returns to
// one on the same page with the same state, unloads the least recently
// used for a sixth, and proves storage follows the user: two browsers of
// one account share it, other people and anonymous devices never see it.
func TestHostSwitchingInChromium(t *testing.T) {
	w := newHostWorld(t)
	var apps []published
	for i := 1; i <= 6; i++ {
		apps = append(apps, w.publish(t, "friendly", fmt.Sprintf("Shop %d", i), nil, nil))
	}
	_, monaToken := w.user(t, "mona@example.com")
	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	b.signIn(monaToken)

	// Shop 1: a second page with state in it (a counter and typed text).
	first := apps[0].ID
	b.open("/app/" + first + "/")
	b.waitLife("pages/index:page.ready")
	b.sdk(first, `setStorage({ key: 'who', data: 'mona' })`)
	b.sdk(first, `navigateTo({ url: '/pages/second?step=2' })`)
	b.waitIn(first, `location.search === '?step=2' && window.events.some((e) => e.event === 'page.ready')`)
	b.in(first, `document.getElementById('inc').click(); document.getElementById('inc').click(); document.getElementById('note').value = 'extra spicy'; 1`, nil)

	// Shops 2 to 5 open from the home page's links, one after the other;
	// each switch hides the one before (page.hide then app.hide).
	for _, a := range apps[1:5] {
		b.run(chromedp.Click(".om-app:not([hidden]) .om-close", chromedp.ByQuery))
		b.waitTop(`!document.getElementById('om-home').hidden`)
		b.top(`OpenMiniHost.openLink('/app/`+a.ID+`/', 'recent') && 1`, nil)
		b.waitIn(a.ID, `openmini.ready`)
	}
	b.waitLife("pages/second:page.hide", "pages/second:app.hide")
	var alive []string
	b.top(`OpenMiniHost.alive()`, &alive)
	if len(alive) != 5 {
		t.Fatalf("alive: %v", alive)
	}
	// Home lists the five running, most recent first.
	b.run(chromedp.Click(".om-app:not([hidden]) .om-close", chromedp.ByQuery))
	var listed []string
	b.top(`[...document.querySelectorAll('#om-home .om-run')].map((e) => e.dataset.app)`, &listed)
	if len(listed) != 5 || listed[0] != apps[4].ID || listed[4] != first {
		t.Errorf("home's running list %v", listed)
	}
	// The host's views fit a phone (no sideways scrolling).
	for _, view := range []string{"om-home", "om-my", "om-scan"} {
		var fits bool
		b.top(`OpenMiniHost.showView('`+view+`'); document.documentElement.scrollWidth <= innerWidth`, &fits)
		if !fits {
			t.Errorf("%s scrolls sideways on a 390px screen", view)
		}
	}
	b.top(`OpenMiniHost.showView('om-home'); 1`, nil)
	// Back to shop 1: the same page, with its state, shown again.
	b.lifecycle()
	b.top(`document.querySelector('#om-home .om-run[data-app="`+first+`"] .om-run-open').click()`, nil)
	b.waitLife("pages/second:app.show", "pages/second:page.show")
	var state string
	b.in(first, `[location.search, document.getElementById('counter').textContent, document.getElementById('note').value].join('|')`, &state)
	if state != "?step=2|2|extra spicy" {
		t.Errorf("shop 1 after switching back: %s", state)
	}
	var loc string
	b.top(`location.pathname + location.search`, &loc)
	if loc != "/app/"+first+"/pages/second?step=2" {
		t.Errorf("address: %s", loc)
	}
	// Its first page is still under it.
	b.sdk(first, `navigateBack()`)
	b.waitIn(first, `location.pathname.endsWith('index.html')`)

	// A sixth: the least recently used (shop 2) is unloaded.
	b.top(`OpenMiniHost.open('`+apps[5].ID+`').then(() => 1)`, nil)
	b.waitIn(apps[5].ID, `openmini.ready`)
	b.top(`OpenMiniHost.alive()`, &alive)
	if len(alive) != 5 || strings.Contains(strings.Join(alive, ","), apps[1].ID) || !strings.Contains(strings.Join(alive, ","), first) {
		t.Errorf("after opening a sixth: alive %v (shop 2, %s, should be gone)", alive, apps[1].ID)
	}
	// The browser's back button walks back: shop 6 -> shop 1.
	b.run(chromedp.NavigateBack())
	b.waitTop(`OpenMiniHost.current() === '` + first + `'`)

	// Storage follows the account to another browser...
	other := newBrowser(t, w.p.URL)
	other.signIn(monaToken)
	other.open("/app/" + first + "/")
	if r := other.sdk(first, `getStorage({ key: 'who' })`); fmt.Sprint(r["result"]) != "map[data:mona]" {
		t.Errorf("the same account in another browser: %v", r)
	}
	// ...but an anonymous browser and another person never see it, and
	// what they store stays theirs.
	_, lenaToken := w.user(t, "lena@example.com")
	lena := newBrowser(t, w.p.URL)
	lena.signIn(lenaToken)
	anon := newBrowser(t, w.p.URL)
	for name, x := range map[string]*browser{"anonymous": anon, "lena": lena} {
		x.open("/app/" + first + "/")
		if r := x.sdk(first, `getStorage({ key: 'who' })`); r["code"] != "not_found" {
			t.Errorf("%s sees mona's storage: %v", name, r)
		}
		x.sdk(first, `setStorage({ key: 'who', data: '`+name+`' })`)
		if r := x.sdk(first, `getStorage({ key: 'who' })`); fmt.Sprint(r["result"]) != "map[data:"+name+"]" {
			t.Errorf("%s's own storage: %v", name, r)
		}
	}
	if r := b.sdk(first, `getStorage({ key: 'who' })`); fmt.Sprint(r["result"]) != "map[data:mona]" {
		t.Errorf("mona's storage after others wrote theirs: %v", r)
	}
}

// TestHTML5GameInChromium packages a plain HTML5 canvas game (its own
// <script src> and <link>, no SDK use) with only a manifest added: it
// runs, drawn landscape and fullscreen, and answers the keyboard.
func TestHTML5GameInChromium(t *testing.T) {
	w := newHostWorld(t)
	g := w.publish(t, "html5game", "Star Catcher", nil, nil)
	b := newBrowser(t, w.p.URL)
	b.open("/app/" + g.ID + "/")
	b.waitIn(g.ID, `document.readyState === 'complete' && getComputedStyle(document.body).backgroundColor === 'rgb(16, 38, 26)'`)

	// The manifest's window: landscape on a portrait phone (the frame is
	// wider than tall), fullscreen (no title bar, the capsule only).
	var size struct{ W, H int }
	b.in(g.ID, `({ W: innerWidth, H: innerHeight })`, &size)
	if size.W <= size.H {
		t.Errorf("the game's window is %dx%d; its manifest asks for landscape", size.W, size.H)
	}
	var title string
	b.top(`getComputedStyle(document.querySelector('.om-app .om-title')).visibility`, &title)
	if title != "hidden" {
		t.Errorf("fullscreen game shows the title bar (visibility %s)", title)
	}
	// It drew itself: the player's square is blue.
	var px []int
	b.in(g.ID, `Array.from(document.getElementById('game').getContext('2d').getImageData(40, 230, 1, 1).data)`, &px)
	if len(px) != 4 || px[0] != 0x4f || px[1] != 0xc3 || px[2] != 0xf7 {
		t.Errorf("pixel under the player: %v", px)
	}
	// Tap into the game, then play with the arrow keys: three steps right
	// reach the first star.
	var rect struct{ X, Y float64 }
	b.top(`(() => { const r = document.querySelector('.om-app iframe').getBoundingClientRect(); return { X: r.left + r.width / 2, Y: r.top + r.height / 2 }; })()`, &rect)
	b.run(chromedp.MouseClickXY(rect.X, rect.Y))
	b.in(g.ID, `document.getElementById('score').textContent = '0'; 0`, nil)
	for i := 0; i < 3; i++ {
		b.run(chromedp.KeyEvent(kb.ArrowRight))
	}
	b.waitIn(g.ID, `document.getElementById('score').textContent === '1'`)
}
