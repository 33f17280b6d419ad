// Package discovery distributes traffic to mini programs: search (Chinese
// and English, typo tolerant, ranked by relevance and usage), operator
// channels, "my mini programs" (recent and favourites), launch events with
// their scene, recommendations with structured reasons, analytics for
// developers (with CSV and SVG), and the public directory feed.
//
// The Service holds the rules and the SQL; the only engine-specific part is
// the full-text index behind the searchIndex interface (FTS5 on SQLite,
// tsvector and pg_trgm on PostgreSQL). Everything else runs the same SQL on
// both engines. There is no HTTP here: web handlers call one method each.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// Options configure a Service. The zero value works.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives background job logs; nil means slog.Default().
	Logger *slog.Logger
	// GamesAllowed reports the operator's current policy. When it returns
	// false, apps indexed with Games set and channels marked Games are left
	// out of search, suggestions, channels, recommendations, "my mini
	// programs" and the feed. nil means games are allowed.
	GamesAllowed func(ctx context.Context) (bool, error)
	// BaseURL is the host's public URL ("https://mini.example.com"), used
	// for the feed's default launch and QR links.
	BaseURL string
	// LaunchURL and QRImageURL build the feed's links for an app; nil
	// means BaseURL + "/apps/{id}" and BaseURL + "/apps/{id}/qr.png".
	LaunchURL  func(appID string) string
	QRImageURL func(appID string) string
}

// Service is the traffic distribution service. It is safe for concurrent
// use and keeps no state outside the database, so any number of replicas
// may run it.
type Service struct {
	db     *sqldb.DB
	search searchIndex
	opts   Options
	log    *slog.Logger
	// searchPass is how many candidates each search pass reads (tests
	// lower it).
	searchPass int
}

// New returns a Service on db (migrated by sqldb.Open).
func New(db *sqldb.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base := strings.TrimRight(opts.BaseURL, "/")
	if opts.LaunchURL == nil {
		opts.LaunchURL = func(id string) string { return base + "/apps/" + id }
	}
	if opts.QRImageURL == nil {
		opts.QRImageURL = func(id string) string { return base + "/apps/" + id + "/qr.png" }
	}
	var idx searchIndex = sqliteIndex{}
	if db.Dialect() == sqldb.Postgres {
		idx = postgresIndex{}
	}
	return &Service{db: db, search: idx, opts: opts, log: opts.Logger, searchPass: searchPass}
}

func (s *Service) now() time.Time { return s.opts.Now() }

// gamesAllowed asks the policy hook.
func (s *Service) gamesAllowed(ctx context.Context) (bool, error) {
	if s.opts.GamesAllowed == nil {
		return true, nil
	}
	ok, err := s.opts.GamesAllowed(ctx)
	if err != nil {
		return false, fmt.Errorf("games policy: %w", err)
	}
	return ok, nil
}

// AppCard is what lists of apps show: enough to draw a tile and launch.
type AppCard struct {
	AppID     string `json:"app_id"`
	Name      string `json:"name"`
	ShortName string `json:"short_name,omitempty"`
	IconURL   string `json:"icon_url,omitempty"`
	Category  string `json:"category,omitempty"`
	Games     bool   `json:"games,omitempty"`
}

// cardColumns selects an AppCard from discovery_apps aliased d.
const cardColumns = `d.app_id, d.name, d.short_name, d.icon_url, d.category, d.games`

func scanCard(c *AppCard, games *int64) []any {
	return []any{&c.AppID, &c.Name, &c.ShortName, &c.IconURL, &c.Category, games}
}

func invalid(format string, args ...any) error {
	return openmini.Errorf(openmini.EINVALID, format, args...)
}

func notFound(format string, args ...any) error {
	return openmini.Errorf(openmini.ENOTFOUND, format, args...)
}

// checkAppID validates an app id argument.
func checkAppID(field, id string) error {
	if id == "" {
		return invalid("%s: missing app id", field)
	}
	if len(id) > 64 {
		return invalid("%s: app id longer than 64 characters", field)
	}
	return nil
}

// nullAccount maps account 0 (anonymous) to NULL.
func nullAccount(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// isNotFound reports a missing row.
func isNotFound(err error) bool { return errors.Is(err, sqldb.ErrNotFound) }

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// anyStrings converts for a query's variadic arguments.
func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
