package discovery

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/sqldb"
)

// JobRefresh is the job kind that recomputes trending apps and "people who
// use X also use Y" (Service.Refresh).
const JobRefresh = "discovery.refresh"

// RegisterJobs makes q run Refresh every interval (default 15 minutes) on
// one replica at a time.
func (s *Service) RegisterJobs(q *jobs.Queue, every time.Duration) {
	if every <= 0 {
		every = 15 * time.Minute
	}
	q.Register(JobRefresh, jobs.Kind{
		Handler:     func(ctx context.Context, _ jobs.Job) error { return s.Refresh(ctx) },
		MaxAttempts: 3,
		Timeout:     10 * time.Minute,
	})
	q.Every(JobRefresh, every)
}

// Windows and sizes of the refresh.
const (
	trendingWindow = 3 * 24 * time.Hour // recent users are counted over this
	trendingBase   = 3                  // baseline: this many windows before it
	trendingMin    = 3                  // recent users an app needs to trend
	trendingKeep   = 100

	relatedWindow  = 90 * 24 * time.Hour // usage that counts for co-occurrence
	relatedSample  = 1000                // most recent users of an app compared
	relatedMinPair = 2                   // users two apps must share
	relatedKeep    = 20                  // related apps kept per app
)

// Refresh recomputes the trending list and related apps from launches. It
// is idempotent and safe to run on several replicas (the job queue runs
// it on one). Each app's related list is replaced in its own short
// transaction, so readers never see a half-written list.
func (s *Service) Refresh(ctx context.Context) error {
	start := time.Now()
	now := s.now()
	moved, err := s.refreshTiers(ctx)
	if err != nil {
		return fmt.Errorf("refresh popularity tiers: %w", err)
	}
	n, err := s.refreshTrending(ctx, now)
	if err != nil {
		return fmt.Errorf("refresh trending: %w", err)
	}
	r, err := s.refreshRelated(ctx, now)
	if err != nil {
		return fmt.Errorf("refresh related apps: %w", err)
	}
	s.log.Info("discovery: refreshed", "retiered", moved, "trending", n, "related_apps", r, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// refreshTiers re-tiers indexed documents whose launch count was changed
// outside RecordLaunch (imports, repairs); RecordLaunch keeps tiers itself.
func (s *Service) refreshTiers(ctx context.Context) (int, error) {
	total := 0
	for {
		var rows []*docRow
		err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.Query(ctx, `SELECT `+docColumns+` FROM discovery_apps
				WHERE listed = 1 AND removed = 0 AND search_tier <> `+tierCase()+` ORDER BY id LIMIT 500`)
			if err != nil {
				return err
			}
			for res.Next() {
				r := &docRow{}
				if err := r.scan(res); err != nil {
					res.Close()
					return err
				}
				rows = append(rows, r)
			}
			res.Close()
			if err := res.Err(); err != nil {
				return err
			}
			return s.retier(ctx, tx, rows)
		})
		if err != nil {
			return total, err
		}
		total += len(rows)
		if len(rows) < 500 {
			return total, nil
		}
	}
}

type trend struct {
	app                   string
	users, prev, launches int64
	score                 float64
}

func (s *Service) refreshTrending(ctx context.Context, now time.Time) (int, error) {
	recentFrom := now.Add(-trendingWindow)
	baseFrom := recentFrom.Add(-trendingBase * trendingWindow)
	byApp := map[string]*trend{}
	rows, err := s.db.Query(ctx, `SELECT app_id, COUNT(DISTINCT account_id), COUNT(*) FROM discovery_launches
		WHERE at >= ? AND at <= ? GROUP BY app_id`, ms(recentFrom), ms(now))
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		t := &trend{}
		if err := rows.Scan(&t.app, &t.users, &t.launches); err != nil {
			rows.Close()
			return 0, err
		}
		if t.users >= trendingMin {
			byApp[t.app] = t
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rows, err = s.db.Query(ctx, `SELECT app_id, COUNT(DISTINCT account_id) FROM discovery_launches
		WHERE at >= ? AND at < ? GROUP BY app_id`, ms(baseFrom), ms(recentFrom))
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var app string
		var users int64
		if err := rows.Scan(&app, &users); err != nil {
			rows.Close()
			return 0, err
		}
		if t := byApp[app]; t != nil {
			t.prev = users
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	list := make([]*trend, 0, len(byApp))
	for _, t := range byApp {
		// Many recent users, and more than the app usually has.
		base := float64(t.prev) / trendingBase
		t.score = float64(t.users) * float64(t.users) / (base + 5)
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].score != list[j].score {
			return list[i].score > list[j].score
		}
		return list[i].app < list[j].app
	})
	if len(list) > trendingKeep {
		list = list[:trendingKeep]
	}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM discovery_trending`); err != nil {
			return err
		}
		if len(list) == 0 {
			return nil
		}
		vals := make([]string, len(list))
		args := make([]any, 0, 6*len(list))
		for i, t := range list {
			vals[i] = "(?, ?, ?, ?, ?, ?)"
			args = append(args, t.app, i+1, t.users, t.prev, t.launches, ms(now))
		}
		_, err := tx.Exec(ctx, `INSERT INTO discovery_trending (app_id, rank, users, prev_users, launches, computed_at) VALUES `+
			strings.Join(vals, ", "), args...)
		return err
	})
	return len(list), err
}

type related struct {
	app    string
	shared int64
	score  int64
}

func (s *Service) refreshRelated(ctx context.Context, now time.Time) (int, error) {
	since := ms(now.Add(-relatedWindow))
	users := map[string]int64{}
	var apps []string
	rows, err := s.db.Query(ctx, `SELECT app_id, COUNT(*) FROM discovery_user_apps WHERE last_at >= ? GROUP BY app_id ORDER BY app_id`, since)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var app string
		var n int64
		if err := rows.Scan(&app, &n); err != nil {
			rows.Close()
			return 0, err
		}
		users[app] = n
		if n >= relatedMinPair {
			apps = append(apps, app)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	done := map[string]bool{}
	for _, app := range apps {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		list, err := s.relatedTo(ctx, app, since, users)
		if err != nil {
			return 0, err
		}
		err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM discovery_related WHERE app_id = ?`, app); err != nil {
				return err
			}
			if len(list) == 0 {
				return nil
			}
			vals := make([]string, len(list))
			args := make([]any, 0, 4*len(list))
			for i, r := range list {
				vals[i] = "(?, ?, ?, ?)"
				args = append(args, app, r.app, r.shared, r.score)
			}
			_, err := tx.Exec(ctx, `INSERT INTO discovery_related (app_id, related_id, shared_users, score) VALUES `+
				strings.Join(vals, ", "), args...)
			return err
		})
		if err != nil {
			return 0, err
		}
		done[app] = true
	}
	// Apps no longer used together with anything lose their lists.
	rows, err = s.db.Query(ctx, `SELECT DISTINCT app_id FROM discovery_related`)
	if err != nil {
		return 0, err
	}
	var stale []string
	for rows.Next() {
		var app string
		if err := rows.Scan(&app); err != nil {
			rows.Close()
			return 0, err
		}
		if !done[app] {
			stale = append(stale, app)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, app := range stale {
		if _, err := s.db.Exec(ctx, `DELETE FROM discovery_related WHERE app_id = ?`, app); err != nil {
			return 0, err
		}
	}
	return len(done), nil
}

// relatedTo returns the apps most used by app's recent users, scored by
// cosine similarity of their user sets.
func (s *Service) relatedTo(ctx context.Context, app string, since int64, users map[string]int64) ([]related, error) {
	rows, err := s.db.Query(ctx, `SELECT b.app_id, COUNT(*)
		FROM (SELECT account_id FROM discovery_user_apps WHERE app_id = ? AND last_at >= ?
		      ORDER BY last_at DESC LIMIT ?) a
		JOIN discovery_user_apps b ON b.account_id = a.account_id
		WHERE b.app_id <> ? AND b.last_at >= ?
		GROUP BY b.app_id HAVING COUNT(*) >= ?`, app, since, relatedSample, app, since, relatedMinPair)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	nx := float64(min(users[app], relatedSample))
	var out []related
	for rows.Next() {
		var r related
		if err := rows.Scan(&r.app, &r.shared); err != nil {
			return nil, err
		}
		ny := float64(max(users[r.app], r.shared))
		r.score = int64(1e6 * float64(r.shared) / math.Sqrt(nx*ny))
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].app < out[j].app
	})
	if len(out) > relatedKeep {
		out = out[:relatedKeep]
	}
	return out, nil
}

// TrendingApp is an entry of the trending list.
type TrendingApp struct {
	AppCard
	Rank      int   `json:"rank"`
	Users     int64 `json:"users"`      // distinct users in the last 3 days
	PrevUsers int64 `json:"prev_users"` // distinct users in the 9 days before
	Launches  int64 `json:"launches"`   // launches in the last 3 days
	// Removed is true when the operator took the app out of discovery
	// (users do not see it); Listed is false when it is unpublished.
	Removed bool      `json:"removed"`
	Listed  bool      `json:"listed"`
	At      time.Time `json:"computed_at"`
}

// Trending returns the trending list as last computed by Refresh, up to
// limit entries (default 20, at most 100), for the operator console: it
// includes removed and unlisted apps, flagged.
func (s *Service) Trending(ctx context.Context, limit int) ([]TrendingApp, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, trendingKeep)
	rows, err := s.db.Query(ctx, `SELECT `+cardColumns+`, t.rank, t.users, t.prev_users, t.launches, d.removed, d.listed, t.computed_at
		FROM discovery_trending t JOIN discovery_apps d ON d.app_id = t.app_id
		ORDER BY t.rank LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("trending: %w", err)
	}
	defer rows.Close()
	out := []TrendingApp{}
	for rows.Next() {
		var a TrendingApp
		var g, removed, listed, at int64
		if err := rows.Scan(append(scanCard(&a.AppCard, &g), &a.Rank, &a.Users, &a.PrevUsers, &a.Launches, &removed, &listed, &at)...); err != nil {
			return nil, err
		}
		a.Games, a.Removed, a.Listed, a.At = g == 1, removed == 1, listed == 1, fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
