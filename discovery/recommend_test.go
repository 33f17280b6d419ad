package discovery

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// recByApp indexes recommendations by app.
func recByApp(recs []Recommendation) map[string]Reason {
	out := map[string]Reason{}
	for _, r := range recs {
		out[r.AppID] = r.Reason
	}
	return out
}

func TestRecommendations(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		var beanOrg int64
		if err := db.QueryRow(f.ctx, `INSERT INTO orgs (slug, name, created_at) VALUES ('bean', 'Bean Co', 0) RETURNING id`).Scan(&beanOrg); err != nil {
			t.Fatal(err)
		}
		home := Degrees(31.2304, 121.4737) // the user's position
		for _, d := range []Doc{
			{AppID: "coffee", Name: "Bean Coffee", Category: "food", MerchantName: "Bean Co", OrgID: beanOrg},
			{AppID: "beanclub", Name: "Bean Club", Category: "membership", MerchantName: "Bean Co", OrgID: beanOrg},
			{AppID: "bakery", Name: "Bakery", Category: "food"},
			{AppID: "dimsum", Name: "Dim Sum", Category: "food"},
			{AppID: "metro", Name: "Metro", Category: "transport"},
			{AppID: "bikes", Name: "Bikes", Category: "transport"},
			{AppID: "cinema", Name: "Cinema", Category: "entertainment"},
			{AppID: "noodles", Name: "Noodle Bar", Category: "restaurant", Location: &Point{Lat: home.Lat + 4500, Lng: home.Lng}}, // ~500 m north
			{AppID: "hotel", Name: "Far Hotel", Category: "hotel", Location: &Point{Lat: home.Lat + 90_000, Lng: home.Lng}},       // ~10 km
			{AppID: "arcade", Name: "Arcade", Category: "games", Games: true},
		} {
			f.index(d)
		}
		// Other people's usage, three weeks ago: one crowd uses coffee with
		// bakery, another metro with bikes; everyone plays arcade.
		f.clock.Set(t0.Add(-20 * 24 * time.Hour))
		var crowd []int64
		for i := 0; i < 16; i++ {
			c := f.account(fmt.Sprintf("crowd%d", i))
			crowd = append(crowd, c)
			if i < 8 {
				f.launch(c, "coffee", SceneSearch)
				f.launch(c, "bakery", SceneSearch)
			} else {
				f.launch(c, "metro", SceneQR)
				f.launch(c, "bikes", SceneQR)
			}
			f.launch(c, "arcade", SceneSearch)
		}
		// Cinema is new and trending: ten new people in the last three days.
		f.clock.Set(t0.Add(-24 * time.Hour))
		for i := 0; i < 10; i++ {
			f.launch(f.account(fmt.Sprintf("fan%d", i)), "cinema", SceneShare)
		}
		// The user: coffee every morning for a week, metro once, and a
		// payment at the coffee shop.
		u := f.account("u")
		for d := 7; d >= 1; d-- {
			f.clock.Set(t0.Add(-time.Duration(d) * 24 * time.Hour).Add(-time.Hour)) // 08:00
			f.launch(u, "coffee", SceneRecent)
		}
		f.clock.Set(t0.Add(-2 * time.Hour))
		f.launch(u, "metro", SceneQR)
		if err := f.svc.RecordPayment(f.ctx, u, "coffee", "food", 3200, t0.Add(-2*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(t0)
		if err := f.svc.Refresh(f.ctx); err != nil {
			t.Fatal(err)
		}

		recs, err := f.svc.Recommend(f.ctx, RecommendRequest{AccountID: u, At: t0, Location: &home, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		got := recByApp(recs)
		t.Logf("recommendations: %+v", recs)
		check := func(app string, want Reason) {
			t.Helper()
			r, ok := got[app]
			if !ok {
				t.Errorf("%s not recommended", app)
				return
			}
			if r != want {
				t.Errorf("%s: reason %+v, want %+v", app, r, want)
			}
		}
		check("coffee", Reason{Kind: ReasonTimeOfDay, DayPart: "morning", Count: 7})
		check("bakery", Reason{Kind: ReasonAlsoUsed, AppID: "coffee", AppName: "Bean Coffee"})
		check("bikes", Reason{Kind: ReasonAlsoUsed, AppID: "metro", AppName: "Metro"})
		check("beanclub", Reason{Kind: ReasonMerchant, AppID: "coffee", AppName: "Bean Coffee", Merchant: "Bean Co"})
		check("dimsum", Reason{Kind: ReasonSpending, Category: "food", Count: 1})
		check("cinema", Reason{Kind: ReasonTrending, Rank: 1, Count: 10})
		if r := got["noodles"]; r.Kind != ReasonNearby || r.DistanceM < 480 || r.DistanceM > 520 {
			t.Errorf("noodles: %+v, want nearby about 500 m", r)
		}
		if _, ok := got["hotel"]; ok {
			t.Error("a hotel 10 km away recommended as nearby")
		}
		if _, ok := got["arcade"]; !ok {
			t.Error("arcade (popular) missing while games are allowed")
		}
		if recs[0].AppID != "coffee" {
			t.Errorf("the morning habit is not first: %v", recs[0])
		}
		if got["coffee"].Text("en") != "You often use it in the morning" || got["coffee"].Text("zh-CN") != "你常在早上使用" {
			t.Errorf("texts: %q %q", got["coffee"].Text("en"), got["coffee"].Text("zh-CN"))
		}
		if s := got["bakery"].Text("zh"); !strings.Contains(s, "Bean Coffee") {
			t.Errorf("also-used text %q does not name the app", s)
		}
		if s := got["noodles"].Text("en"); s != "500 m away" {
			t.Errorf("nearby text %q", s)
		}

		// In the evening the coffee habit gives way to "frequent".
		evening := time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC)
		recs, _ = f.svc.Recommend(f.ctx, RecommendRequest{AccountID: u, At: evening, Limit: 20})
		if r := recByApp(recs)["coffee"]; r.Kind != ReasonFrequent || r.Count != 7 {
			t.Errorf("evening coffee: %+v", r)
		}

		// Games disallowed: no arcade.
		f.games = false
		recs, _ = f.svc.Recommend(f.ctx, RecommendRequest{AccountID: u, Limit: 50})
		if _, ok := recByApp(recs)["arcade"]; ok {
			t.Error("arcade recommended with games disallowed")
		}
		f.games = true

		// Hiding bakery keeps it hidden, through more usage and refreshes.
		if err := f.svc.HideRecommendation(f.ctx, u, "bakery"); err != nil {
			t.Fatal(err)
		}
		f.launch(crowd[1], "bakery", SceneSearch)
		f.svc.Refresh(f.ctx)
		for _, req := range []RecommendRequest{{AccountID: u, Limit: 50}, {AccountID: u, At: t0, Location: &home, Limit: 50}} {
			recs, _ = f.svc.Recommend(f.ctx, req)
			if _, ok := recByApp(recs)["bakery"]; ok {
				t.Errorf("hidden bakery recommended (%+v)", req)
			}
		}
		hidden, _ := f.svc.HiddenRecommendations(f.ctx, u)
		if !eq(cardIDs(hidden), []string{"bakery"}) {
			t.Errorf("hidden list %v", cardIDs(hidden))
		}
		f.svc.UnhideRecommendation(f.ctx, u, "bakery")
		recs, _ = f.svc.Recommend(f.ctx, RecommendRequest{AccountID: u, Limit: 50})
		if _, ok := recByApp(recs)["bakery"]; !ok {
			t.Error("unhidden bakery not recommended")
		}

		// Removed apps are never recommended.
		f.svc.RemoveFromDiscovery(f.ctx, "cinema", "")
		recs, _ = f.svc.Recommend(f.ctx, RecommendRequest{AccountID: u, Limit: 50})
		if _, ok := recByApp(recs)["cinema"]; ok {
			t.Error("removed cinema recommended")
		}
		f.svc.RestoreToDiscovery(f.ctx, "cinema")

		// A new user gets popular, trending and nearby apps.
		n := f.account("new")
		recs, err = f.svc.Recommend(f.ctx, RecommendRequest{AccountID: n, Location: &home, Limit: 6})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[ReasonKind]int{}
		for _, r := range recs {
			kinds[r.Reason.Kind]++
		}
		if len(recs) != 6 || kinds[ReasonPopular] == 0 || kinds[ReasonNearby] != 1 || kinds[ReasonTrending] == 0 {
			t.Errorf("new user: %+v", recs)
		}
		if r := recByApp(recs)["arcade"]; r.Kind != ReasonPopular || r.Count != 16 {
			t.Errorf("new user, arcade: %+v (16 launches)", r)
		}
		// So does someone not signed in.
		anon, err := f.svc.Recommend(f.ctx, RecommendRequest{Limit: 6})
		if err != nil || len(anon) == 0 {
			t.Errorf("anonymous: %v %v", anon, err)
		}

		// Errors.
		_, err = f.svc.Recommend(f.ctx, RecommendRequest{AccountID: u, Limit: 51})
		wantCode(t, err, openmini.ETOOLARGE)
		_, err = f.svc.Recommend(f.ctx, RecommendRequest{Location: &Point{Lat: 100_000_000}})
		wantCode(t, err, openmini.EINVALID)
		wantCode(t, f.svc.HideRecommendation(f.ctx, u, "ghost"), openmini.ENOTFOUND)

		// The operator's trending list.
		tr, err := f.svc.Trending(f.ctx, 5)
		if err != nil || len(tr) == 0 || tr[0].AppID != "cinema" || tr[0].Users != 10 || tr[0].PrevUsers != 0 {
			t.Errorf("trending: %+v %v", tr, err)
		}
	})
}

func TestReasonTexts(t *testing.T) {
	for _, r := range []Reason{
		{Kind: ReasonTimeOfDay, DayPart: "night", Count: 4},
		{Kind: ReasonFrequent, Count: 9},
		{Kind: ReasonAlsoUsed, AppID: "a", AppName: "星巴克"},
		{Kind: ReasonSpending, Category: "food", Count: 3},
		{Kind: ReasonMerchant, AppID: "a", AppName: "A", Merchant: "M"},
		{Kind: ReasonMerchant, AppID: "a", AppName: "A"},
		{Kind: ReasonNearby, DistanceM: 1234},
		{Kind: ReasonTrending, Rank: 2},
		{Kind: ReasonPopular, Count: 100},
	} {
		en, zh := r.Text("en"), r.Text("zh")
		if en == "" || zh == "" || en == zh || en == "Recommended" || zh == "为你推荐" {
			t.Errorf("%+v: en %q zh %q", r, en, zh)
		}
	}
	if got := (Reason{Kind: ReasonNearby, DistanceM: 1234}).Text("zh"); got != "距你1.2公里" {
		t.Errorf("zh distance %q", got)
	}
}
