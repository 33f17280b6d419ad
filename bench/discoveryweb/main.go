// Command discoveryweb measures traffic distribution through the running
// platform's HTTP surfaces (see BENCHMARKS.md, section "Discovery in the
// platform"): a platform started in this process with the demo world plus
// a thousand more indexed mini programs and a few weeks of launches, and
// clients over real loopback HTTP doing what the host's home page, its
// search box, the shell and third-party stores do, beside GET /healthz on
// the same server and clients as the plain-HTTP reference.
//
//	go run ./bench/discoveryweb -duration 5s -clients 8
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openmini/openmini/bench/internal/benchkit"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/platform"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long each measurement runs")
	clients := flag.Int("clients", 8, "concurrent clients")
	apps := flag.Int("apps", 1000, "mini programs indexed besides the demo's")
	dbURL := flag.String("database-url", "", "database (empty: SQLite in a temporary folder)")
	flag.Parse()
	if err := run(*duration, *clients, *apps, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "discoveryweb:", err)
		os.Exit(1)
	}
}

var (
	brands = []string{"Lumako", "Harbor", "Pine", "Metro", "Sunny", "Jade", "Red Lantern", "Blue Door", "Golden", "Maple"}
	kinds  = []string{"Coffee", "Noodles", "Bakery", "Tea House", "Pharmacy", "Bikes", "Cinema", "Laundry", "Flowers", "Books"}
	zh     = []string{"咖啡", "面馆", "面包房", "茶馆", "药房", "单车", "影院", "洗衣", "花店", "书店"}
	cats   = []string{"food", "food", "food", "food", "lifestyle", "travel", "lifestyle", "lifestyle", "shopping", "shopping"}
)

func run(d time.Duration, clients, napps int, dbURL string) error {
	dir, err := os.MkdirTemp("", "discoveryweb-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := platform.Defaults()
	cfg.Addr, cfg.DataDir, cfg.DatabaseURL, cfg.Demo, cfg.LogLevel = "127.0.0.1:0", dir, dbURL, true, "error"
	p, err := platform.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		return err
	}
	defer p.Close()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The demo restaurant's app, as its own server keeps it.
	raw, err := os.ReadFile(filepath.Join(dir, "demo-noodlebar.json"))
	if err != nil {
		return err
	}
	var demo struct {
		AppID string `json:"app_id"`
	}
	if err := json.Unmarshal(raw, &demo); err != nil {
		return err
	}
	// A thousand more mini programs (registered, then indexed as a release
	// would), a few thousand launches by 200 users, one refresh.
	dev, err := p.Accounts.ByEmail(ctx, "dana@noodlebar.demo.openmini.dev")
	if err != nil {
		return err
	}
	orgs, err := p.Orgs.ForAccount(ctx, dev.ID)
	if err != nil || len(orgs) == 0 {
		return fmt.Errorf("the demo organisation: %v", err)
	}
	actor := openmini.Actor{AccountID: dev.ID, Label: dev.Email}
	rnd := rand.New(rand.NewPCG(1, 2))
	var ids []string
	var docs []discovery.Doc
	for i := range napps {
		b, k := brands[rnd.IntN(len(brands))], rnd.IntN(len(kinds))
		name := fmt.Sprintf("%s %s %s %d", b, kinds[k], zh[k], i)
		cat := cats[k]
		a, _, err := p.Apps.Create(ctx, actor, orgs[0].ID, app.Settings{Name: &name, Category: &cat})
		if err != nil {
			return err
		}
		ids = append(ids, a.ID)
		loc := discovery.Degrees(31.2+rnd.Float64()*0.1, 121.4+rnd.Float64()*0.1)
		docs = append(docs, discovery.Doc{AppID: a.ID, OrgID: a.OrgID, Name: name, Category: cat, Keywords: []string{strings.ToLower(kinds[k]), zh[k]},
			Description: "The " + kinds[k] + " of " + b + ". " + zh[k] + "。", Location: &loc})
		if len(docs) == 500 {
			if err := p.Discovery.IndexApps(ctx, docs); err != nil {
				return err
			}
			docs = docs[:0]
		}
	}
	if err := p.Discovery.IndexApps(ctx, docs); err != nil {
		return err
	}
	u, _ := url.Parse(p.URL)
	var users []*http.Client
	for i := range 200 {
		a, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: fmt.Sprintf("u%d@bench.example", i), Name: "User", Password: "bench-password-1"})
		if err != nil {
			return err
		}
		for j := 0; j < 20; j++ {
			at := time.Now().Add(-time.Duration(rnd.IntN(20*24)) * time.Hour)
			if _, err := p.Discovery.RecordLaunch(ctx, discovery.Launch{AccountID: a.ID, AppID: ids[rnd.IntN(len(ids))/(1+rnd.IntN(20))], Scene: discovery.SceneLink, At: at}); err != nil {
				return err
			}
		}
		if i < clients {
			token, err := p.Accounts.CreateSession(ctx, a.ID)
			if err != nil {
				return err
			}
			jar, _ := cookiejar.New(nil)
			jar.SetCookies(u, []*http.Cookie{{Name: "om_session", Value: token, Path: "/"}})
			users = append(users, &http.Client{Jar: jar, Timeout: 30 * time.Second})
		}
	}
	if err := p.Discovery.Refresh(ctx); err != nil {
		return err
	}
	plain := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	get := func(c *http.Client, path string, want int, hdr ...string) error {
		req, _ := http.NewRequest("GET", p.URL+path, nil)
		req.Header.Set("Accept", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return nil
	}
	queries := []string{"coffee", "咖啡", "noodles", "面馆", "tea house", "lumako", "cofee", "pharmcy", "书店", "golden bakery"}
	prefixes := []string{"co", "咖", "noo", "面", "lum", "har", "bl", "茶", "ph", "gold"}
	var etag string
	req, _ := http.NewRequest("GET", p.URL+"/api/v1/directory?limit=100", nil)
	if resp, err := plain.Do(req); err == nil {
		etag = resp.Header.Get("ETag")
		resp.Body.Close()
	}

	fmt.Printf("# %d clients over loopback HTTP, %s each, %s, %d+3 indexed apps, %d launches\n", clients, d, p.DB, napps, 200*20)
	var n atomic.Int64
	pick := func(xs []string) string { return xs[int(n.Add(1))%len(xs)] }
	benchkit.Measure("reference: GET /healthz", d, clients, func(int) error { return get(plain, "/healthz", 200) })
	benchkit.Measure("home page, not signed in: GET / (channels, popular)", d, clients, func(int) error { return get(plain, "/", 200) })
	benchkit.Measure("home page, signed in: GET / (recent, recommendations, channels)", d, clients, func(i int) error { return get(users[i], "/", 200) })
	benchkit.Measure("suggestions: GET /host/api/discovery/suggest?q=…", d, clients, func(int) error {
		return get(plain, "/host/api/discovery/suggest?q="+url.QueryEscape(pick(prefixes)), 200)
	})
	benchkit.Measure("search results page: GET /?q=…", d, clients, func(int) error { return get(plain, "/?q="+url.QueryEscape(pick(queries)), 200) })
	benchkit.Measure("launch through the shell, recorded: GET /host/api/launch/{demo app}", d, clients, func(i int) error {
		return get(users[i], "/host/api/launch/"+demo.AppID+"?om_scene=search", 200)
	})
	benchkit.Measure("directory feed page: GET /api/v1/directory?limit=100", d, clients, func(int) error { return get(plain, "/api/v1/directory?limit=100", 200) })
	benchkit.Measure("directory feed page, If-None-Match: 304", d, clients, func(int) error {
		return get(plain, "/api/v1/directory?limit=100", 304, "If-None-Match", etag)
	})
	return nil
}
