package discovery

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// RecommendRequest asks for one user's recommendations.
type RecommendRequest struct {
	AccountID int64 // 0 for a user who is not signed in: popular, trending, nearby
	// At is now in the user's time zone (time of day habits); zero means
	// the service clock in UTC.
	At time.Time
	// Location is where the user is, if they shared it: merchant apps
	// within 2 km are recommended with their distance.
	Location *Point
	Limit    int // default 10, at most 50
}

// Recommendation is a recommended app and why.
type Recommendation struct {
	AppCard
	Reason Reason `json:"reason"`
}

// Tuning of recommendations.
const (
	nearbyRadiusM   = 2000
	paymentsWindow  = 180 * 24 * time.Hour
	habitWindow     = 30 * 24 * time.Hour
	habitHalfLife   = 14 * 24 * time.Hour
	maxRecommend    = 50
	userAppsRead    = 100
	relatedSeedApps = 10
)

// Scores of reason kinds: a base and a range each reason's own strength
// moves within. A new user's popular apps are lifted above trending ones.
const (
	scoreTimeOfDay = 70
	scoreMerchant  = 55
	scoreAlsoUsed  = 50
	scoreNearby    = 50
	scoreSpending  = 45
	scoreFrequent  = 40
	scoreTrending  = 30
	scorePopular   = 20
	scoreNewUser   = 35
	// A new user sees what is rising before what is merely big.
	scoreNewUserTrend = 40
)

type recCandidate struct {
	score  float64
	reason Reason
}

// recommender collects candidates for one request.
type recommender struct {
	s      *Service
	req    RecommendRequest
	now    time.Time
	games  bool
	used   map[string]*userApp
	byKind map[ReasonKind]int
	cands  map[string]*recCandidate
}

type userApp struct {
	app            string
	name           string
	launches, last int64
	parts          [4]int64 // morning, afternoon, evening, night
	frecency       float64
}

func (r *recommender) offer(app string, score float64, reason Reason) {
	if c := r.cands[app]; c == nil || score > c.score {
		r.cands[app] = &recCandidate{score: score, reason: reason}
	}
}

// Recommend returns recommendations for a user, best first, each with
// one structured reason (Reason.Text renders it in English or Chinese):
// habits (apps used at this time of day or often), apps used by the same
// people as theirs, their spending categories and merchants (from
// RecordPayment), merchant apps nearby, trending and popular apps. A new
// user (no launches, no payments) gets nearby, trending and popular apps. Hidden recommendations,
// removed, unlisted and (when disallowed) game apps never appear. Related
// apps and trending come from the last Refresh. Errors: invalid, too_large.
func (s *Service) Recommend(ctx context.Context, req RecommendRequest) ([]Recommendation, error) {
	if req.Limit <= 0 {
		req.Limit = 10
	}
	if req.Limit > maxRecommend {
		return nil, openmini.Errorf(openmini.ETOOLARGE, "limit: at most %d recommendations", maxRecommend)
	}
	if req.AccountID < 0 {
		return nil, invalid("account_id: negative")
	}
	if req.Location != nil && !req.Location.valid() {
		return nil, invalid("location: outside -90..90, -180..180 degrees")
	}
	now := s.now()
	if req.At.IsZero() {
		req.At = now.UTC()
	}
	games, err := s.gamesAllowed(ctx)
	if err != nil {
		return nil, err
	}
	r := &recommender{s: s, req: req, now: now, games: games, used: map[string]*userApp{},
		byKind: map[ReasonKind]int{}, cands: map[string]*recCandidate{}}
	recs, err := r.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	return recs, nil
}

func (r *recommender) run(ctx context.Context) ([]Recommendation, error) {
	// The queries run one after another: on the benchmark machine (2 cores,
	// database on the same host) running them in parallel cost more CPU and
	// gave a slower median (BENCHMARKS.md).
	hidden := map[string]bool{}
	paid := false
	var err error
	if r.req.AccountID > 0 {
		if hidden, err = stringSet(ctx, r.s.db, `SELECT app_id FROM discovery_hidden WHERE account_id = ?`, r.req.AccountID); err != nil {
			return nil, err
		}
		if err := r.habits(ctx); err != nil {
			return nil, err
		}
		if err := r.alsoUsed(ctx); err != nil {
			return nil, err
		}
		if paid, err = r.payments(ctx); err != nil {
			return nil, err
		}
	}
	if r.req.Location != nil {
		if err := r.nearby(ctx); err != nil {
			return nil, err
		}
	}
	trend, err := rankedApps(ctx, r.s.db, `SELECT app_id, rank, users FROM discovery_trending ORDER BY rank LIMIT 20`)
	if err != nil {
		return nil, err
	}
	pop, err := rankedApps(ctx, r.s.db, `SELECT d.app_id, 0, d.launches FROM discovery_apps d
		WHERE d.listed = 1 AND d.removed = 0 AND d.launches > 0`+gamesFilter(r.games)+`
		ORDER BY d.launches DESC, d.app_id DESC LIMIT 20`)
	if err != nil {
		return nil, err
	}
	newUser := len(r.used) == 0 && !paid
	r.trending(trend, newUser)
	r.popular(pop, newUser)
	return r.finish(ctx, hidden)
}

// rankedApp is a row of the trending list (rank, users) or the popular list
// (launches in n).
type rankedApp struct {
	app  string
	rank int
	n    int64
}

func rankedApps(ctx context.Context, q sqldb.Querier, query string) ([]rankedApp, error) {
	rows, err := q.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rankedApp
	for rows.Next() {
		var a rankedApp
		if err := rows.Scan(&a.app, &a.rank, &a.n); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// habits offers the user's own apps used at this time of day, or often.
func (r *recommender) habits(ctx context.Context) error {
	rows, err := r.s.db.Query(ctx, `SELECT ua.app_id, d.name, ua.launches, ua.last_at, ua.morning, ua.afternoon, ua.evening, ua.night
		FROM discovery_user_apps ua JOIN discovery_apps d ON d.app_id = ua.app_id
		WHERE ua.account_id = ? ORDER BY ua.last_at DESC LIMIT ?`, r.req.AccountID, userAppsRead)
	if err != nil {
		return err
	}
	defer rows.Close()
	part := dayPart(r.req.At.Hour())
	partIdx := map[string]int{"morning": 0, "afternoon": 1, "evening": 2, "night": 3}[part]
	for rows.Next() {
		u := &userApp{}
		if err := rows.Scan(&u.app, &u.name, &u.launches, &u.last, &u.parts[0], &u.parts[1], &u.parts[2], &u.parts[3]); err != nil {
			return err
		}
		age := r.now.Sub(fromMS(u.last))
		u.frecency = float64(u.launches) * math.Pow(0.5, age.Hours()/habitHalfLife.Hours())
		r.used[u.app] = u
		if age > habitWindow || u.launches < 3 {
			continue
		}
		if n := u.parts[partIdx]; n >= 3 && 2*n >= u.launches {
			r.offer(u.app, scoreTimeOfDay+10*float64(n)/float64(u.launches),
				Reason{Kind: ReasonTimeOfDay, DayPart: part, Count: n})
		} else {
			r.offer(u.app, scoreFrequent+math.Min(15, 3*u.frecency), Reason{Kind: ReasonFrequent, Count: u.launches})
		}
	}
	return rows.Err()
}

// alsoUsed offers apps used by the people who use the user's favourite
// apps (from Refresh).
func (r *recommender) alsoUsed(ctx context.Context) error {
	seeds := make([]*userApp, 0, len(r.used))
	for _, u := range r.used {
		seeds = append(seeds, u)
	}
	sort.Slice(seeds, func(i, j int) bool {
		if seeds[i].frecency != seeds[j].frecency {
			return seeds[i].frecency > seeds[j].frecency
		}
		return seeds[i].app < seeds[j].app
	})
	if len(seeds) > relatedSeedApps {
		seeds = seeds[:relatedSeedApps]
	}
	if len(seeds) == 0 {
		return nil
	}
	args := make([]any, len(seeds))
	top := seeds[0].frecency
	for i, u := range seeds {
		args[i] = u.app
	}
	rows, err := r.s.db.Query(ctx, `SELECT app_id, related_id, score FROM discovery_related
		WHERE app_id IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var from, to string
		var score int64
		if err := rows.Scan(&from, &to, &score); err != nil {
			return err
		}
		if r.used[to] != nil {
			continue
		}
		seed := r.used[from]
		weight := 0.5
		if top > 0 {
			weight += 0.5 * seed.frecency / top
		}
		r.offer(to, scoreAlsoUsed+20*weight*float64(score)/1e6,
			Reason{Kind: ReasonAlsoUsed, AppID: seed.app, AppName: seed.name})
	}
	return rows.Err()
}

// payments offers apps in the user's spending categories and other apps
// of the merchants they paid. It reports whether the user paid at all.
func (r *recommender) payments(ctx context.Context) (bool, error) {
	rows, err := r.s.db.Query(ctx, `SELECT p.app_id, d.name, d.org_id, d.merchant_name, p.merchant_category, COUNT(*)
		FROM discovery_payments p JOIN discovery_apps d ON d.app_id = p.app_id
		WHERE p.account_id = ? AND p.at >= ?
		GROUP BY p.app_id, d.name, d.org_id, d.merchant_name, p.merchant_category`,
		r.req.AccountID, ms(r.now.Add(-paymentsWindow)))
	if err != nil {
		return false, err
	}
	type paidApp struct {
		app, name, merchant string
		org, count          int64
	}
	perCategory := map[string]int64{}
	byOrg := map[int64]*paidApp{}
	paid := map[string]bool{}
	for rows.Next() {
		var p paidApp
		var category string
		if err := rows.Scan(&p.app, &p.name, &p.org, &p.merchant, &category, &p.count); err != nil {
			rows.Close()
			return false, err
		}
		paid[p.app] = true
		if category != "" {
			perCategory[category] += p.count
		}
		if b := byOrg[p.org]; b == nil || p.count > b.count {
			byOrg[p.org] = &p
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if len(paid) == 0 {
		return false, nil
	}
	// The three categories the user paid in most often.
	cats := make([]string, 0, len(perCategory))
	for c := range perCategory {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		if perCategory[cats[i]] != perCategory[cats[j]] {
			return perCategory[cats[i]] > perCategory[cats[j]]
		}
		return cats[i] < cats[j]
	})
	if len(cats) > 3 {
		cats = cats[:3]
	}
	for _, cat := range cats {
		// One category at a time, so the (category, launches) index
		// yields the most launched apps without reading the rest.
		rows, err := r.s.db.Query(ctx, `SELECT d.app_id, d.launches FROM discovery_apps d
			WHERE d.category = ? AND d.listed = 1 AND d.removed = 0`+gamesFilter(r.games)+`
			ORDER BY d.launches DESC, d.app_id DESC LIMIT 10`, cat)
		if err != nil {
			return false, err
		}
		for rows.Next() {
			var app string
			var launches int64
			if err := rows.Scan(&app, &launches); err != nil {
				rows.Close()
				return false, err
			}
			if r.used[app] != nil || paid[app] {
				continue
			}
			n := perCategory[cat]
			r.offer(app, scoreSpending+math.Min(5, float64(n))+math.Log10(1+float64(launches)),
				Reason{Kind: ReasonSpending, Category: cat, Count: n})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
	}
	orgs := make([]any, 0, len(byOrg))
	for org := range byOrg {
		orgs = append(orgs, org)
	}
	rows, err = r.s.db.Query(ctx, `SELECT d.app_id, d.org_id FROM discovery_apps d
		WHERE d.org_id IN (`+placeholders(len(orgs))+`) AND d.listed = 1 AND d.removed = 0`+gamesFilter(r.games)+`
		ORDER BY d.launches DESC, d.app_id LIMIT 30`, orgs...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var app string
		var org int64
		if err := rows.Scan(&app, &org); err != nil {
			return false, err
		}
		if r.used[app] != nil || paid[app] {
			continue
		}
		p := byOrg[org]
		r.offer(app, scoreMerchant+math.Min(5, float64(p.count)),
			Reason{Kind: ReasonMerchant, AppID: p.app, AppName: p.name, Merchant: p.merchant})
	}
	return true, rows.Err()
}

// nearby offers merchant apps within nearbyRadiusM of the user.
func (r *recommender) nearby(ctx context.Context) error {
	p := *r.req.Location
	cells := nearbyCells(p, nearbyRadiusM)
	args := make([]any, len(cells))
	for i, c := range cells {
		args[i] = c
	}
	// The index covers the query; finish drops apps users may not see.
	rows, err := r.s.db.Query(ctx, `SELECT d.app_id, d.lat, d.lng FROM discovery_apps d
		WHERE d.geo_cell IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	type near struct {
		app string
		m   float64
	}
	var list []near
	for rows.Next() {
		var n near
		var lat, lng int64
		if err := rows.Scan(&n.app, &lat, &lng); err != nil {
			return err
		}
		if n.m = distanceM(p, Point{Lat: lat, Lng: lng}); n.m <= nearbyRadiusM {
			list = append(list, n)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].m != list[j].m {
			return list[i].m < list[j].m
		}
		return list[i].app < list[j].app
	})
	for i := 0; i < len(list) && i < 30; i++ {
		n := list[i]
		r.offer(n.app, scoreNearby+25*(1-n.m/nearbyRadiusM), Reason{Kind: ReasonNearby, DistanceM: int(math.Round(n.m))})
	}
	return nil
}

// trending offers the trending list's apps the user does not use yet.
func (r *recommender) trending(list []rankedApp, newUser bool) {
	base := float64(scoreTrending)
	if newUser {
		base = scoreNewUserTrend
	}
	for _, a := range list {
		if r.used[a.app] == nil {
			r.offer(a.app, base-0.5*float64(a.rank), Reason{Kind: ReasonTrending, Rank: a.rank, Count: a.n})
		}
	}
}

// popular offers the most launched apps the user does not use yet.
func (r *recommender) popular(list []rankedApp, newUser bool) {
	base := float64(scorePopular)
	if newUser {
		base = scoreNewUser
	}
	for i, a := range list {
		if r.used[a.app] == nil {
			r.offer(a.app, base-0.5*float64(i+1), Reason{Kind: ReasonPopular, Count: a.n})
		}
	}
}

// finish ranks the candidates, drops hidden and invisible apps (reading
// cards for the best few at a time) and keeps any one kind of reason to
// half the list while others are left.
func (r *recommender) finish(ctx context.Context, hidden map[string]bool) ([]Recommendation, error) {
	type ranked struct {
		app string
		c   *recCandidate
	}
	list := make([]ranked, 0, len(r.cands))
	for app, c := range r.cands {
		if !hidden[app] {
			list = append(list, ranked{app, c})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].c.score != list[j].c.score {
			return list[i].c.score > list[j].c.score
		}
		return list[i].app < list[j].app
	})
	out := []Recommendation{}
	perKind := max(2, (r.req.Limit+1)/2)
	var overflow []Recommendation
	batch := 3 * r.req.Limit
	for start := 0; start < len(list) && len(out) < r.req.Limit; start += batch {
		chunk := list[start:min(len(list), start+batch)]
		ids := make([]string, len(chunk))
		for i, x := range chunk {
			ids[i] = x.app
		}
		cards, err := r.cards(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, x := range chunk {
			c, ok := cards[x.app]
			if !ok || len(out) == r.req.Limit {
				continue
			}
			rec := Recommendation{AppCard: c, Reason: x.c.reason}
			if r.byKind[x.c.reason.Kind] >= perKind {
				overflow = append(overflow, rec)
				continue
			}
			r.byKind[x.c.reason.Kind]++
			out = append(out, rec)
		}
	}
	for _, rec := range overflow {
		if len(out) == r.req.Limit {
			break
		}
		out = append(out, rec)
	}
	return out, nil
}

// cards reads the cards of the apps among ids that users may see.
func (r *recommender) cards(ctx context.Context, ids []string) (map[string]AppCard, error) {
	cards := map[string]AppCard{}
	rows, err := r.s.db.Query(ctx, `SELECT `+cardColumns+` FROM discovery_apps d
		WHERE d.app_id IN (`+placeholders(len(ids))+`) AND d.listed = 1 AND d.removed = 0`+gamesFilter(r.games),
		anyStrings(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c AppCard
		var g int64
		if err := rows.Scan(scanCard(&c, &g)...); err != nil {
			return nil, err
		}
		c.Games = g == 1
		cards[c.AppID] = c
	}
	return cards, rows.Err()
}

func stringSet(ctx context.Context, q sqldb.Querier, query string, args ...any) (map[string]bool, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out[s] = true
	}
	return out, rows.Err()
}

// HideRecommendation stops recommending an app to a user (any reason);
// hiding it again changes nothing. Errors: not_found (app or account).
func (s *Service) HideRecommendation(ctx context.Context, accountID int64, appID string) error {
	if err := needAccount(accountID); err != nil {
		return err
	}
	if err := checkAppID("app_id", appID); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := loadDoc(ctx, tx, appID); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = ?`, accountID).Scan(&one); err != nil {
			if isNotFound(err) {
				return notFound("account %d does not exist", accountID)
			}
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO discovery_hidden (account_id, app_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (account_id, app_id) DO NOTHING`, accountID, appID, ms(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("hide recommendation: %w", err)
	}
	return nil
}

// UnhideRecommendation lets an app be recommended to the user again.
func (s *Service) UnhideRecommendation(ctx context.Context, accountID int64, appID string) error {
	if err := needAccount(accountID); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM discovery_hidden WHERE account_id = ? AND app_id = ?`, accountID, appID); err != nil {
		return fmt.Errorf("unhide recommendation: %w", err)
	}
	return nil
}

// HiddenRecommendations lists the apps a user hid, most recent first (for
// a settings page where they can be shown again).
func (s *Service) HiddenRecommendations(ctx context.Context, accountID int64) ([]AppCard, error) {
	if err := needAccount(accountID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+cardColumns+` FROM discovery_hidden h JOIN discovery_apps d ON d.app_id = h.app_id
		WHERE h.account_id = ? ORDER BY h.created_at DESC, d.app_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("hidden recommendations: %w", err)
	}
	defer rows.Close()
	out := []AppCard{}
	for rows.Next() {
		var c AppCard
		var g int64
		if err := rows.Scan(scanCard(&c, &g)...); err != nil {
			return nil, err
		}
		c.Games = g == 1
		out = append(out, c)
	}
	return out, rows.Err()
}

// distanceM is the great-circle distance between two points in metres.
func distanceM(a, b Point) float64 {
	const earth = 6371000.0
	rad := math.Pi / 180 / 1e6
	lat1, lat2 := float64(a.Lat)*rad, float64(b.Lat)*rad
	dLat, dLng := lat2-lat1, float64(b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earth * math.Asin(math.Min(1, math.Sqrt(h)))
}

// nearbyCells lists the geo cells that may hold points within radius
// metres of p.
func nearbyCells(p Point, radius float64) []int64 {
	const cellM = 1111.95 // 0.01 degree of latitude
	dLat := int64(math.Ceil(radius / cellM))
	cos := math.Cos(float64(p.Lat) / 1e6 * math.Pi / 180)
	dLng := int64(math.Ceil(radius / (cellM * math.Max(cos, 0.05))))
	dLng = min(dLng, 18000)
	la, lo := floorDiv(p.Lat, 10_000), floorDiv(p.Lng, 10_000)
	var out []int64
	for i := la - dLat; i <= la+dLat; i++ {
		if i < -9000 || i > 9000 {
			continue
		}
		for j := lo - dLng; j <= lo+dLng; j++ {
			jj := j
			if jj < -18000 {
				jj += 36000
			} else if jj >= 18000 {
				jj -= 36000
			}
			out = append(out, (i+9_000)*40_000+jj+18_000)
		}
	}
	return out
}
