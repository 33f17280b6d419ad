// Package benchkit is what the benchmark programs in bench/ share: a
// working folder nginx can read, a platform started in the same process,
// a developer with an organisation and apps, a release in one call, a
// load loop that prints rates and percentiles, and a free port.
package benchkit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/platform"
)

// Must stops the program with err's message when err is not nil.
func Must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}

// TempDir makes a working folder that nginx's workers (running as nobody)
// can read, and the function that removes it.
func TempDir(pattern string) (string, func()) {
	dir, err := os.MkdirTemp("", pattern)
	Must(err)
	Must(os.Chmod(dir, 0o755))
	return dir, func() { os.RemoveAll(dir) }
}

// Config is the platform's default configuration for a benchmark: a
// free loopback port, data under dir/data, errors only in the log, and
// the database at dbURL (SQLite in the data folder when empty).
func Config(dir, dbURL string) platform.Config {
	cfg := platform.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel, cfg.DatabaseURL = "127.0.0.1:0", filepath.Join(dir, "data"), "error", dbURL
	return cfg
}

// Start opens the platform and serves it; stop shuts it down and closes it.
func Start(ctx context.Context, cfg platform.Config) (p *platform.Platform, stop func()) {
	p, err := platform.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	Must(err)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	return p, func() { cancel(); <-done; p.Close() }
}

// Admin is the operator's actor, for approving versions.
var Admin = openmini.Actor{Label: "bench", StaffRole: account.RoleAdmin}

// Developer is an account with an organisation of its own.
type Developer struct {
	Account account.Account
	Actor   openmini.Actor
	OrgID   int64
}

// NewDeveloper creates the account email (named name) and its
// organisation orgName.
func NewDeveloper(ctx context.Context, p *platform.Platform, email, name, orgName string) Developer {
	acct, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: email, Name: name, Password: "bench-password-1"})
	Must(err)
	d := Developer{Account: acct, Actor: openmini.Actor{AccountID: acct.ID, Label: acct.Email}}
	o, err := p.Orgs.Create(ctx, d.Actor, orgName)
	Must(err)
	d.OrgID = o.ID
	return d
}

// App registers a mini program in the developer's organisation.
func (d Developer) App(ctx context.Context, p *platform.Platform, name, category string) app.App {
	a, _, err := p.Apps.Create(ctx, d.Actor, d.OrgID, app.Settings{Name: &name, Category: &category})
	Must(err)
	return a
}

// Release uploads pkg as version of appID, submits it, has the operator
// approve it and releases it to everyone.
func (d Developer) Release(ctx context.Context, p *platform.Platform, appID string, pkg []byte, version string) app.Version {
	v, err := p.Apps.Upload(ctx, d.Actor, appID, app.Upload{Package: pkg, Version: version})
	Must(err)
	_, err = p.Apps.Submit(ctx, d.Actor, appID, version)
	Must(err)
	_, err = p.Apps.Approve(ctx, Admin, v.ID)
	Must(err)
	_, err = p.Apps.ReleaseVersion(ctx, d.Actor, appID, version, 100)
	Must(err)
	return v
}

// Measure runs op from clients goroutines for d and prints one line: the
// rate, the median and 99th percentile latency, and failures with the
// first error.
func Measure(name string, d time.Duration, clients int, op func(client int) error) {
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	var first atomic.Value
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(stop) {
				t := time.Now()
				if err := op(i); err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	pct := func(q float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(q*float64(len(lat))))].Round(10 * time.Microsecond)
	}
	line := fmt.Sprintf("%-72s %8.0f /s   p50 %-8s p99 %-8s (%d ok", name, float64(len(lat))/el.Seconds(), pct(0.5), pct(0.99), len(lat))
	if n := failed.Load(); n > 0 {
		line += fmt.Sprintf(", %d failed: %v", n, first.Load())
	}
	fmt.Println(strings.TrimSpace(line) + ")")
}

// FreePort is a loopback TCP port nobody listens on.
func FreePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
