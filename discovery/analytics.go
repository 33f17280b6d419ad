package discovery

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/openmini/openmini"
)

// AnalyticsQuery asks for an app's figures over calendar days.
type AnalyticsQuery struct {
	AppID string
	// From and To are the first and last day (inclusive; only the date in
	// Location counts). At most 366 days.
	From, To time.Time
	// Location is where days begin and end; nil means UTC.
	Location *time.Location
	// Currency selects the payments whose amounts are added up: "" (the
	// default) is the platform currency. Payments in other currencies are
	// counted, and their number reported in Totals.OtherCurrencyPayments.
	Currency string
}

// DayStats are one day's figures.
type DayStats struct {
	Day               string          `json:"day"` // YYYY-MM-DD
	Launches          int64           `json:"launches"`
	AnonymousLaunches int64           `json:"anonymous_launches"`
	UniqueUsers       int64           `json:"unique_users"` // signed-in users who launched
	NewUsers          int64           `json:"new_users"`    // users whose first launch of the app it was
	Scenes            map[Scene]int64 `json:"scenes"`       // launches by source
	// AvgSessionMs is the mean foreground time of the day's launches that
	// reported one (SessionLaunches); 0 when none did.
	AvgSessionMs    int64 `json:"avg_session_ms"`
	SessionLaunches int64 `json:"session_launches"`
	// Retention of the day's new users: how many launched again one day
	// (seven days) later. The rates are null until that day is over or
	// when there were no new users.
	Day1Retained int64    `json:"day1_retained"`
	Day1Rate     *float64 `json:"day1_rate"`
	Day7Retained int64    `json:"day7_retained"`
	Day7Rate     *float64 `json:"day7_rate"`
	// Payments in the app (RecordPayment): all of them, and the amount of
	// those in the query's currency, in minor units.
	Payments      int64 `json:"payments"`
	PaymentAmount int64 `json:"payment_amount"`
	// QR funnel: scans (RecordScan), launches with a QR slug, distinct
	// signed-in users who did either, and those of them who paid in the app
	// within 24 hours of their first scan that day.
	Scans      int64    `json:"scans"`
	QRLaunches int64    `json:"qr_launches"`
	Scanners   int64    `json:"scanners"`
	ScanPayers int64    `json:"scan_payers"`
	Conversion *float64 `json:"conversion"` // ScanPayers / Scanners; null without scanners
}

// Totals sum a report's days; UniqueUsers and Scanners are distinct over
// the whole range, the rates are weighted by their cohorts.
type Totals struct {
	Launches              int64           `json:"launches"`
	AnonymousLaunches     int64           `json:"anonymous_launches"`
	UniqueUsers           int64           `json:"unique_users"`
	NewUsers              int64           `json:"new_users"`
	Scenes                map[Scene]int64 `json:"scenes"`
	AvgSessionMs          int64           `json:"avg_session_ms"`
	Day1Rate              *float64        `json:"day1_rate"`
	Day7Rate              *float64        `json:"day7_rate"`
	Payments              int64           `json:"payments"`
	PaymentAmount         int64           `json:"payment_amount"`
	OtherCurrencyPayments int64           `json:"other_currency_payments"`
	Scans                 int64           `json:"scans"`
	QRLaunches            int64           `json:"qr_launches"`
	Scanners              int64           `json:"scanners"`
	ScanPayers            int64           `json:"scan_payers"`
	Conversion            *float64        `json:"conversion"`
}

// QRStats is the QR funnel of one code over the report's range.
type QRStats struct {
	Slug     string `json:"slug"`
	Scans    int64  `json:"scans"`
	Launches int64  `json:"launches"`
	Scanners int64  `json:"scanners"`
	Payers   int64  `json:"payers"`
}

// Report is an app's analytics over a range of days.
type Report struct {
	AppID    string     `json:"app_id"`
	From     string     `json:"from"`
	To       string     `json:"to"`
	TimeZone string     `json:"time_zone"`
	Currency string     `json:"currency"`
	Days     []DayStats `json:"days"`
	Totals   Totals     `json:"totals"`
	QRCodes  []QRStats  `json:"qr_codes"` // up to 100, most scanned first
}

const (
	maxReportDays   = 366
	conversionDelay = 24 * time.Hour
	dayLayout       = "2006-01-02"
)

// dayAcc accumulates one day.
type dayAcc struct {
	DayStats
	users, newUsers, scanners map[int64]bool
	firstScan                 map[int64]int64 // account -> first scan or QR launch that day
	sessionMs                 int64
}

// Analytics computes an app's report from launch, payment and scan events.
// It reads the events of the range (and the week after it, for retention),
// so its cost grows with the app's traffic; call it for developer pages and
// exports, not on every request. Errors: invalid (bad range), not_found.
func (s *Service) Analytics(ctx context.Context, q AnalyticsQuery) (*Report, error) {
	if err := checkAppID("app_id", q.AppID); err != nil {
		return nil, err
	}
	if q.Currency != "" && !isCurrency(q.Currency) {
		return nil, invalid("currency: %.10q is not an ISO 4217 code", q.Currency)
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	first := startOfDay(q.From, loc)
	last := startOfDay(q.To, loc)
	if q.From.IsZero() || q.To.IsZero() || last.Before(first) {
		return nil, invalid("from, to: give a first and a last day, in order")
	}
	var days []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if len(days) == maxReportDays {
			return nil, openmini.Errorf(openmini.ETOOLARGE, "from, to: at most %d days", maxReportDays)
		}
		days = append(days, d)
	}
	var one int
	if err := s.db.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = ?`, q.AppID).Scan(&one); err != nil {
		if isNotFound(err) {
			return nil, notFound("app %s does not exist", q.AppID)
		}
		return nil, fmt.Errorf("analytics: %w", err)
	}
	end := last.AddDate(0, 0, 1) // end of the range
	acc := make([]*dayAcc, len(days))
	index := map[string]int{}
	for i, d := range days {
		key := d.Format(dayLayout)
		index[key] = i
		acc[i] = &dayAcc{DayStats: DayStats{Day: key, Scenes: map[Scene]int64{}},
			users: map[int64]bool{}, newUsers: map[int64]bool{}, scanners: map[int64]bool{}, firstScan: map[int64]int64{}}
	}
	dayOf := func(at int64) string { return time.UnixMilli(at).In(loc).Format(dayLayout) }
	r := &Report{AppID: q.AppID, From: days[0].Format(dayLayout), To: days[len(days)-1].Format(dayLayout),
		TimeZone: loc.String(), Currency: q.Currency, QRCodes: []QRStats{}}
	tot := &r.Totals
	tot.Scenes = map[Scene]int64{}
	allUsers, allScanners := map[int64]bool{}, map[int64]bool{}
	qr := map[string]*qrAcc{}
	active := map[string]map[int64]bool{} // day -> accounts, through a week after the range

	// Launches, with a week more for retention.
	rows, err := s.db.Query(ctx, `SELECT account_id, scene, qr_slug, new_user, foreground_ms, at FROM discovery_launches
		WHERE app_id = ? AND at >= ? AND at < ?`, q.AppID, ms(first), ms(end.AddDate(0, 0, 8)))
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	for rows.Next() {
		var acct sql.NullInt64
		var scene, slug string
		var isNew, fg, at int64
		if err := rows.Scan(&acct, &scene, &slug, &isNew, &fg, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("analytics: %w", err)
		}
		day := dayOf(at)
		if acct.Valid {
			if active[day] == nil {
				active[day] = map[int64]bool{}
			}
			active[day][acct.Int64] = true
		}
		i, in := index[day]
		if !in {
			continue
		}
		a := acc[i]
		a.Launches++
		a.Scenes[Scene(scene)]++
		if fg > 0 {
			a.SessionLaunches++
			a.sessionMs += fg
		}
		if acct.Valid {
			a.users[acct.Int64] = true
			allUsers[acct.Int64] = true
			if isNew == 1 {
				a.newUsers[acct.Int64] = true
			}
		} else {
			a.AnonymousLaunches++
		}
		if slug != "" {
			a.QRLaunches++
			qa := qrFor(qr, slug)
			qa.Launches++
			if acct.Valid {
				a.scan(acct.Int64, at)
				qa.scan(acct.Int64, at)
				allScanners[acct.Int64] = true
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}

	// Scans.
	rows, err = s.db.Query(ctx, `SELECT account_id, qr_slug, at FROM discovery_scans WHERE app_id = ? AND at >= ? AND at < ?`,
		q.AppID, ms(first), ms(end))
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	for rows.Next() {
		var acct sql.NullInt64
		var slug string
		var at int64
		if err := rows.Scan(&acct, &slug, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("analytics: %w", err)
		}
		i, in := index[dayOf(at)]
		if !in {
			continue
		}
		a := acc[i]
		a.Scans++
		qa := qrFor(qr, slug)
		qa.Scans++
		if acct.Valid {
			a.scan(acct.Int64, at)
			qa.scan(acct.Int64, at)
			allScanners[acct.Int64] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}

	// Payments, with a day more for scans late on the last day.
	pays := map[int64][]int64{} // account -> payment times
	rows, err = s.db.Query(ctx, `SELECT account_id, amount, currency, at FROM discovery_payments WHERE app_id = ? AND at >= ? AND at < ?`,
		q.AppID, ms(first), ms(end.Add(conversionDelay)))
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	for rows.Next() {
		var acct sql.NullInt64
		var amount, at int64
		var cur string
		if err := rows.Scan(&acct, &amount, &cur, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("analytics: %w", err)
		}
		if acct.Valid {
			pays[acct.Int64] = append(pays[acct.Int64], at)
		}
		i, in := index[dayOf(at)]
		if !in {
			continue
		}
		a := acc[i]
		a.Payments++
		if cur == q.Currency {
			a.PaymentAmount += amount
		} else {
			tot.OtherCurrencyPayments++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	for _, ts := range pays {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	}
	paidWithin := func(acct, from int64) bool {
		ts := pays[acct]
		i := sort.Search(len(ts), func(i int) bool { return ts[i] >= from })
		return i < len(ts) && ts[i] < from+conversionDelay.Milliseconds()
	}

	today := startOfDay(s.now(), loc)
	var cohort, kept1, cohort7, kept7 int64
	var sessionMs, sessionN int64
	for i, a := range acc {
		d := days[i]
		a.UniqueUsers, a.NewUsers, a.Scanners = int64(len(a.users)), int64(len(a.newUsers)), int64(len(a.scanners))
		if a.SessionLaunches > 0 {
			a.AvgSessionMs = a.sessionMs / a.SessionLaunches
		}
		for acct, at := range a.firstScan {
			if paidWithin(acct, at) {
				a.ScanPayers++
			}
		}
		a.Conversion = rate(a.ScanPayers, a.Scanners)
		for _, k := range []int{1, 7} {
			later := d.AddDate(0, 0, k)
			if !later.Before(today) || a.NewUsers == 0 {
				continue // that day is not over yet
			}
			var kept int64
			for acct := range a.newUsers {
				if active[later.Format(dayLayout)][acct] {
					kept++
				}
			}
			if k == 1 {
				a.Day1Retained, a.Day1Rate = kept, rate(kept, a.NewUsers)
				cohort, kept1 = cohort+a.NewUsers, kept1+kept
			} else {
				a.Day7Retained, a.Day7Rate = kept, rate(kept, a.NewUsers)
				cohort7, kept7 = cohort7+a.NewUsers, kept7+kept
			}
		}
		tot.Launches += a.Launches
		tot.AnonymousLaunches += a.AnonymousLaunches
		tot.NewUsers += a.NewUsers
		for sc, n := range a.Scenes {
			tot.Scenes[sc] += n
		}
		sessionMs, sessionN = sessionMs+a.sessionMs, sessionN+a.SessionLaunches
		tot.Payments += a.Payments
		tot.PaymentAmount += a.PaymentAmount
		tot.Scans += a.Scans
		tot.QRLaunches += a.QRLaunches
		tot.ScanPayers += a.ScanPayers
		r.Days = append(r.Days, a.DayStats)
	}
	tot.UniqueUsers, tot.Scanners = int64(len(allUsers)), int64(len(allScanners))
	if sessionN > 0 {
		tot.AvgSessionMs = sessionMs / sessionN
	}
	tot.Day1Rate, tot.Day7Rate = rate(kept1, cohort), rate(kept7, cohort7)
	tot.Conversion = rate(tot.ScanPayers, tot.Scanners)

	for slug, qa := range qr {
		st := QRStats{Slug: slug, Scans: qa.Scans, Launches: qa.Launches, Scanners: int64(len(qa.first))}
		for acct, at := range qa.first {
			if paidWithin(acct, at) {
				st.Payers++
			}
		}
		r.QRCodes = append(r.QRCodes, st)
	}
	sort.Slice(r.QRCodes, func(i, j int) bool {
		a, b := r.QRCodes[i], r.QRCodes[j]
		if a.Scans+a.Launches != b.Scans+b.Launches {
			return a.Scans+a.Launches > b.Scans+b.Launches
		}
		return a.Slug < b.Slug
	})
	if len(r.QRCodes) > 100 {
		r.QRCodes = r.QRCodes[:100]
	}
	return r, nil
}

// scan notes a signed-in user's scan or QR launch on this day.
func (a *dayAcc) scan(acct, at int64) {
	a.scanners[acct] = true
	if t, ok := a.firstScan[acct]; !ok || at < t {
		a.firstScan[acct] = at
	}
}

type qrAcc struct {
	Scans, Launches int64
	first           map[int64]int64
}

func qrFor(m map[string]*qrAcc, slug string) *qrAcc {
	q := m[slug]
	if q == nil {
		q = &qrAcc{first: map[int64]int64{}}
		m[slug] = q
	}
	return q
}

func (q *qrAcc) scan(acct, at int64) {
	if t, ok := q.first[acct]; !ok || at < t {
		q.first[acct] = at
	}
}

func rate(n, of int64) *float64 {
	if of == 0 {
		return nil
	}
	r := float64(n) / float64(of)
	return &r
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
