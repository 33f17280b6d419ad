package discovery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/sqldb"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a database with an org, a service and helpers that create
// the rows other packages own (accounts, apps).
type fixture struct {
	t     *testing.T
	db    *sqldb.DB
	svc   *Service
	clock *clock
	org   int64
	games bool
	ctx   context.Context
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday morning

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, clock: newClock(t0), games: true, ctx: context.Background()}
	f.svc = New(db, Options{
		Now:          f.clock.Now,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL:      "https://mini.example.com",
		GamesAllowed: func(context.Context) (bool, error) { return f.games, nil },
	})
	err := db.QueryRow(f.ctx, `INSERT INTO orgs (slug, name, created_at) VALUES ('acme', 'Acme', 0) RETURNING id`).Scan(&f.org)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// app creates the apps row for id.
func (f *fixture) app(id string) {
	f.t.Helper()
	if _, err := f.db.Exec(f.ctx, `INSERT INTO apps (id, org_id, name, created_at) VALUES (?, ?, ?, 0)`, id, f.org, id); err != nil {
		f.t.Fatal(err)
	}
}

// index creates the app and indexes d.
func (f *fixture) index(d Doc) {
	f.t.Helper()
	f.app(d.AppID)
	if d.OrgID == 0 {
		d.OrgID = f.org
	}
	if err := f.svc.IndexApp(f.ctx, d); err != nil {
		f.t.Fatalf("index %s: %v", d.AppID, err)
	}
}

// account creates an account and returns its id.
func (f *fixture) account(name string) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.QueryRow(f.ctx, `INSERT INTO accounts (name, created_at) VALUES (?, 0) RETURNING id`, name).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// launch records a launch at the clock's time.
func (f *fixture) launch(account int64, app string, scene Scene) int64 {
	f.t.Helper()
	id, err := f.svc.RecordLaunch(f.ctx, Launch{AccountID: account, AppID: app, Scene: scene, At: f.clock.Now()})
	if err != nil {
		f.t.Fatalf("launch %s by %d: %v", app, account, err)
	}
	return id
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := openmini.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func hitIDs(r SearchResult) []string { return ids(r.Apps, func(h SearchHit) string { return h.AppID }) }
func cardIDs(cs []AppCard) []string  { return ids(cs, func(c AppCard) string { return c.AppID }) }

func eq(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
