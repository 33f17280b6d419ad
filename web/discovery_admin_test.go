package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/internal/testenv"
)

// TestOperatorDiscoveryPages: the operator orders channels and their
// apps, schedules one, keeps a games channel off the home page while
// games are not allowed, takes an app out of discovery with a reason (the
// developers see it in their audit log) and back; refused forms say why;
// reviewers and developers cannot reach the pages; every page fits a
// phone in English and Chinese.
func TestOperatorDiscoveryPages(t *testing.T) {
	w := newDiscoWorld(t)
	coffee := w.app(t, "Corner Coffee", "food", "Coffee to go.", "coffee")
	bakery := w.app(t, "Bread Bakery", "food", "Fresh bread.", "bread")
	game := w.app(t, "Tap Dash", "games", "Tap the dots.", "game")
	op := w.operator.C
	post := func(path string, kv ...string) (*http.Response, string) {
		t.Helper()
		return w.p.PostForm(t, op, path, kv...)
	}

	food := w.channel(t, "food", "Food near you", "附近美食", coffee.ID, bakery.ID)
	games := w.channel(t, "games", "Games", "游戏", game.ID)
	if resp, body := post(games, "slug", "games", "title_en", "Games", "title_zh", "游戏", "games", "1"); resp.StatusCode != 303 {
		t.Fatalf("mark the games channel: %d %s", resp.StatusCode, body)
	}
	home := func() []string {
		t.Helper()
		var out []string
		views, err := w.p.Discovery.HomeChannels(w.ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			var ids []string
			for _, a := range v.Apps {
				ids = append(ids, a.AppID)
			}
			out = append(out, v.Slug+":"+strings.Join(ids, ","))
		}
		return out
	}
	want := func(what string, exp ...string) {
		t.Helper()
		if got := home(); strings.Join(got, " ") != strings.Join(exp, " ") {
			t.Errorf("%s: home channels %v, want %v", what, got, exp)
		}
	}
	want("at first", "food:"+coffee.ID+","+bakery.ID, "games:"+game.ID)

	// Order: the bakery up, the games channel first.
	post(food + "/apps/" + bakery.ID + "/promote")
	post(games+"/move", "position", "1")
	want("after promoting and moving", "games:"+game.ID, "food:"+bakery.ID+","+coffee.ID)
	post(games+"/move", "delta", "1")
	want("after moving down", "food:"+bakery.ID+","+coffee.ID, "games:"+game.ID)

	// Games switched off: the games channel and the game leave the home page.
	var pol map[string]any
	w.operator.Must(t, 200, "GET", "/api/v1/admin/policy", nil, &pol)
	pol["games_enabled"] = false
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)
	want("games not allowed", "food:"+bakery.ID+","+coffee.ID)
	pol["games_enabled"] = true
	w.operator.Must(t, 200, "PUT", "/api/v1/admin/policy", pol, nil)

	// A schedule that ended takes the coffee shop out of the channel.
	past := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")
	ended := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	if resp, body := post(food+"/apps", "app_id", coffee.ID, "starts_at", past, "ends_at", ended); resp.StatusCode != 303 {
		t.Fatalf("reschedule: %d %s", resp.StatusCode, body)
	}
	want("after its schedule ended", "food:"+bakery.ID, "games:"+game.ID)
	post(food + "/apps/" + coffee.ID + "/remove")
	if c, _ := w.p.Discovery.ListChannels(w.ctx); len(c[0].Entries) != 1 {
		t.Errorf("entries after removing: %+v", c[0].Entries)
	}

	// Refused forms say why, on the page, with the right status.
	for _, c := range []struct {
		path string
		kv   []string
		code int
		says string
	}{
		{"/admin/discovery/channels", []string{"slug", "food", "title_en", "Again", "title_zh", "再次"}, 409, "food"},
		{"/admin/discovery/channels", []string{"slug", "Bad Slug", "title_en", "X", "title_zh", "X"}, 400, "slug"},
		{"/admin/discovery/channels", []string{"slug", "later", "title_en", "Later", "title_zh", "稍后", "starts_at", "tomorrow"}, 400, "starts_at"},
		{food + "/apps", []string{"app_id", "mpnosuchapp12345"}, 404, "mpnosuchapp12345"},
		{"/admin/discovery/apps/" + bakery.ID + "/remove", []string{"reason", ""}, 400, "reason"},
	} {
		resp, body := post(c.path, c.kv...)
		if resp.StatusCode != c.code || !strings.Contains(body, c.says) || !strings.Contains(body, `class="error"`) {
			t.Errorf("POST %s %v: %d, want %d with an error naming %q", c.path, c.kv, resp.StatusCode, c.code, c.says)
		}
	}

	// Out of discovery and back.
	if resp, body := post("/admin/discovery/apps/"+bakery.ID+"/remove", "reason", "Sells counterfeit bread."); resp.StatusCode != 303 {
		t.Fatalf("remove: %d %s", resp.StatusCode, body)
	}
	if res, _ := w.p.Discovery.Search(w.ctx, discovery.SearchQuery{Text: "bread"}); len(res.Apps) != 0 {
		t.Errorf("search finds a removed app: %+v", res.Apps)
	}
	st, page := w.p.Get(t, op, "/admin/discovery")
	if st != 200 || !strings.Contains(page, "Sells counterfeit bread.") || !strings.Contains(page, `action="/admin/discovery/apps/`+bakery.ID+`/restore"`) {
		t.Errorf("the removed list: %d", st)
	}
	entries, err := audit.List(context.Background(), w.p.DB, audit.Filter{OrgID: w.orgID, AppID: bakery.ID})
	if err != nil || len(entries) == 0 || entries[0].Action != "discovery.remove" || !strings.Contains(entries[0].Detail, "counterfeit") {
		t.Errorf("the developers' audit log: %+v, %v", entries, err)
	}
	post("/admin/discovery/apps/" + bakery.ID + "/restore")
	if res, _ := w.p.Discovery.Search(w.ctx, discovery.SearchQuery{Text: "bread"}); len(res.Apps) != 1 {
		t.Errorf("search after restoring: %+v", res.Apps)
	}
	// Finding an app by name or ID.
	for _, q := range []string{"bread", bakery.ID} {
		if st, page := w.p.Get(t, op, "/admin/discovery?app="+q); st != 200 || !strings.Contains(page, `id="app-`+bakery.ID+`"`) {
			t.Errorf("find %q: %d", q, st)
		}
	}

	// Only operator admins.
	createReviewer(t, w.p, "rita@example.com", "reviewer-password-1")
	rev := w.p.Client()
	if resp, _ := w.p.PostForm(t, rev, "/signin", "email", "rita@example.com", "password", "reviewer-password-1"); resp.StatusCode != 303 {
		t.Fatal("reviewer sign-in failed")
	}
	for _, c := range []*http.Client{rev, w.dev.C} {
		if st, _ := w.p.Get(t, c, "/admin/discovery"); st != 403 {
			t.Errorf("GET /admin/discovery as a non-admin: %d", st)
		}
		if resp, _ := w.p.PostForm(t, c, "/admin/discovery/apps/"+coffee.ID+"/remove", "reason", "x"); resp.StatusCode != 403 {
			t.Errorf("removing as a non-admin: %d", resp.StatusCode)
		}
	}

	// Trending after a refresh, on the page.
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		id, _ := w.user(t, email)
		if _, err := w.p.Discovery.RecordLaunch(w.ctx, discovery.Launch{AccountID: id, AppID: coffee.ID, Scene: discovery.SceneLink}); err != nil {
			t.Fatal(err)
		}
	}
	post("/admin/discovery/refresh")
	if st, page := w.p.Get(t, op, "/admin/discovery"); st != 200 || !strings.Contains(page, `<tr data-app="`+coffee.ID+`"><td>1</td>`) {
		t.Errorf("trending on the page: %d", st)
	}

	// Every page fits a phone, in both languages.
	b := newBrowser(t, w.p.URL, testenv.BrowserOptions{Timeout: 3 * time.Minute})
	token, err := w.p.Accounts.CreateSession(w.ctx, operatorID(t, w))
	if err != nil {
		t.Fatal(err)
	}
	b.signIn(token)
	for _, p := range []string{"/admin/discovery", food, "/console/apps/" + coffee.ID + "/analytics"} {
		for _, lang := range []string{"en", "zh-Hans"} {
			b.run(chromedp.Navigate(w.p.URL + p + "?lang=" + lang))
			b.waitTop(`document.readyState === 'complete' && document.querySelector('main h1')`)
			var text string
			b.top(`document.querySelector('main').innerText`, &text)
			if lang == "zh-Hans" && !strings.ContainsAny(text, "频道流量数据") {
				t.Errorf("%s in Chinese shows no Chinese:\n%.300s", p, text)
			}
			b.fits(p + " (" + lang + ")")
		}
	}
}

// operatorID is the account id of the world's operator.
func operatorID(t *testing.T, w *discoWorld) int64 {
	t.Helper()
	a, err := w.p.Accounts.ByEmail(w.ctx, "op@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a.StaffRole != account.RoleAdmin {
		t.Fatalf("op@example.com is %q", a.StaffRole)
	}
	return a.ID
}
