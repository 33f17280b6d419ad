// Package discoverybench holds the traffic distribution benchmarks: search
// over 100,000 published mini programs and one user's recommendations over
// 1,000,000 launch events, on SQLite and PostgreSQL (bench/discovery.sh
// runs them beside pgbench's select-only script). See BENCHMARKS.md.
package discoverybench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/sqldb"
)

// Fixture shape.
type Shape struct {
	Apps     int // published mini programs
	Users    int // accounts that launch them
	Launches int // launch events over Days
	Payments int
	Days     int
}

// FullShape is the size the targets are stated for.
var FullShape = Shape{Apps: 100_000, Users: 50_000, Launches: 1_000_000, Payments: 100_000, Days: 90}

// Now is the fixture's "now": every event lies in the Days before it.
var Now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Centre is the middle of the city where merchant apps have shops.
var Centre = discovery.Degrees(31.2304, 121.4737)

type category struct {
	en, zh   string
	keywords []string
}

var categories = []category{
	{"Coffee", "咖啡", []string{"coffee", "latte", "espresso", "拿铁", "美式"}},
	{"Tea House", "奶茶", []string{"tea", "milk tea", "bubble", "奶茶", "果茶"}},
	{"Hot Pot", "火锅", []string{"hotpot", "spicy", "麻辣", "火锅", "涮肉"}},
	{"Noodles", "面馆", []string{"noodles", "ramen", "拉面", "牛肉面"}},
	{"Bakery", "面包", []string{"bread", "cake", "pastry", "蛋糕", "面包"}},
	{"Burger", "汉堡", []string{"burger", "fries", "fast food", "快餐"}},
	{"Hotel", "酒店", []string{"hotel", "rooms", "booking", "住宿", "预订"}},
	{"Metro", "地铁", []string{"metro", "subway", "transit", "乘车码", "地铁"}},
	{"Taxi", "打车", []string{"taxi", "ride", "car", "出租车", "网约车"}},
	{"Market", "超市", []string{"market", "grocery", "fresh", "生鲜", "超市"}},
	{"Pharmacy", "药房", []string{"pharmacy", "medicine", "health", "药品", "医保"}},
	{"Cinema", "影院", []string{"cinema", "movies", "tickets", "电影", "选座"}},
	{"Books", "书店", []string{"books", "reading", "novels", "图书", "阅读"}},
	{"Fitness", "健身", []string{"gym", "fitness", "yoga", "健身", "瑜伽"}},
	{"Pets", "宠物", []string{"pets", "dogs", "cats", "宠物", "猫粮"}},
	{"Flowers", "花店", []string{"flowers", "bouquet", "gifts", "鲜花", "礼物"}},
	{"Laundry", "洗衣", []string{"laundry", "cleaning", "dry clean", "洗衣", "干洗"}},
	{"Parking", "停车", []string{"parking", "car park", "停车", "缴费"}},
	{"Bank", "银行", []string{"bank", "cards", "loans", "银行", "理财"}},
	{"Games", "游戏", []string{"game", "puzzle", "arcade", "小游戏", "休闲"}},
}

// brandChars make up Chinese brand names; syllables make up English ones.
var brandChars = []rune("星巴克瑞幸喜茶奈雪海底捞鼎泰丰全家罗森美团饿了么盒马永辉华联大众点评携程如家汉庭锦江亚朵万达百丽金鹰新华西西弗乐刻超级猩猩波奇花点时间荣昌和丰招商工商建设东方明珠绿地龙湖")

var syllables = strings.Fields(`lu ma ve xo ka ri no ta shi ba ko ne fa zu mi ro la po da be ki su yo ha te ji wa ge do ni`)

var filler = strings.Fields(`open daily order ahead pick up deliver fast fresh local best city new members points coupons
	online booking easy pay scan table quick service friendly quality since price great near you today every week`)

var fillerZH = []string{"在线点单", "会员积分", "优惠券", "扫码支付", "外卖配送", "门店自提", "每日新鲜", "附近门店", "预约服务", "限时优惠"}

// App is one generated app.
type App struct {
	Doc discovery.Doc
	Cat int
}

// GenerateApps makes n deterministic apps: half with Chinese names
// ("星巴克咖啡 徐汇店"), half English ("Lumako Coffee"), keywords in both
// languages, a description, and a shop location for 40% of them.
func GenerateApps(n int, orgs int) []App {
	rng := rand.New(rand.NewPCG(7, 9))
	apps := make([]App, n)
	for i := range apps {
		ci := rng.IntN(len(categories))
		c := categories[ci]
		var name, brand string
		if i%2 == 0 {
			r := make([]rune, 2+rng.IntN(2))
			for j := range r {
				r[j] = brandChars[rng.IntN(len(brandChars))]
			}
			brand = string(r)
			name = brand + c.zh
			if rng.IntN(3) == 0 {
				name += " " + string(brandChars[rng.IntN(len(brandChars))]) + "店"
			}
		} else {
			var b strings.Builder
			for j := 0; j < 2+rng.IntN(2); j++ {
				b.WriteString(syllables[rng.IntN(len(syllables))])
			}
			brand = strings.ToUpper(b.String()[:1]) + b.String()[1:]
			name = brand + " " + c.en
		}
		var kw []string
		for _, k := range rng.Perm(len(c.keywords))[:3] {
			kw = append(kw, c.keywords[k])
		}
		var desc []string
		for j := 0; j < 12+rng.IntN(20); j++ {
			if rng.IntN(4) == 0 {
				desc = append(desc, fillerZH[rng.IntN(len(fillerZH))])
			} else {
				desc = append(desc, filler[rng.IntN(len(filler))])
			}
		}
		desc = append(desc, strings.ToLower(c.en))
		d := discovery.Doc{
			AppID:        fmt.Sprintf("app%06d", i),
			OrgID:        int64(1 + i%orgs),
			Name:         name,
			Keywords:     kw,
			Description:  strings.Join(desc, " "),
			Category:     strings.ToLower(c.en),
			MerchantName: brand + " Co.",
			IconURL:      fmt.Sprintf("https://cdn.example.com/icons/%d.png", i),
			Games:        c.en == "Games",
			UpdatedAt:    Now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour),
		}
		if rng.IntN(5) < 2 {
			// Within about 20 km of the centre.
			d.Location = &discovery.Point{Lat: Centre.Lat + int64(rng.IntN(360_000)) - 180_000, Lng: Centre.Lng + int64(rng.IntN(420_000)) - 210_000}
		}
		apps[i] = App{Doc: d, Cat: ci}
	}
	return apps
}

// Load fills db: orgs, apps, accounts through plain bulk inserts, search
// documents through discovery.IndexApps, then launches, per-user usage and
// payments through bulk inserts (the aggregates RecordLaunch would keep),
// and finally discovery.Refresh. It returns the apps and timings.
func Load(ctx context.Context, db *sqldb.DB, svc *discovery.Service, sh Shape, logf func(string, ...any)) ([]App, error) {
	const orgs = 20_000
	apps := GenerateApps(sh.Apps, orgs)
	start := time.Now()
	if err := bulk(ctx, db, "orgs (slug, name, created_at)", 3, orgs, func(i int) []any {
		return []any{fmt.Sprintf("org%d", i+1), fmt.Sprintf("Org %d", i+1), 0}
	}); err != nil {
		return nil, err
	}
	if err := bulk(ctx, db, "apps (id, org_id, name, created_at)", 4, len(apps), func(i int) []any {
		return []any{apps[i].Doc.AppID, apps[i].Doc.OrgID, apps[i].Doc.Name, 0}
	}); err != nil {
		return nil, err
	}
	if err := bulk(ctx, db, "accounts (name, created_at)", 2, sh.Users, func(i int) []any {
		return []any{fmt.Sprintf("user%d", i+1), 0}
	}); err != nil {
		return nil, err
	}
	logf("rows for %d apps and %d accounts: %s", len(apps), sh.Users, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	for i := 0; i < len(apps); i += 1000 {
		docs := make([]discovery.Doc, 0, 1000)
		for _, a := range apps[i:min(len(apps), i+1000)] {
			docs = append(docs, a.Doc)
		}
		if err := svc.IndexApps(ctx, docs); err != nil {
			return nil, err
		}
	}
	took := time.Since(start)
	logf("indexed %d apps with IndexApps: %s (%.0f apps/s)", len(apps), took.Round(time.Millisecond), float64(len(apps))/took.Seconds())

	start = time.Now()
	if err := loadEvents(ctx, db, apps, sh); err != nil {
		return nil, err
	}
	logf("%d launches, %d payments (bulk): %s", sh.Launches, sh.Payments, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if err := svc.Refresh(ctx); err != nil {
		return nil, err
	}
	logf("discovery.Refresh (trending, related apps): %s", time.Since(start).Round(time.Millisecond))
	return apps, nil
}

// loadEvents generates launches with habits: each user has a few favourite
// apps, drawn by a Zipf law over popularity and mostly from two
// categories, and opens them at a preferred time of day.
func loadEvents(ctx context.Context, db *sqldb.DB, apps []App, sh Shape) error {
	rng := rand.New(rand.NewPCG(11, 13))
	byCat := make([][]int, len(categories))
	for i, a := range apps {
		byCat[a.Cat] = append(byCat[a.Cat], i)
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 5)), 1.1, 1, uint64(len(apps)-1))
	type key struct {
		user int64
		app  int
	}
	usage := map[key]*[8]int64{} // first, last, launches, morning, afternoon, evening, night
	perApp := make([]int64, len(apps))
	type launch struct {
		app   int
		user  int64
		scene string
		at    int64
	}
	scenes := []string{"qr", "search", "recommendation", "channel", "share", "recent", "favourite", "link", "miniprogram"}
	launches := make([]launch, 0, sh.Launches)
	span := int64(sh.Days) * 24 * 3600 * 1000
	per := sh.Launches / sh.Users
	for u := int64(1); u <= int64(sh.Users); u++ {
		favCats := []int{rng.IntN(len(categories)), rng.IntN(len(categories))}
		var fav []int
		for j := 0; j < 3+rng.IntN(6); j++ {
			if rng.IntN(3) == 0 {
				fav = append(fav, int(zipf.Uint64()))
			} else {
				c := byCat[favCats[rng.IntN(2)]]
				fav = append(fav, c[int(zipf.Uint64())%len(c)])
			}
		}
		hour := rng.IntN(24)
		n := per/2 + rng.IntN(per+1)
		if u == int64(sh.Users) {
			n = sh.Launches - len(launches)
		}
		for j := 0; j < n && len(launches) < sh.Launches; j++ {
			app := fav[min(len(fav)-1, int(math.Abs(rng.NormFloat64())*2))]
			at := Now.UnixMilli() - rng.Int64N(span)
			t := time.UnixMilli(at).UTC()
			h := (hour + rng.IntN(3) - 1 + 24) % 24
			at = time.Date(t.Year(), t.Month(), t.Day(), h, rng.IntN(60), 0, 0, time.UTC).UnixMilli()
			if at > Now.UnixMilli() {
				at -= 24 * 3600 * 1000
			}
			launches = append(launches, launch{app, u, scenes[rng.IntN(len(scenes))], at})
			k := key{u, app}
			a := usage[k]
			if a == nil {
				a = &[8]int64{at, at}
				usage[k] = a
			}
			a[0], a[1], a[2] = min(a[0], at), max(a[1], at), a[2]+1
			switch {
			case h >= 5 && h < 11:
				a[3]++
			case h >= 11 && h < 17:
				a[4]++
			case h >= 17 && h < 22:
				a[5]++
			default:
				a[6]++
			}
			perApp[app]++
		}
	}
	sort.Slice(launches, func(i, j int) bool { return launches[i].at < launches[j].at })
	if err := bulk(ctx, db, "discovery_launches (app_id, account_id, scene, new_user, foreground_ms, at)", 6, len(launches), func(i int) []any {
		l := launches[i]
		return []any{apps[l.app].Doc.AppID, l.user, l.scene, 0, rng.Int64N(300_000), l.at}
	}); err != nil {
		return err
	}
	keys := make([]key, 0, len(usage))
	for k := range usage {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].user != keys[j].user {
			return keys[i].user < keys[j].user
		}
		return keys[i].app < keys[j].app
	})
	if err := bulk(ctx, db, "discovery_user_apps (account_id, app_id, first_at, last_at, launches, morning, afternoon, evening, night, in_recent)", 10, len(keys), func(i int) []any {
		k := keys[i]
		a := usage[k]
		return []any{k.user, apps[k.app].Doc.AppID, a[0], a[1], a[2], a[3], a[4], a[5], a[6], 1}
	}); err != nil {
		return err
	}
	var counts []int
	for i, n := range perApp {
		if n > 0 {
			counts = append(counts, i)
		}
	}
	for start := 0; start < len(counts); start += 1000 {
		chunk := counts[start:min(len(counts), start+1000)]
		vals := make([]string, len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for i, a := range chunk {
			vals[i] = "(?, CAST(? AS BIGINT))"
			args = append(args, apps[a].Doc.AppID, perApp[a])
		}
		if _, err := db.Exec(ctx, `WITH v(app_id, n) AS (VALUES `+strings.Join(vals, ", ")+`)
			UPDATE discovery_apps SET launches = v.n FROM v WHERE discovery_apps.app_id = v.app_id`, args...); err != nil {
			return fmt.Errorf("launch counts: %w", err)
		}
	}
	// Payments: users pay in the apps they use.
	return bulk(ctx, db, "discovery_payments (account_id, app_id, merchant_category, amount, currency, at)", 6, sh.Payments, func(i int) []any {
		l := launches[rng.IntN(len(launches))]
		a := apps[l.app].Doc
		return []any{l.user, a.AppID, a.Category, 100 + rng.Int64N(20_000), "", l.at + 60_000}
	})
}

// bulk inserts n rows of cols values each with multi-row INSERTs, 20,000
// rows to a transaction.
func bulk(ctx context.Context, db *sqldb.DB, table string, cols, n int, row func(i int) []any) error {
	per := 30_000 / cols // bound parameters per statement stay far below both engines' limits
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for start := 0; start < n; start += 20_000 {
		end := min(n, start+20_000)
		err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
			for s := start; s < end; s += per {
				e := min(end, s+per)
				vals := make([]string, 0, e-s)
				args := make([]any, 0, (e-s)*cols)
				for i := s; i < e; i++ {
					vals = append(vals, one)
					args = append(args, row(i)...)
				}
				if _, err := tx.Exec(ctx, "INSERT INTO "+table+" VALUES "+strings.Join(vals, ", "), args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bulk insert into %s: %w", strings.Fields(table)[0], err)
		}
	}
	return nil
}
