package discovery

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

func TestAnalytics(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.index(Doc{AppID: "shop", Name: "Shop"})
		f.index(Doc{AppID: "other", Name: "Other"})
		cst := time.FixedZone("CST", 8*3600)
		day := func(d, h, m int) time.Time { return time.Date(2026, 3, 2+d, h, m, 0, 0, cst) }
		u1, u2, u3, u4, u5 := f.account("u1"), f.account("u2"), f.account("u3"), f.account("u4"), f.account("u5")
		f.clock.Set(day(30, 0, 0))
		launch := func(acct int64, scene Scene, at time.Time, slug string) int64 {
			t.Helper()
			id, err := f.svc.RecordLaunch(f.ctx, Launch{AccountID: acct, AppID: "shop", Scene: scene, At: at, QRSlug: slug})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		pay := func(acct int64, amount int64, cur string, at time.Time) {
			t.Helper()
			if err := f.svc.RecordPaymentTx(f.ctx, db, Payment{AccountID: acct, AppID: "shop", Amount: amount, Currency: cur, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		scan := func(acct int64, at time.Time) {
			t.Helper()
			if err := f.svc.RecordScan(f.ctx, Scan{AppID: "shop", QRSlug: "table-1", AccountID: acct, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		launch(u4, SceneSearch, day(-10, 12, 0), "") // u4 is not new on day 0
		// Day 0 (2026-03-02 in UTC+8).
		l1 := launch(u1, SceneQR, day(0, 10, 0), "table-1")
		l2 := launch(u2, SceneSearch, day(0, 11, 0), "")
		launch(u2, SceneRecent, day(0, 15, 0), "")
		launch(0, SceneLink, day(0, 12, 0), "")
		launch(u4, SceneShare, day(0, 1, 0), "") // 2026-03-01 17:00 UTC, still day 0 here
		f.svc.RecordSession(f.ctx, Session{LaunchID: l1, AccountID: u1, Foreground: 40 * time.Second})
		f.svc.RecordSession(f.ctx, Session{LaunchID: l1, AccountID: u1, Foreground: 20 * time.Second}) // show/hide again
		f.svc.RecordSession(f.ctx, Session{LaunchID: l2, AccountID: u2, Foreground: 30 * time.Second})
		scan(u3, day(0, 12, 30))
		scan(0, day(0, 13, 0))
		pay(u1, 1500, "", day(0, 10, 30))
		pay(u2, 800, "", day(0, 16, 0))
		// Day 1.
		launch(u1, SceneRecent, day(1, 9, 0), "")
		launch(u5, SceneChannel, day(1, 20, 0), "")
		pay(u3, 500, "", day(1, 11, 0)) // within 24 hours of u3's scan
		pay(u5, 2000, "USD", day(1, 21, 0))
		// Day 7 and 8: returning users.
		launch(u2, SceneRecent, day(7, 9, 0), "")
		launch(u5, SceneRecent, day(8, 9, 0), "")
		// Another app's events never count.
		f.svc.RecordLaunch(f.ctx, Launch{AccountID: u1, AppID: "other", Scene: SceneQR, At: day(0, 10, 0), QRSlug: "table-1"})
		f.svc.RecordPayment(f.ctx, u1, "other", "", 99, day(0, 10, 0))

		r, err := f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "shop", From: day(0, 0, 0), To: day(2, 0, 0), Location: cst})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Days) != 3 || r.From != "2026-03-02" || r.To != "2026-03-04" {
			t.Fatalf("days %d, %s..%s", len(r.Days), r.From, r.To)
		}
		d0, d1, d2 := r.Days[0], r.Days[1], r.Days[2]
		checkInt := func(name string, got, want int64) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		checkRate := func(name string, got *float64, want float64) {
			t.Helper()
			if want < 0 {
				if got != nil {
					t.Errorf("%s = %v, want null", name, *got)
				}
				return
			}
			if got == nil || math.Abs(*got-want) > 1e-9 {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		checkInt("d0 launches", d0.Launches, 5)
		checkInt("d0 anonymous", d0.AnonymousLaunches, 1)
		checkInt("d0 unique users", d0.UniqueUsers, 3)
		checkInt("d0 new users", d0.NewUsers, 2)
		for sc, n := range map[Scene]int64{SceneQR: 1, SceneSearch: 1, SceneRecent: 1, SceneLink: 1, SceneShare: 1, SceneChannel: 0} {
			checkInt("d0 scene "+string(sc), d0.Scenes[sc], n)
		}
		checkInt("d0 avg session ms", d0.AvgSessionMs, 45000)
		checkInt("d0 session launches", d0.SessionLaunches, 2)
		checkInt("d0 payments", d0.Payments, 2)
		checkInt("d0 amount", d0.PaymentAmount, 2300)
		checkInt("d0 scans", d0.Scans, 2)
		checkInt("d0 qr launches", d0.QRLaunches, 1)
		checkInt("d0 scanners", d0.Scanners, 2)
		checkInt("d0 scan payers", d0.ScanPayers, 2)
		checkRate("d0 conversion", d0.Conversion, 1)
		checkInt("d0 day1 retained", d0.Day1Retained, 1)
		checkRate("d0 day1 rate", d0.Day1Rate, 0.5)
		checkInt("d0 day7 retained", d0.Day7Retained, 1)
		checkRate("d0 day7 rate", d0.Day7Rate, 0.5)

		checkInt("d1 launches", d1.Launches, 2)
		checkInt("d1 new users", d1.NewUsers, 1)
		checkInt("d1 payments", d1.Payments, 2)
		checkInt("d1 amount", d1.PaymentAmount, 500)
		checkRate("d1 conversion", d1.Conversion, -1)
		checkRate("d1 day1 rate", d1.Day1Rate, 0)
		checkRate("d1 day7 rate", d1.Day7Rate, 1)
		checkInt("d2 launches", d2.Launches, 0)
		checkRate("d2 day1 rate", d2.Day1Rate, -1)

		tot := r.Totals
		checkInt("launches", tot.Launches, 7)
		checkInt("unique users", tot.UniqueUsers, 4)
		checkInt("new users", tot.NewUsers, 3)
		checkInt("payments", tot.Payments, 4)
		checkInt("amount", tot.PaymentAmount, 2800)
		checkInt("other currency", tot.OtherCurrencyPayments, 1)
		checkInt("scanners", tot.Scanners, 2)
		checkRate("day1", tot.Day1Rate, 1.0/3)
		checkRate("day7", tot.Day7Rate, 2.0/3)
		checkRate("conversion", tot.Conversion, 1)
		if len(r.QRCodes) != 1 || r.QRCodes[0] != (QRStats{Slug: "table-1", Scans: 2, Launches: 1, Scanners: 2, Payers: 2}) {
			t.Errorf("qr codes %+v", r.QRCodes)
		}

		// The same days in UTC: the 01:00 launch falls on March 1st.
		utc, _ := f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "shop", From: day(0, 12, 0), To: day(0, 12, 0)})
		checkInt("utc d0 launches", utc.Days[0].Launches, 4)

		// Retention is unknown until the later day is over.
		f.clock.Set(day(1, 12, 0))
		early, _ := f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "shop", From: day(0, 0, 0), To: day(0, 0, 0), Location: cst})
		checkRate("day1 before day 1 ends", early.Days[0].Day1Rate, -1)
		f.clock.Set(day(2, 0, 1))
		early, _ = f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "shop", From: day(0, 0, 0), To: day(0, 0, 0), Location: cst})
		checkRate("day1 after day 1", early.Days[0].Day1Rate, 0.5)
		checkRate("day7 before day 7", early.Days[0].Day7Rate, -1)

		// CSV.
		var buf bytes.Buffer
		if err := r.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 4 {
			t.Fatalf("%d CSV rows", len(recs))
		}
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = recs[1][i]
		}
		for k, v := range map[string]string{"day": "2026-03-02", "launches": "5", "new_users": "2", "avg_session_seconds": "45.0",
			"scene_qr": "1", "day1_rate": "0.5000", "payment_amount_minor": "2300", "conversion": "1.0000"} {
			if row[k] != v {
				t.Errorf("CSV %s = %q, want %q", k, row[k], v)
			}
		}
		if recs[3][len(recs[3])-1] != "" {
			t.Errorf("CSV conversion without scanners = %q, want empty", recs[3][len(recs[3])-1])
		}

		// SVG charts.
		c, err := r.Chart(BarChart, "launches")
		if err != nil {
			t.Fatal(err)
		}
		svg := c.SVG()
		if n := checkSVG(t, svg); n != 2 { // day 0 and day 1 have launches
			t.Errorf("%d bars, want 2", n)
		}
		c, _ = r.Chart(LineChart, "scenes")
		if len(c.Series) != 6 { // qr, search, channel, share, recent, link
			t.Errorf("scene series %d", len(c.Series))
		}
		checkSVG(t, c.SVG())
		_, err = r.Chart(LineChart, "profit")
		wantCode(t, err, openmini.EINVALID)

		// Errors.
		_, err = f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "shop", From: day(2, 0, 0), To: day(0, 0, 0)})
		wantCode(t, err, openmini.EINVALID)
		_, err = f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "shop", From: day(0, 0, 0), To: day(400, 0, 0)})
		wantCode(t, err, openmini.ETOOLARGE)
		_, err = f.svc.Analytics(f.ctx, AnalyticsQuery{AppID: "nope", From: day(0, 0, 0), To: day(0, 0, 0)})
		wantCode(t, err, openmini.ENOTFOUND)
	})
}

// checkSVG parses an SVG document and returns its number of data bars.
func checkSVG(t *testing.T, svg []byte) int {
	t.Helper()
	if bytes.Contains(bytes.ToLower(svg), []byte("<script")) {
		t.Error("script in SVG")
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	bars, root := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "rect" {
				for _, a := range se.Attr {
					if a.Name.Local == "fill" && a.Value == palette[0] {
						bars++
					}
				}
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element %q", root)
	}
	return bars
}

func TestChartEscapesText(t *testing.T) {
	c := Chart{Title: `a<b & "咖啡"`, Kind: BarChart, Labels: []string{"</svg>", "x"},
		Series: []Series{{Name: "s<1>", Values: []float64{3, math.NaN()}}, {Name: "s2", Values: []float64{1e7, 0}}}}
	svg := c.SVG()
	checkSVG(t, svg)
	if !strings.Contains(string(svg), "a&lt;b &amp; &#34;咖啡&#34;") {
		t.Errorf("title not escaped: %s", svg)
	}
	checkSVG(t, Chart{}.SVG()) // empty chart still renders
}
