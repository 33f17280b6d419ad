package discovery

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIndexTokens(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"星巴克咖啡", "星巴 巴克 克咖 咖啡 啡"},
		{"星巴克 咖啡", "星巴 巴克 克咖 咖啡 啡"}, // spaces between CJK ignored
		{"KFC肯德基", "kfc 肯德 德基 基"},
		{"McDonald's Café", "mcdonalds cafe"},
		{"ＳＴＡＲＢＵＣＫＳ 7-Eleven", "starbucks 7 eleven"},
		{"茶", "茶"},
		{"すき家 Sukiya", "すき き家 家 sukiya"},
		{"ｶﾞｽﾄ ガスト", "ガス スト トガ ガス スト ト"}, // half-width kana; voicing kept
		{"Ärger ÉCOLE", "arger ecole"},
		{"  --  ", ""},
	} {
		if got := strings.Join(indexTokens(c.in, 0), " "); got != c.want {
			t.Errorf("indexTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	q := parseQuery("Star 咖啡 b 咖啡", false)
	if len(q) != 3 || !q[0].prefix || q[0].text != "star" || !q[1].cjk || q[2].prefix {
		t.Errorf("%+v", q)
	}
	if q := parseQuery("city b", true); !q[1].prefix {
		t.Errorf("last word while typing: %+v", q)
	}
	if q := parseQuery("b", true); q[0].prefix {
		t.Errorf("a lone letter: %+v", q)
	}
	if q := parseQuery(strings.Repeat("a b c d e f g h i j ", 3), false); len(q) != maxQueryTerms {
		t.Errorf("%d terms", len(q))
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		max  int
		want int
	}{
		{"starbuks", "starbucks", 2, 1},
		{"strabucks", "starbucks", 2, 1}, // transposition
		{"cofee", "coffee", 1, 1},
		{"coffee", "coffee", 1, 0},
		{"tea", "coffee", 2, 3},
		{"咖啡", "咖哩", 1, 1},
	} {
		if got := editDistance(c.a, c.b, c.max); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.max, got, c.want)
		}
	}
}

func TestQueryLiterals(t *testing.T) {
	terms := []qterm{{text: "star", prefix: true}, {text: "星巴克", cjk: true}, {text: "茶", cjk: true}, {text: "cofee", alts: []string{"coffee", "toffee"}}, {text: "x"}}
	if got, want := fts5Expr(terms, true), `name : ("star"* AND "星巴 巴克" AND "茶"* AND ("coffee" OR "toffee") AND "x")`; got != want {
		t.Errorf("fts5: %s\nwant %s", got, want)
	}
	if got, want := tsqueryLiteral(terms, 0), strings.ReplaceAll(`'#star':* & ( '#星巴' <-> '#巴克' ) & '#茶':* & ( '#coffee' | '#toffee' ) & '#x'`, "#", "\ue000"); got != want {
		t.Errorf("tsquery: %s\nwant %s", got, want)
	}
	doc := indexedDoc{Name: []string{"a", "b"}, Tags: []string{"a"}, Body: []string{"it's"}, Tier: 3}
	if got, want := tsvectorLiteral(doc, doc.Name, doc.Tags, doc.Body), "'\ue003a':1A,5B '\ue003b':2A '\ue003it''s':8D"; got != want {
		t.Errorf("tsvector: %s, want %s", got, want)
	}
}

func TestDistanceAndCells(t *testing.T) {
	p := Degrees(31.2304, 121.4737)
	q := Point{Lat: p.Lat + 9000, Lng: p.Lng} // 0.009 degrees north
	if d := distanceM(p, q); d < 995 || d > 1005 {
		t.Errorf("distance %f m, want about 1000", d)
	}
	cells := map[int64]bool{}
	for _, c := range nearbyCells(p, 2000) {
		cells[c] = true
	}
	for _, pt := range []Point{q, {Lat: p.Lat - 17000, Lng: p.Lng + 20000}} {
		if distanceM(p, pt) <= 2000 && !cells[geoCell(pt.Lat, pt.Lng)] {
			t.Errorf("point %v within 2 km is outside the searched cells", pt)
		}
	}
	// Across the antimeridian.
	a, b := Degrees(0, 179.999), Degrees(0, -179.999)
	found := false
	for _, c := range nearbyCells(a, 1000) {
		found = found || c == geoCell(b.Lat, b.Lng)
	}
	if !found || distanceM(a, b) > 300 {
		t.Errorf("antimeridian: found %v, distance %f", found, distanceM(a, b))
	}
}

// FuzzQuery feeds arbitrary search input through the tokenizer and both
// engines' query builders: they must not panic, and every term must be
// non-empty, valid UTF-8 and free of characters the engines' syntaxes use.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"星巴克咖啡", "starbuks", `"a" OR b*`, "it's", "a:b & c | !d", "ＡＢＣ", "\x00\xff", "咖 啡", "NEAR(a b)"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, typing bool) {
		terms := parseQuery(s, typing)
		if len(terms) > maxQueryTerms {
			t.Fatalf("%d terms", len(terms))
		}
		for _, term := range terms {
			if term.text == "" || !utf8.ValidString(term.text) || strings.ContainsAny(term.text, "\"'*:&|!() \t\n") {
				t.Fatalf("bad term %q from %q", term.text, s)
			}
		}
		fts5Expr(terms, true)
		tsqueryLiteral(terms, 1)
	})
}

// FuzzCursor checks that any cursor string is either rejected with a
// clear error or decoded, never a panic.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(1700000000000, "app"))
	f.Add("djEuMTIz")
	f.Add("")
	f.Fuzz(func(t *testing.T, c string) {
		at, app, err := decodeCursor(c)
		if err == nil && (app == "" || encodeCursor(at, app) == "") {
			t.Fatalf("decoded %q to %d %q", c, at, app)
		}
	})
}
