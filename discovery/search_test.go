package discovery

import (
	"testing"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// searchApps is a small catalogue with Chinese and English names.
func searchApps(f *fixture) {
	for _, d := range []Doc{
		{AppID: "starbucks", Name: "星巴克咖啡", ShortName: "Starbucks", Keywords: []string{"coffee", "latte"}, Category: "food", MerchantName: "Starbucks China"},
		{AppID: "luckin", Name: "瑞幸咖啡", ShortName: "Luckin", Keywords: []string{"coffee"}, Category: "food", MerchantName: "Luckin Coffee"},
		{AppID: "metro", Name: "Shanghai Metro", ShortName: "地铁", Keywords: []string{"subway", "transport"}, Category: "transport", Description: "Tickets and QR codes for the metro."},
		{AppID: "bikes", Name: "City Bikes", Keywords: []string{"bicycle"}, Category: "transport", Description: "Rent a bike; pay per ride. Close to the coffee shop."},
		{AppID: "tea", Name: "喜茶 HEYTEA", Keywords: []string{"奶茶", "tea"}, Category: "food"},
		{AppID: "cafe", Name: "Café Crème", Keywords: []string{"pastry"}, Category: "food"},
		{AppID: "tetris", Name: "Block Puzzle", Keywords: []string{"game"}, Category: "games", Games: true},
		{AppID: "mcd", Name: "McDonald's", ShortName: "麦当劳", Keywords: []string{"burger"}, Category: "food"},
	} {
		f.index(d)
	}
}

func TestSearch(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		searchApps(f)
		cases := []struct {
			q         string
			want      []string // exact order
			corrected string
		}{
			{q: "咖啡", want: []string{"luckin", "starbucks"}},                      // substring of 星巴克咖啡, 瑞幸咖啡
			{q: "星巴克", want: []string{"starbucks"}},                               // prefix of a CJK name
			{q: "巴克咖", want: []string{"starbucks"}},                               // inside a CJK name
			{q: "克 咖", want: []string{"starbucks"}},                               // spaces between CJK are ignored
			{q: "茶", want: []string{"tea"}},                                       // one character, also inside 奶茶
			{q: "奶茶", want: []string{"tea"}},                                      // a keyword
			{q: "Starbucks", want: []string{"starbucks"}},                         // short name
			{q: "STARB", want: []string{"starbucks"}},                             // prefix, any case
			{q: "ＳＴＡＲＢＵＣＫＳ", want: []string{"starbucks"}},                         // full-width
			{q: "starbuks", want: []string{"starbucks"}, corrected: "starbucks"},  // one typo
			{q: "strabucks", want: []string{"starbucks"}, corrected: "starbucks"}, // transposition
			{q: "cofee", want: []string{"luckin", "starbucks", "bikes"}, corrected: "coffee"},
			{q: "coffee", want: []string{"luckin", "starbucks", "bikes"}}, // merchant+keyword before description
			{q: "metro tickets", want: []string{"metro"}},                 // every term must match
			{q: "地铁", want: []string{"metro"}},
			{q: "cafe", want: []string{"cafe"}},     // diacritics folded
			{q: "crème", want: []string{"cafe"}},    // and in the query
			{q: "mcdonalds", want: []string{"mcd"}}, // apostrophe dropped
			{q: "麦当劳", want: []string{"mcd"}},
			{q: "game", want: []string{"tetris"}},
			{q: "xyzzyq", want: nil},
			{q: "!!!", want: nil},
		}
		for _, c := range cases {
			res, err := f.svc.Search(f.ctx, SearchQuery{Text: c.q})
			if err != nil {
				t.Fatalf("search %q: %v", c.q, err)
			}
			if got := hitIDs(res); !eq(got, c.want) {
				t.Errorf("search %q = %v, want %v", c.q, got, c.want)
			}
			if res.Corrected != c.corrected {
				t.Errorf("search %q: corrected %q, want %q", c.q, res.Corrected, c.corrected)
			}
		}
	})
}

func TestSearchRanksByUsage(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.index(Doc{AppID: "coffee-a", Name: "Coffee House A"})
		f.index(Doc{AppID: "coffee-b", Name: "Coffee House B"})
		f.index(Doc{AppID: "coffee-c", Name: "Coffee House C"})
		f.index(Doc{AppID: "bakery", Name: "Bread Bakery", Keywords: []string{"coffee"}})
		u := f.account("u")
		res, _ := f.svc.Search(f.ctx, SearchQuery{Text: "coffee house"})
		if got := hitIDs(res); !eq(got, []string{"coffee-a", "coffee-b", "coffee-c"}) {
			t.Fatalf("before launches: %v", got)
		}
		for i := 0; i < 30; i++ {
			f.launch(u, "coffee-c", SceneSearch)
		}
		for i := 0; i < 5; i++ {
			f.launch(0, "coffee-b", SceneLink)
		}
		for i := 0; i < 1000; i++ {
			f.launch(0, "bakery", SceneLink) // popular, but coffee is only a keyword
		}
		res, err := f.svc.Search(f.ctx, SearchQuery{Text: "coffee"})
		if err != nil {
			t.Fatal(err)
		}
		if got := hitIDs(res); !eq(got, []string{"coffee-c", "coffee-b", "coffee-a", "bakery"}) {
			t.Fatalf("ranked by usage within equal relevance: %v", got)
		}
		if res.Apps[0].Launches != 30 {
			t.Errorf("launches = %d, want 30", res.Apps[0].Launches)
		}
		// Pages.
		p1, _ := f.svc.Search(f.ctx, SearchQuery{Text: "coffee", Limit: 3})
		p2, _ := f.svc.Search(f.ctx, SearchQuery{Text: "coffee", Limit: 3, Offset: 3})
		if !p1.More || p2.More || !eq(append(hitIDs(p1), hitIDs(p2)...), hitIDs(res)) {
			t.Errorf("pages %v (more %v) + %v (more %v)", hitIDs(p1), p1.More, hitIDs(p2), p2.More)
		}
		// An exact name (unused) beats a more used partial match.
		f.index(Doc{AppID: "coffee", Name: "Coffee"})
		res, _ = f.svc.Search(f.ctx, SearchQuery{Text: "coffee"})
		if got := hitIDs(res); got[0] != "coffee" {
			t.Errorf("exact name not first: %v", got)
		}
		// With many matches, candidates are the most launched ones, found
		// through popularity tiers that RecordLaunch keeps up to date.
		f.svc.searchPass = 2
		res, _ = f.svc.Search(f.ctx, SearchQuery{Text: "coffee"})
		if got := hitIDs(res); !eq(got, []string{"coffee-c", "coffee-b", "bakery"}) {
			t.Errorf("tiered candidates: %v", got)
		}
		// Launch counts changed behind the service's back (an import) are
		// re-tiered by Refresh.
		if _, err := db.Exec(f.ctx, `UPDATE discovery_apps SET launches = 5000 WHERE app_id = 'coffee-a'`); err != nil {
			t.Fatal(err)
		}
		res, _ = f.svc.Search(f.ctx, SearchQuery{Text: "coffee"})
		if got := hitIDs(res); eq(got[:1], []string{"coffee-a"}) {
			t.Errorf("coffee-a found before its tier was refreshed: %v", got)
		}
		if err := f.svc.Refresh(f.ctx); err != nil {
			t.Fatal(err)
		}
		res, _ = f.svc.Search(f.ctx, SearchQuery{Text: "coffee"})
		if got := hitIDs(res); !eq(got, []string{"coffee-a", "coffee-c", "bakery"}) { // "coffee" is unused: tier 0
			t.Errorf("after refresh: %v", got)
		}
		f.svc.searchPass = searchPass

	})
}

func TestSuggest(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		searchApps(f)
		for i := 0; i < 3; i++ {
			f.launch(0, "starbucks", SceneSearch)
		}
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"st", []string{"starbucks"}},
			{"sh", []string{"metro", "bikes"}}, // "coffee shop" in the bikes' description
			{"星", []string{"starbucks"}},
			{"星巴", []string{"starbucks"}},
			{"co", []string{"starbucks", "luckin", "metro", "bikes"}}, // launches first among equal matches
			{"s", nil},                    // one letter alone is not a prefix
			{"city b", []string{"bikes"}}, // but the last word while typing is
			{"  ", nil},
		} {
			got, err := f.svc.Suggest(f.ctx, c.prefix, 0)
			if err != nil {
				t.Fatalf("suggest %q: %v", c.prefix, err)
			}
			if !eq(cardIDs(got), c.want) {
				t.Errorf("suggest %q = %v, want %v", c.prefix, cardIDs(got), c.want)
			}
		}
	})
}

func TestSearchVisibility(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		searchApps(f)
		find := func(q string) []string {
			t.Helper()
			res, err := f.svc.Search(f.ctx, SearchQuery{Text: q})
			if err != nil {
				t.Fatal(err)
			}
			return hitIDs(res)
		}
		// Games policy.
		f.games = false
		if got := find("puzzle"); len(got) != 0 {
			t.Errorf("games disallowed, found %v", got)
		}
		f.games = true
		if got := find("puzzle"); !eq(got, []string{"tetris"}) {
			t.Errorf("games allowed, found %v", got)
		}
		// Operator removal and restore.
		if err := f.svc.RemoveFromDiscovery(f.ctx, "luckin", "counterfeit"); err != nil {
			t.Fatal(err)
		}
		if got := find("咖啡"); !eq(got, []string{"starbucks"}) {
			t.Errorf("after removal: %v", got)
		}
		if got := find("luckin"); len(got) != 0 {
			t.Errorf("removed app still found by its own name: %v", got)
		}
		// Re-indexing does not undo the operator's removal.
		f.svc.IndexApp(f.ctx, Doc{AppID: "luckin", OrgID: f.org, Name: "瑞幸咖啡 Luckin"})
		if got := find("咖啡"); !eq(got, []string{"starbucks"}) {
			t.Errorf("after re-index of removed app: %v", got)
		}
		st, _ := f.svc.Status(f.ctx, "luckin")
		if !st.Removed || st.RemovedReason != "counterfeit" {
			t.Errorf("status %+v", st)
		}
		if err := f.svc.RestoreToDiscovery(f.ctx, "luckin"); err != nil {
			t.Fatal(err)
		}
		if got := find("咖啡"); !eq(got, []string{"luckin", "starbucks"}) {
			t.Errorf("after restore: %v", got)
		}
		// Unpublished, then published again with a new name: old words go.
		if err := f.svc.RemoveApp(f.ctx, "metro"); err != nil {
			t.Fatal(err)
		}
		if got := find("metro"); len(got) != 0 {
			t.Errorf("unlisted app found: %v", got)
		}
		if got := find("metor"); len(got) != 0 {
			t.Errorf("typo of an unlisted app found: %v", got)
		}
		f.svc.IndexApp(f.ctx, Doc{AppID: "metro", OrgID: f.org, Name: "Shanghai Subway"})
		if got := find("subway"); !eq(got, []string{"metro"}) {
			t.Errorf("relisted: %v", got)
		}
		if got := find("tickets"); len(got) != 0 {
			t.Errorf("old description still indexed: %v", got)
		}
		if got := find("subwya"); !eq(got, []string{"metro"}) {
			t.Errorf("typo of the new name: %v", got)
		}
		var n int
		db.QueryRow(f.ctx, `SELECT COUNT(*) FROM discovery_terms WHERE term IN ('tickets', 'codes')`).Scan(&n)
		if n != 0 {
			t.Errorf("vocabulary keeps %d words no document has", n)
		}
		db.QueryRow(f.ctx, `SELECT docs FROM discovery_terms WHERE term = 'coffee'`).Scan(&n)
		if n != 2 { // starbucks, bikes (luckin came back without it)
			t.Errorf("coffee in %d documents, want 2", n)
		}
	})
}

func TestDeletedAppLeavesNoTokens(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.index(Doc{AppID: "kept", Name: "Kept"})
		f.index(Doc{AppID: "gone", Name: "Vanished Bakery"})
		if _, err := db.Exec(f.ctx, `DELETE FROM apps WHERE id = 'gone'`); err != nil {
			t.Fatal(err)
		}
		f.index(Doc{AppID: "next", Name: "Next"}) // may reuse the deleted document's id
		for _, q := range []string{"vanished", "bakery"} {
			res, err := f.svc.Search(f.ctx, SearchQuery{Text: q})
			if err != nil || len(res.Apps) != 0 {
				t.Errorf("search %q after deleting the app: %v %v", q, hitIDs(res), err)
			}
		}
		res, _ := f.svc.Search(f.ctx, SearchQuery{Text: "next"})
		if !eq(hitIDs(res), []string{"next"}) {
			t.Errorf("search next: %v", hitIDs(res))
		}
	})
}

func TestIndexAppErrors(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.app("ok")
		long := string(make([]rune, 65))
		for _, c := range []struct {
			d    Doc
			code string
		}{
			{Doc{AppID: "", Name: "x"}, openmini.EINVALID},
			{Doc{AppID: "ok", Name: " "}, openmini.EINVALID},
			{Doc{AppID: "ok", Name: long}, openmini.ETOOLARGE},
			{Doc{AppID: "ok", Name: "x", IconURL: "javascript:alert(1)"}, openmini.EINVALID},
			{Doc{AppID: "ok", Name: "x", Keywords: []string{"a,b"}}, openmini.EINVALID},
			{Doc{AppID: "ok", Name: "x", Location: &Point{Lat: 91_000_000}}, openmini.EINVALID},
			{Doc{AppID: "ghost", Name: "x"}, openmini.ENOTFOUND},
		} {
			wantCode(t, f.svc.IndexApp(f.ctx, c.d), c.code)
		}
		wantCode(t, f.svc.IndexApps(f.ctx, []Doc{{AppID: "ok", Name: "a"}, {AppID: "ok", Name: "b"}}), openmini.EINVALID)
		_, err := f.svc.Search(f.ctx, SearchQuery{Text: ""})
		wantCode(t, err, openmini.EINVALID)
		_, err = f.svc.Search(f.ctx, SearchQuery{Text: string(make([]rune, 101))})
		wantCode(t, err, openmini.ETOOLARGE)
		_, err = f.svc.Search(f.ctx, SearchQuery{Text: "x", Limit: 51})
		wantCode(t, err, openmini.ETOOLARGE)
		wantCode(t, f.svc.RemoveFromDiscovery(f.ctx, "ok", ""), openmini.ENOTFOUND)
		if err := f.svc.RemoveApp(f.ctx, "ok"); err != nil {
			t.Errorf("removing an app never indexed: %v", err)
		}
		// Nothing half-written: the failed batch left no document.
		var n int
		db.QueryRow(f.ctx, `SELECT COUNT(*) FROM discovery_apps`).Scan(&n)
		if n != 0 {
			t.Errorf("%d documents after failed calls", n)
		}
	})
}
