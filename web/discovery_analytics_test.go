package web_test

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/qr"
	"github.com/openmini/openmini/web"
)

// TestAnalyticsFromGeneratedEvents generates launches through the host
// (signed in and anonymous, from search, recent, a QR code and a plain
// link), foreground reports from the shell's endpoint, a QR scan through
// the short link, a payment through the payments service, and launches
// two and one days ago for retention; then checks every figure the
// analytics API, its CSV and the console tab give against them. Payments
// and scans reach discovery through the platform's importer, which counts
// each once however often it runs.
func TestAnalyticsFromGeneratedEvents(t *testing.T) {
	w := newDiscoWorld(t)
	shop := w.app(t, "Noodle Bar 面馆", "food", "Hand-pulled noodles.", "noodles", "面馆")
	other := w.app(t, "Metro Ride", "travel", "Tickets for the metro.")
	_, tok1 := w.user(t, "u1@example.com")
	u2, tok2 := w.user(t, "u2@example.com")
	u3, _ := w.user(t, "u3@example.com")
	c1, c2, anon := w.session(tok1), w.session(tok2), w.anonymous()

	// u1: a cold launch of the page from search, then a switch back from
	// "recent" through the shell, with 30 s and 12 s in the foreground.
	if code, body := w.fetch(t, c1, "GET", "/app/"+shop.ID+"/?om_scene=search", nil); code != 200 || !strings.Contains(body, `"launchId":`) {
		t.Fatalf("cold launch: %d, launch id in the page: %v", code, strings.Contains(body, `"launchId":`))
	}
	l1 := w.launch(t, c1, shop.ID, "recent")
	for _, ms := range []int64{30_000, 12_000} {
		if code, body := w.fetch(t, c1, "POST", "/host/api/discovery/session", web.SessionReport{Launch: l1, MS: ms}); code != 200 {
			t.Fatalf("session report: %d %s", code, body)
		}
	}
	// Another user cannot add time to u1's launch.
	if code, _ := w.fetch(t, c2, "POST", "/host/api/discovery/session", web.SessionReport{Launch: l1, MS: 5000}); code != 404 {
		t.Fatalf("someone else's session report: %d, want 404", code)
	}
	if code, _ := w.fetch(t, c1, "POST", "/host/api/discovery/session", web.SessionReport{Launch: l1, MS: -5}); code != 400 {
		t.Fatalf("negative session: %d, want 400", code)
	}

	// u2 scans the table code: the short link redirects to the launch link
	// with the code, which the shell opens.
	code, err := w.p.QR.Create(w.ctx, qr.NewCode{OrgID: w.orgID, Target: qr.Target{Kind: qr.KindPage, AppID: shop.ID, Page: "pages/index", Query: map[string]string{"table": "12"}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c2.Get(w.p.URL + "/s/" + code.Slug)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "om_qr="+code.Slug) {
		t.Fatalf("short link: %d to %q", resp.StatusCode, loc)
	}
	if st, _ := w.fetch(t, c2, "GET", loc, nil); st != 200 {
		t.Fatalf("launch from the code: %d", st)
	}
	// An anonymous visitor opens a plain link; another app gets a launch
	// that must not count here.
	if st, _ := w.fetch(t, anon, "GET", "/app/"+shop.ID+"/", nil); st != 200 {
		t.Fatalf("anonymous launch: %d", st)
	}
	w.launch(t, c1, other.ID, "channel")

	// u2 pays 38.50 in the app within the day of the scan.
	m := w.merchant(t, shop.ID, "Noodle Bar", 31.2304, 121.4737)
	paid := w.pays(t, u2, m, shop.ID, 38_50)
	for i := 0; i < 2; i++ { // twice: nothing may count twice
		if _, _, err := w.p.ImportDiscoveryEvents(w.ctx, 0); err != nil {
			t.Fatal(err)
		}
	}

	// u3 first opened the app two days ago and came back yesterday.
	now := time.Now().UTC()
	for _, at := range []time.Time{now.Add(-48 * time.Hour), now.Add(-24 * time.Hour)} {
		if _, err := w.p.Discovery.RecordLaunch(w.ctx, discovery.Launch{AccountID: u3, AppID: shop.ID, Scene: discovery.SceneLink, At: at}); err != nil {
			t.Fatal(err)
		}
	}

	from, to := now.Add(-48*time.Hour).Format("2006-01-02"), now.Format("2006-01-02")
	path := "/api/v1/apps/" + shop.ID + "/analytics?from=" + from + "&to=" + to + "&tz=UTC"
	var rep discovery.Report
	w.dev.Must(t, 200, "GET", path, nil, &rep)
	tot := rep.Totals
	want := map[string]int64{
		"launches": 6, "anonymous": 1, "unique users": 3, "new users": 3, "payments": 1, "amount": paid.Amount,
		"scans": 1, "qr launches": 1, "scanners": 1, "scan payers": 1, "avg session": 42_000,
		"scene search": 1, "scene recent": 1, "scene qr": 1, "scene link": 3, "scene channel": 0,
	}
	got := map[string]int64{
		"launches": tot.Launches, "anonymous": tot.AnonymousLaunches, "unique users": tot.UniqueUsers, "new users": tot.NewUsers,
		"payments": tot.Payments, "amount": tot.PaymentAmount, "scans": tot.Scans, "qr launches": tot.QRLaunches,
		"scanners": tot.Scanners, "scan payers": tot.ScanPayers, "avg session": tot.AvgSessionMs,
		"scene search": tot.Scenes[discovery.SceneSearch], "scene recent": tot.Scenes[discovery.SceneRecent],
		"scene qr": tot.Scenes[discovery.SceneQR], "scene link": tot.Scenes[discovery.SceneLink], "scene channel": tot.Scenes[discovery.SceneChannel],
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d", k, got[k], v)
		}
	}
	if tot.Conversion == nil || *tot.Conversion != 1 {
		t.Errorf("conversion: %v, want 1", tot.Conversion)
	}
	if len(rep.Days) != 3 || rep.Days[0].Day != from || rep.Days[0].NewUsers != 1 || rep.Days[0].Day1Rate == nil || *rep.Days[0].Day1Rate != 1 {
		t.Errorf("first day: %+v", rep.Days[0])
	}
	if len(rep.QRCodes) != 1 || rep.QRCodes[0].Slug != code.Slug || rep.QRCodes[0].Payers != 1 {
		t.Errorf("QR codes: %+v", rep.QRCodes)
	}
	if rep.Currency != w.p.Pay.Currency() {
		t.Errorf("currency %q", rep.Currency)
	}

	// The CSV has the same figures, today's row last.
	resp, err = w.dev.C.Get(w.p.URL + strings.Replace(path, "/analytics?", "/analytics/csv?", 1))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || len(rows) != 4 {
		t.Fatalf("CSV: %d %s, %d rows, %v", resp.StatusCode, resp.Header.Get("Content-Type"), len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	today := rows[3]
	for name, v := range map[string]int64{"launches": 4, "payments": 1, "payment_amount_minor": paid.Amount, "scans": 1, "scene_qr": 1, "scan_payers": 1} {
		if n, _ := strconv.ParseInt(today[col[name]], 10, 64); n != v || today[0] != to {
			t.Errorf("CSV %s %s = %q, want %d", today[0], name, today[col[name]], v)
		}
	}
	if today[col["avg_session_seconds"]] != "42.0" {
		t.Errorf("CSV avg_session_seconds = %q, want 42.0", today[col["avg_session_seconds"]])
	}

	// The console tab shows the totals, charts and the CSV link.
	st, page := w.p.Get(t, w.dev.C, "/console/apps/"+shop.ID+"/analytics?from="+from+"&to="+to+"&tz=UTC")
	for _, s := range []string{`id="total-launches">6<`, `id="total-payments">1<`, `id="total-conversion">100.0%<`, `<svg`, "analytics/csv?from=" + from} {
		if st != 200 || !strings.Contains(page, s) {
			t.Errorf("console analytics: %d, no %q", st, s)
		}
	}

	// Who may read them, and bad input.
	outsider := w.p.API(w.p.Client())
	outsider.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "x@other.example", Name: "X", Password: "outsider-password-1", OrgName: "Other Ltd"}, nil)
	if got := w.p.API(w.p.Client()).Do(t, "GET", path, nil, nil); got != 401 {
		t.Errorf("anonymous analytics: %d, want 401", got)
	}
	if got := outsider.Do(t, "GET", path, nil, nil); got != 404 {
		t.Errorf("another organisation's analytics: %d, want 404", got)
	}
	if got := w.dev.Do(t, "GET", "/api/v1/apps/"+shop.ID+"/analytics?from=2025-13-01", nil, nil); got != 400 {
		t.Errorf("bad date: %d, want 400", got)
	}
	var eb struct {
		Error struct{ Message string }
	}
	w.dev.Do(t, "GET", "/api/v1/apps/"+shop.ID+"/analytics?tz=Mars/Base", nil, &eb)
	if !strings.Contains(eb.Error.Message, "tz") {
		t.Errorf("bad time zone: %q", eb.Error.Message)
	}
}
