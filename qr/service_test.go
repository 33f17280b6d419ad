package qr

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/qrtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a database with two orgs, their apps and some accounts.
type fixture struct {
	db       *sqldb.DB
	svc      *Service
	clock    *clock
	org      int64 // owns app "menu"
	otherOrg int64 // owns app "rival"
	accounts []int64
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, clock: &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}}
	now := f.clock.now().UnixMilli()
	for _, slug := range []string{"noodles", "rival"} {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO orgs (slug, name, created_at) VALUES (?, ?, ?) RETURNING id`, slug, slug, now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if f.org == 0 {
			f.org = id
		} else {
			f.otherOrg = id
		}
	}
	for _, a := range []struct {
		id  string
		org int64
	}{{"menu", f.org}, {"menu2", f.org}, {"rival", f.otherOrg}} {
		if _, err := db.Exec(ctx, `INSERT INTO apps (id, org_id, name, created_at) VALUES (?, ?, ?, ?)`, a.id, a.org, a.id, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, email := range []string{"ann@example.com", "bo@example.com", "cy@example.com"} {
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO accounts (email, name, created_at) VALUES (?, ?, ?) RETURNING id`, email, email, now).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.accounts = append(f.accounts, id)
	}
	svc, err := NewService(db, Config{BaseURL: "https://mini.example.com", Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	f.svc = svc
	return f
}

func tablePage(table string) Target {
	return Target{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"store": "88", "table": table}}
}

func count(t *testing.T, db *sqldb.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateGetResolve(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c, err := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: tablePage("12"), Label: " Table 12 ", Sublabel: "Store 88", CreatedBy: f.accounts[0]})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Slug) != SlugLen || !ValidSlug(c.Slug) || c.AppID != "menu" || c.Label != "Table 12" {
			t.Fatalf("created %+v", c)
		}
		if got := f.svc.ShortURL(c); got != "https://mini.example.com/s/"+c.Slug {
			t.Errorf("short URL %q", got)
		}
		got, err := f.svc.Get(ctx, f.org, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Target.LaunchPath() != "/app/menu/pages/order?store=88&table=12" || got.CreatedBy != f.accounts[0] || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("stored code differs: %+v", got)
		}
		// Another org cannot see it.
		if _, err := f.svc.Get(ctx, f.otherOrg, c.ID); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("other org's Get: %v, want not_found", err)
		}
		// Slugs are case-sensitive: a case-flipped slug is another (unknown) code.
		flipped := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 32
			case r >= 'A' && r <= 'Z':
				return r + 32
			}
			return r
		}, c.Slug)
		if flipped != c.Slug {
			if _, err := f.svc.Resolve(ctx, flipped, Visitor{}); !errors.Is(err, ErrUnknown) {
				t.Errorf("case-flipped slug resolved: %v", err)
			}
		}
		r, err := f.svc.Resolve(ctx, c.Slug, Visitor{AccountID: f.accounts[1]})
		if err != nil || r.ID != c.ID {
			t.Fatalf("resolve: %+v, %v", r, err)
		}
		for _, bad := range []string{"", "nope", "../../etc", strings.Repeat("a", 100)} {
			if _, err := f.svc.Resolve(ctx, bad, Visitor{}); !errors.Is(err, ErrUnknown) || openmini.ErrorCode(err) != openmini.ENOTFOUND {
				t.Errorf("resolve %q: %v, want unknown", bad, err)
			}
		}
	})
}

func TestCreateRejects(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		past := f.clock.now().Add(-time.Hour)
		for _, tc := range []struct {
			name string
			n    NewCode
			code string
			msg  string
		}{
			{"no org", NewCode{Target: tablePage("1")}, openmini.EINVALID, "org id"},
			{"bad target", NewCode{OrgID: f.org, Target: Target{Kind: KindPage}}, openmini.EINVALID, "app id is missing"},
			{"app mismatch", NewCode{OrgID: f.org, AppID: "menu2", Target: tablePage("1")}, openmini.EINVALID, "differs"},
			{"expiry in the past", NewCode{OrgID: f.org, Target: tablePage("1"), ExpiresAt: past}, openmini.EINVALID, "not in the future"},
			{"long label", NewCode{OrgID: f.org, Target: tablePage("1"), Label: strings.Repeat("桌", MaxLabelLen+1)}, openmini.EINVALID, "label"},
			{"unknown org", NewCode{OrgID: 999999, Target: tablePage("1")}, openmini.ENOTFOUND, "does not exist"},
			{"unknown app", NewCode{OrgID: f.org, Target: Target{Kind: KindPage, AppID: "ghost"}}, openmini.ENOTFOUND, "does not exist"},
		} {
			_, err := f.svc.Create(ctx, tc.n)
			if openmini.ErrorCode(err) != tc.code || !strings.Contains(openmini.ErrorMessage(err), tc.msg) {
				t.Errorf("%s: %v, want %s mentioning %q", tc.name, err, tc.code, tc.msg)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM qr_codes`); n != 0 {
			t.Errorf("%d codes stored by failed creates", n)
		}
	})
}

// TestExpireDisable walks a code through expiry and disabling: each state
// resolves to its own error (with the code, for the friendly page), and
// scans of a dead code are not counted.
func TestExpireDisable(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		exp := f.clock.now().Add(24 * time.Hour)
		c, err := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: tablePage("3"), ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Resolve(ctx, c.Slug, Visitor{}); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		f.clock.add(24 * time.Hour) // exactly at expiry
		got, err := f.svc.Resolve(ctx, c.Slug, Visitor{})
		if !errors.Is(err, ErrExpired) || openmini.ErrorCode(err) != openmini.ENOTFOUND || got == nil || got.ID != c.ID {
			t.Fatalf("expired code: %+v, %v", got, err)
		}
		if !strings.Contains(openmini.ErrorMessage(err), "expired") {
			t.Errorf("expired message %q", openmini.ErrorMessage(err))
		}
		// Make it permanent again, then disable it.
		zero := time.Time{}
		if _, err := f.svc.Update(ctx, f.org, c.ID, Update{ExpiresAt: &zero}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Resolve(ctx, c.Slug, Visitor{}); err != nil {
			t.Fatalf("permanent code: %v", err)
		}
		if _, err := f.svc.SetDisabled(ctx, f.otherOrg, c.ID, true); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("other org disabled the code: %v", err)
		}
		d, err := f.svc.SetDisabled(ctx, f.org, c.ID, true)
		if err != nil || d.DisabledAt.IsZero() || d.StatusAt(f.clock.now()) != StatusDisabled {
			t.Fatalf("disable: %+v, %v", d, err)
		}
		if _, err := f.svc.Resolve(ctx, c.Slug, Visitor{}); !errors.Is(err, ErrDisabled) || errors.Is(err, ErrExpired) {
			t.Fatalf("disabled code: %v", err)
		}
		if _, err := f.svc.SetDisabled(ctx, f.org, c.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Resolve(ctx, c.Slug, Visitor{}); err != nil {
			t.Fatalf("re-enabled code: %v", err)
		}
		st, err := f.svc.CodeStats(ctx, f.org, c.ID, StatsRange{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Scans != 3 {
			t.Errorf("scans = %d, want 3 (the expired and disabled ones do not count)", st.Scans)
		}
	})
}

// TestUpdateTargetKeepsSlug proves a printed code can be pointed somewhere
// new: the slug stays, the launch changes.
func TestUpdateTargetKeepsSlug(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c, err := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: tablePage("5")})
		if err != nil {
			t.Fatal(err)
		}
		nt := Target{Kind: KindTrial, AppID: "menu", Page: "pages/new"}
		label := "Table 5 (new menu)"
		u, err := f.svc.Update(ctx, f.org, c.ID, Update{Target: &nt, Label: &label})
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.Resolve(ctx, c.Slug, Visitor{})
		if err != nil {
			t.Fatal(err)
		}
		if u.Slug != c.Slug || r.Target.LaunchPath() != "/app/menu;version=trial/pages/new" || r.Label != label {
			t.Errorf("after update: %+v", r)
		}
		wrongApp := Target{Kind: KindPage, AppID: "menu2"}
		if _, err := f.svc.Update(ctx, f.org, c.ID, Update{Target: &wrongApp}); openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("moving the code to another app: %v, want invalid", err)
		}
		if _, err := f.svc.Update(ctx, f.org, 424242, Update{Label: &label}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("update of a missing code: %v", err)
		}
	})
}

// TestStats records scans by signed-in and anonymous users, launches and
// payments (one reported twice), and reads them per code and per app.
func TestStats(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a, _ := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: tablePage("1"), Label: "Table 1"})
		b, _ := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: tablePage("2"), Label: "Table 2"})
		other, _ := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: Target{Kind: KindPage, AppID: "menu2"}})
		ann, bo := f.accounts[0], f.accounts[1]
		scan := func(c *Code, v Visitor) {
			t.Helper()
			if _, err := f.svc.Resolve(ctx, c.Slug, v); err != nil {
				t.Fatal(err)
			}
		}
		// Day 1: ann scans a twice, bo once, an anonymous visitor once, one
		// scanner with neither; ann scans b.
		scan(a, Visitor{AccountID: ann})
		scan(a, Visitor{AccountID: ann})
		scan(a, Visitor{AccountID: bo})
		scan(a, Visitor{Visitor: "cookie-1"})
		scan(a, Visitor{})
		scan(b, Visitor{AccountID: ann})
		scan(other, Visitor{AccountID: bo})
		if err := f.svc.RecordLaunch(ctx, a.Slug, Visitor{AccountID: ann}); err != nil {
			t.Fatal(err)
		}
		f.clock.add(24 * time.Hour)
		// Day 2: another launch and two payments, one reported twice.
		scan(a, Visitor{Visitor: "cookie-1"})
		if err := f.svc.RecordLaunch(ctx, a.Slug, Visitor{Visitor: "cookie-1"}); err != nil {
			t.Fatal(err)
		}
		pay := Payment{Ref: "pay_1", AccountID: ann, Amount: 4200, Currency: "CNY"}
		for i := 0; i < 2; i++ {
			if err := f.svc.RecordPayment(ctx, nil, a.Slug, pay); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.RecordPayment(ctx, nil, a.Slug, Payment{Ref: "pay_2", Amount: 800, Currency: "CNY"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RecordPayment(ctx, nil, b.Slug, Payment{Ref: "pay_3", Amount: 500, Currency: "USD"}); err != nil {
			t.Fatal(err)
		}
		// A payment recorded inside the payments layer's own transaction
		// that rolls back leaves nothing behind.
		rollback := errors.New("rollback")
		err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
			if err := f.svc.RecordPayment(ctx, tx, a.Slug, Payment{Ref: "pay_4", Amount: 100, Currency: "CNY"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}

		st, err := f.svc.CodeStats(ctx, f.org, a.ID, StatsRange{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Scans != 6 || st.UniqueUsers != 3 || st.Launches != 2 || st.Payments != 2 {
			t.Errorf("code a: scans %d unique %d launches %d payments %d; want 6 3 2 2", st.Scans, st.UniqueUsers, st.Launches, st.Payments)
		}
		if len(st.Paid) != 1 || st.Paid[0] != (Amount{"CNY", 5000}) {
			t.Errorf("code a paid %+v, want CNY 5000", st.Paid)
		}
		if len(st.Days) != 2 || st.Days[0].Day != "2026-05-01" || st.Days[0].Scans != 5 || st.Days[1].Scans != 1 || st.Days[1].Payments != 2 {
			t.Errorf("code a days %+v", st.Days)
		}
		if !st.FirstScanAt.Equal(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)) || !st.LastScanAt.Equal(time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("first/last scan %v %v", st.FirstScanAt, st.LastScanAt)
		}
		// Day 2 only.
		day2, err := f.svc.CodeStats(ctx, f.org, a.ID, StatsRange{Since: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if day2.Scans != 1 || day2.UniqueUsers != 1 || day2.Launches != 1 || day2.Payments != 2 {
			t.Errorf("day 2: %+v", day2)
		}
		if _, err := f.svc.CodeStats(ctx, f.otherOrg, a.ID, StatsRange{}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("other org read the stats: %v", err)
		}

		app, err := f.svc.AppStats(ctx, f.org, "menu", StatsRange{})
		if err != nil {
			t.Fatal(err)
		}
		// ann scanned both a and b: counted once across the app.
		if app.Total.Scans != 7 || app.Total.UniqueUsers != 3 || app.Total.Launches != 2 || app.Total.Payments != 3 {
			t.Errorf("app total %+v", app.Total)
		}
		if len(app.Total.Paid) != 2 || app.Total.Paid[0] != (Amount{"CNY", 5000}) || app.Total.Paid[1] != (Amount{"USD", 500}) {
			t.Errorf("app paid %+v", app.Total.Paid)
		}
		if len(app.Codes) != 2 || app.Codes[0].CodeID != a.ID || app.Codes[0].Label != "Table 1" || app.Codes[0].Slug != a.Slug || app.Codes[1].CodeID != b.ID {
			t.Errorf("app codes %+v", app.Codes)
		}
		rival, err := f.svc.AppStats(ctx, f.otherOrg, "menu", StatsRange{})
		if err != nil || rival.Total.Scans != 0 || len(rival.Codes) != 0 {
			t.Errorf("another org sees the app's stats: %+v, %v", rival, err)
		}

		for _, bad := range []Payment{{Amount: 1, Currency: "CNY"}, {Ref: "x", Amount: 0, Currency: "CNY"}, {Ref: "x", Amount: 1, Currency: "cny"}} {
			if err := f.svc.RecordPayment(ctx, nil, a.Slug, bad); openmini.ErrorCode(err) != openmini.EINVALID {
				t.Errorf("payment %+v: %v, want invalid", bad, err)
			}
		}
		if err := f.svc.RecordPayment(ctx, nil, "Missing1", Payment{Ref: "y", Amount: 1, Currency: "CNY"}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("payment for an unknown slug: %v", err)
		}
		if err := f.svc.RecordLaunch(ctx, "Missing1", Visitor{}); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("launch for an unknown slug: %v", err)
		}
	})
}

// TestBatch creates tables 1..200 of store 88 in one call and proves it is
// all or nothing.
func TestBatch(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		bt := BatchTemplate{
			OrgID:  f.org,
			Target: Target{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"store": "88"}},
			Param:  "table", From: 1, To: 200,
			LabelTemplate: "{n}号桌 Table {n}", Sublabel: "Store 88 · 88号店", CreatedBy: f.accounts[0],
		}
		b, codes, err := f.svc.CreateBatch(ctx, bt)
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != 200 || b.ID == 0 || b.Name != "{n}号桌 Table {n}" {
			t.Fatalf("batch %+v with %d codes", b, len(codes))
		}
		slugs := map[string]bool{}
		for i, c := range codes {
			n := i + 1
			if c.Target.Query["table"] != strconv.Itoa(n) || c.Target.Query["store"] != "88" || c.Label != strconv.Itoa(n)+"号桌 Table "+strconv.Itoa(n) || c.BatchID != b.ID {
				t.Fatalf("code %d: %+v", n, c)
			}
			slugs[c.Slug] = true
		}
		if len(slugs) != 200 {
			t.Errorf("%d distinct slugs of 200", len(slugs))
		}
		gb, stored, err := f.svc.GetBatch(ctx, f.org, b.ID)
		if err != nil || gb.From != 1 || gb.To != 200 || len(stored) != 200 || stored[11].Target.Query["table"] != "12" {
			t.Fatalf("get batch: %+v, %d codes, %v", gb, len(stored), err)
		}
		if _, _, err := f.svc.GetBatch(ctx, f.otherOrg, b.ID); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("other org read the batch: %v", err)
		}
		page, err := f.svc.List(ctx, ListFilter{OrgID: f.org, BatchID: b.ID, AfterID: stored[99].ID, Limit: 50})
		if err != nil || len(page) != 50 || page[0].ID != stored[100].ID {
			t.Errorf("list page after #100: %d codes, %v", len(page), err)
		}

		// Code 100 is the first whose query ("pad=...&table=100") is one byte
		// over the limit: nothing is stored.
		before := count(t, db, `SELECT COUNT(*) FROM qr_codes`)
		bad := bt
		bad.ValueTemplate = "{n}"
		bad.LabelTemplate = "T{n}"
		bad.Target.Query = map[string]string{"pad": strings.Repeat("x", MaxQueryBytes-len("pad=&table=")-2)}
		if _, _, err := f.svc.CreateBatch(ctx, bad); openmini.ErrorCode(err) == "" || !strings.Contains(openmini.ErrorMessage(err), "batch code 100:") {
			t.Errorf("oversized batch: %v", err)
		}
		// An unknown creator is refused with not_found.
		ghost := bt
		ghost.CreatedBy = 987654
		if _, _, err := f.svc.CreateBatch(ctx, ghost); openmini.ErrorCode(err) != openmini.ENOTFOUND {
			t.Errorf("batch by an unknown account: %v", err)
		}
		// A failure at the 150th insert, after the batch row and 149 codes
		// went in, rolls all of them back.
		failAt(t, db, "T150")
		boom := bt
		boom.LabelTemplate = "T{n}"
		if _, _, err := f.svc.CreateBatch(ctx, boom); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("batch with a failing 150th insert: %v", err)
		}
		if after := count(t, db, `SELECT COUNT(*) FROM qr_codes`); after != before {
			t.Errorf("failed batches left %d codes behind", after-before)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM qr_batches`); n != 1 {
			t.Errorf("%d batch rows, want 1", n)
		}
		for _, tc := range []struct {
			mod  func(*BatchTemplate)
			code string
		}{
			{func(b *BatchTemplate) { b.From, b.To = 5, 4 }, openmini.EINVALID},
			{func(b *BatchTemplate) { b.To = MaxBatch + 1 }, openmini.ETOOLARGE},
			{func(b *BatchTemplate) { b.Param = "store" }, openmini.EINVALID},
			{func(b *BatchTemplate) { b.Target = Target{Kind: KindCollect, MerchantID: "m1"} }, openmini.EINVALID},
		} {
			x := bt
			tc.mod(&x)
			if _, _, err := f.svc.CreateBatch(ctx, x); openmini.ErrorCode(err) != tc.code {
				t.Errorf("batch %+v: %v, want %s", x, err, tc.code)
			}
		}
	})
}

// TestScanFollowsToPage is the whole trip a diner makes: the code printed
// on table 12 is decoded from its PNG by both decoders, classified as our
// short link, resolved, and its launch link parses to the right app, page
// and parameters.
func TestScanFollowsToPage(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		want := Target{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"store": "88", "table": "12", "note": "靠窗 & 安静"}}
		c, err := f.svc.Create(ctx, NewCode{OrgID: f.org, Target: want})
		if err != nil {
			t.Fatal(err)
		}
		img, err := f.svc.Renderer().Render(ctx, f.svc.ShortURL(c), RenderOptions{Size: 256})
		if err != nil {
			t.Fatal(err)
		}
		decoded := []string{qrtest.Gozxing(t, decodePNG(t, img))}
		decoded = append(decoded, qrtest.Zbar(t, writeFile(t, t.TempDir(), "table12.png", img))...)
		for _, text := range decoded {
			sc := f.svc.Classify(text)
			if sc.Class != ClassShortLink {
				t.Fatalf("%q classified %s", text, sc.Class)
			}
			code, err := f.svc.Resolve(ctx, sc.Slug, Visitor{Visitor: "diner"})
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(f.svc.LaunchURL(code.Target))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseLaunchPath(u.EscapedPath(), u.RawQuery)
			if err != nil {
				t.Fatal(err)
			}
			if got.AppID != "menu" || got.Page != "pages/order" || got.Query["table"] != "12" || got.Query["note"] != "靠窗 & 安静" || len(got.Query) != 3 {
				t.Errorf("scan led to %+v", got)
			}
		}
	})
}

// failAt installs a trigger that makes inserting a code labelled label fail
// with "boom", to prove transactions roll back mid-way.
func failAt(t *testing.T, db *sqldb.DB, label string) {
	t.Helper()
	ctx := context.Background()
	var stmts []string
	if db.Dialect() == sqldb.Postgres {
		stmts = []string{
			`CREATE FUNCTION qr_test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN IF NEW.label = '` + label + `' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER qr_test_boom BEFORE INSERT ON qr_codes FOR EACH ROW EXECUTE FUNCTION qr_test_boom()`,
		}
	} else {
		stmts = []string{`CREATE TRIGGER qr_test_boom BEFORE INSERT ON qr_codes WHEN NEW.label = '` + label + `'
			BEGIN SELECT RAISE(ABORT, 'boom'); END`}
	}
	for _, q := range stmts {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("install trigger: %v", err)
		}
	}
}
