package platform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/qr"
)

// demoApp finds a demo mini program by the start of its name.
func demoApp(t *testing.T, p *platformtest.Running, prefix string) discovery.SearchHit {
	t.Helper()
	res, err := p.Discovery.Search(context.Background(), discovery.SearchQuery{Text: strings.Fields(prefix)[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Apps {
		if strings.HasPrefix(h.Name, prefix) {
			return h
		}
	}
	t.Fatalf("no demo app %q in %+v", prefix, res.Apps)
	return discovery.SearchHit{}
}

// TestDemoDiscovery: the demo's home page has its three channels, search
// knows the restaurant by its merchant and Chinese name, the shop is
// recommended nearby with its distance, the demo user gets
// recommendations with reasons, the developer's analytics have history,
// and the game leaves channels and search when games are switched off.
// Emptied, the index is rebuilt from the released apps at the next start.
func TestDemoDiscovery(t *testing.T) {
	ctx := context.Background()
	dir, dbURL := t.TempDir(), testenv.DatabaseURL(t)
	p := platformtest.Start(t, platform.Config{Demo: true, DataDir: dir, DatabaseURL: dbURL})
	chans, err := p.Discovery.HomeChannels(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, c := range chans {
		slugs = append(slugs, c.Slug)
	}
	if strings.Join(slugs, ",") != "food-near-you,games,tools" {
		t.Fatalf("demo channels: %v", slugs)
	}
	noodles := demoApp(t, p, "Noodle Bar")
	if noodles.MerchantName != "Noodle Bar 面馆" || !strings.Contains(noodles.IconURL, "/_v/") {
		t.Errorf("the restaurant's document: %+v", noodles)
	}
	if res, _ := p.Discovery.Search(ctx, discovery.SearchQuery{Text: "面馆"}); len(res.Apps) == 0 || res.Apps[0].AppID != noodles.AppID {
		t.Errorf("search 面馆: %+v", res.Apps)
	}
	// Two hundred metres from the shop, someone not signed in.
	near := discovery.Degrees(31.2400, 121.4850)
	recs, err := p.Discovery.Recommend(ctx, discovery.RecommendRequest{Location: &near})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || recs[0].AppID != noodles.AppID || recs[0].Reason.Kind != discovery.ReasonNearby || recs[0].Reason.DistanceM < 100 || recs[0].Reason.DistanceM > 300 {
		t.Errorf("nearby: %+v", recs)
	}
	lily, err := p.Accounts.ByEmail(ctx, "lily@demo.openmini.dev")
	if err != nil {
		t.Fatal(err)
	}
	recs, err = p.Discovery.Recommend(ctx, discovery.RecommendRequest{AccountID: lily.ID, At: time.Now().UTC().Truncate(24 * time.Hour).Add(19 * time.Hour)})
	if err != nil || len(recs) == 0 {
		t.Fatalf("the demo user's recommendations: %+v, %v", recs, err)
	}
	kinds := map[discovery.ReasonKind]bool{}
	for _, r := range recs {
		kinds[r.Reason.Kind] = true
	}
	if !kinds[discovery.ReasonTimeOfDay] || !kinds[discovery.ReasonAlsoUsed] {
		t.Errorf("the demo user's reasons: %v", kinds)
	}
	rep, err := p.Discovery.Analytics(ctx, discovery.AnalyticsQuery{AppID: noodles.AppID, From: time.Now().AddDate(0, 0, -13), To: time.Now()})
	if err != nil || rep.Totals.Launches < 20 || rep.Totals.UniqueUsers < 5 || rep.Totals.AvgSessionMs == 0 {
		t.Errorf("the restaurant's analytics: %+v, %v", rep.Totals, err)
	}
	if tr, _ := p.Discovery.Trending(ctx, 10); len(tr) == 0 {
		t.Error("nothing trends in the demo")
	}

	// Games off: the game and its channel leave the home page and search.
	pol, _ := p.Policy.Get(ctx)
	pol.GamesEnabled = false
	admin, _ := p.Accounts.ByEmail(ctx, "operator@demo.openmini.dev")
	if _, err := p.Policy.Set(ctx, openmini.Actor{AccountID: admin.ID, StaffRole: admin.StaffRole}, pol); err != nil {
		t.Fatal(err)
	}
	if chans, _ := p.Discovery.HomeChannels(ctx, 10); len(chans) != 2 {
		t.Errorf("channels with games off: %+v", chans)
	}
	if res, _ := p.Discovery.Search(ctx, discovery.SearchQuery{Text: "Tap Dash"}); len(res.Apps) != 0 {
		t.Errorf("search finds the game with games off: %+v", res.Apps)
	}

	// An emptied index is rebuilt at the next start.
	p.Stop()
	q := platformtest.Start(t, platform.Config{DataDir: dir, DatabaseURL: dbURL})
	if _, err := q.DB.Exec(ctx, `DELETE FROM discovery_channel_apps`); err != nil {
		t.Fatal(err)
	}
	if _, err := q.DB.Exec(ctx, `DELETE FROM discovery_apps`); err != nil {
		t.Fatal(err)
	}
	q.Stop()
	r := platformtest.Start(t, platform.Config{DataDir: dir, DatabaseURL: dbURL})
	if n, err := r.Discovery.Documents(ctx); err != nil || n != 3 {
		t.Fatalf("documents after a start on an empty index: %d, %v", n, err)
	}
	if res, _ := r.Discovery.Search(ctx, discovery.SearchQuery{Text: "noodles"}); len(res.Apps) != 1 || res.Apps[0].MerchantName == "" {
		t.Errorf("search after rebuilding: %+v", res.Apps)
	}
}

// TestDiscoveryImportCountsOnce: payments (an in-app order and a
// collection-code payment of the merchant whose only app is the
// restaurant) and QR scans reach discovery through the importer; a scan
// waits until it is older than the settling time; running the importer
// again counts nothing twice.
func TestDiscoveryImportCountsOnce(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platform.Config{Demo: true, DatabaseURL: testenv.DatabaseURL(t)})
	noodles := demoApp(t, p, "Noodle Bar")
	lily, err := p.Accounts.ByEmail(ctx, "lily@demo.openmini.dev")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := p.Pay.MerchantsForApp(ctx, noodles.AppID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("the restaurant's merchant: %v, %v", ms, err)
	}
	m := ms[0]
	if err := p.Pay.SetPIN(ctx, lily.ID, "", "258014"); err != nil {
		t.Fatal(err)
	}
	o, err := p.Pay.CreateOrder(ctx, m.ID, "order-1", pay.OrderRequest{Amount: 42_00, Description: "two bowls", AppID: noodles.AppID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Pay.PayOrder(ctx, pay.PayRequest{AccountID: lily.ID, OrderID: o.ID, PIN: "258014"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Pay.PayCollection(ctx, pay.CollectionRequest{AccountID: lily.ID, MerchantID: m.ID, Amount: 8_00, PIN: "258014", IdempotencyKey: "tip-1"}); err != nil {
		t.Fatal(err)
	}
	a, err := p.Apps.Get(ctx, noodles.AppID)
	if err != nil {
		t.Fatal(err)
	}
	code, err := p.QR.Create(ctx, qr.NewCode{OrgID: a.OrgID, Target: qr.Target{Kind: qr.KindPage, AppID: a.ID, Query: map[string]string{"table": "3"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.QR.Resolve(ctx, code.Slug, qr.Visitor{AccountID: lily.ID}); err != nil {
		t.Fatal(err)
	}

	totals := func() discovery.Totals {
		t.Helper()
		rep, err := p.Discovery.Analytics(ctx, discovery.AnalyticsQuery{AppID: a.ID, From: time.Now(), To: time.Now(), Currency: p.Pay.Currency()})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Totals
	}
	check := func(what string, settle time.Duration, payments, amount, scans int64) {
		t.Helper()
		if _, _, err := p.ImportDiscoveryEvents(ctx, settle); err != nil {
			t.Fatal(err)
		}
		got := totals()
		if got.Payments != payments || got.PaymentAmount != amount || got.Scans != scans {
			t.Errorf("%s: %d payments of %d, %d scans; want %d of %d, %d", what, got.Payments, got.PaymentAmount, got.Scans, payments, amount, scans)
		}
	}
	// Young events: payments count at once (read again later, they count
	// once); the scan waits.
	check("settling an hour", time.Hour, 2, 50_00, 0)
	check("settled", 0, 2, 50_00, 1)
	check("again", 0, 2, 50_00, 1)
	// The restaurant's spending category reaches the demo user's
	// recommendations as a payment in its category.
	var n int
	if err := p.DB.QueryRow(ctx, `SELECT COUNT(*) FROM discovery_payments WHERE account_id = ? AND merchant_category = ?`, lily.ID, a.Category).Scan(&n); err != nil || n != 2 {
		t.Errorf("payments in category %s: %d, %v", a.Category, n, err)
	}
}
