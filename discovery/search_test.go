package discovery

import (
	"testing"

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
