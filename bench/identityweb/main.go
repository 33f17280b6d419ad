// Command identityweb measures identity through the whole running
// platform (platform.Open, every middleware, the real app service checking
// app secrets, account sessions) over loopback HTTP:
//
//   - POST /oauth/token: authorization-code exchange by an app's server;
//   - POST /host/api/launch-data: the host signing a signed-in user's
//     launch for openmini.getLaunchData;
//   - POST /host/api/auth-code: the host issuing a base-scope code for
//     openmini.getAuthCode;
//
// beside two references in the same run: the same client loop against a
// trivial handler returning a fixed JSON body (no platform), and GET
// /healthz through the platform (its middleware and routing, no work).
//
//	go run ./bench/identityweb -n 5000 -c 16 [-db postgres://...]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
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

func main() {
	n := flag.Int("n", 5000, "requests per measurement")
	c := flag.Int("c", 16, "concurrent clients")
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary folder)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "identityweb:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *c, *dbURL); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "identityweb:", err)
		os.Exit(1)
	}
}

// usersFor is how many host users share the load: the host allows one
// user 30 codes a minute, so each gets at most 25 requests.
func usersFor(n int) int { return max(1, (n+24)/25) }

func run(n, c int, dbURL string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "identityweb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := platform.Defaults()
	cfg.Addr, cfg.DataDir, cfg.DatabaseURL, cfg.Workers, cfg.Version = "127.0.0.1:0", dir, dbURL, 1, "bench"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := platform.Open(ctx, cfg, log, io.Discard)
	if err != nil {
		return err
	}
	defer p.Close()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// An organisation with one app, and host users with sessions.
	dev, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: "dev@bench.example", Name: "Dev", Password: "bench-password-1"})
	if err != nil {
		return err
	}
	actor := openmini.Actor{AccountID: dev.ID, Label: dev.Email}
	o, err := p.Orgs.Create(ctx, actor, "Bench Ltd")
	if err != nil {
		return err
	}
	name, cat := "Bench", "tools"
	a, secret, err := p.Apps.Create(ctx, actor, o.ID, app.Settings{Name: &name, Category: &cat})
	if err != nil {
		return err
	}
	users := usersFor(n)
	ids := make([]int64, users)
	sessions := make([]string, users)
	now := time.Now().UnixMilli()
	for i := range users {
		if err := p.DB.QueryRow(ctx, `INSERT INTO accounts (email, name, created_at) VALUES (?, ?, ?) RETURNING id`,
			fmt.Sprintf("user%d@bench.example", i), fmt.Sprintf("User %d", i), now).Scan(&ids[i]); err != nil {
			return fmt.Errorf("user: %w", err)
		}
		if sessions[i], err = p.Accounts.CreateSession(ctx, ids[i]); err != nil {
			return err
		}
	}
	fmt.Printf("# database: %s; %d host users\n", p.DB, users)

	// 1. Code exchange at the token endpoint, codes issued beforehand.
	codes := make([]string, n)
	start := time.Now()
	for i := range codes {
		ac, err := p.Identity.GetAuthCode(ctx, ids[i%users], a.ID, nil)
		if err != nil {
			return err
		}
		codes[i] = ac.Code
	}
	fmt.Printf("# issued %d codes in %v\n", n, time.Since(start).Round(time.Millisecond))
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}}
	sample, err := load(client, "POST /oauth/token", n, c, func(i int) *http.Request {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}}.Encode()
		req, _ := http.NewRequest("POST", p.URL+"/oauth/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(a.ID, secret)
		return req
	})
	if err != nil {
		return err
	}

	// 2. Launch data, signed for each user's launch.
	body := []byte(`{"app":"` + a.ID + `","path":"pages/index","query":{"table":"12","store":"88"},"scene":"qr"}`)
	hostReq := func(path string, body []byte, i int) *http.Request {
		req, _ := http.NewRequest("POST", p.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.AddCookie(&http.Cookie{Name: "om_session", Value: sessions[i%users]})
		return req
	}
	if _, err := load(client, "POST /host/api/launch-data", n, c, func(i int) *http.Request { return hostReq("/host/api/launch-data", body, i) }); err != nil {
		return err
	}

	// 3. Base-scope codes issued through the host endpoint.
	codeBody := []byte(`{"app":"` + a.ID + `","scopes":[]}`)
	if _, err := load(client, "POST /host/api/auth-code", n, c, func(i int) *http.Request { return hostReq("/host/api/auth-code", codeBody, i) }); err != nil {
		return err
	}

	// References: the platform's floor, and no platform at all.
	if _, err := load(client, "ref: GET /healthz (platform)", n, c, func(int) *http.Request {
		req, _ := http.NewRequest("GET", p.URL+"/healthz", nil)
		return req
	}); err != nil {
		return err
	}
	fixed := []byte(sample)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ref := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(fixed)
	})}
	go ref.Serve(ln)
	defer ref.Close()
	_, err = load(client, "ref: fixed JSON handler", n, c, func(i int) *http.Request {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}}.Encode()
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/oauth/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(a.ID, secret)
		return req
	})
	return err
}

// load sends n requests made by mk with c workers, expects 200 for every
// one, and prints the rate and latency percentiles. It returns one
// response body.
func load(client *http.Client, label string, n, c int, mk func(i int) *http.Request) (string, error) {
	var next, failed atomic.Int64
	var firstErr, sample atomic.Value
	lat := make([][]time.Duration, c)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := client.Do(mk(i))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, b))
					continue
				}
				sample.CompareAndSwap(nil, string(b))
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(int(float64(len(all))*p), len(all)-1)].Round(10 * time.Microsecond)
	}
	fmt.Printf("%-32s %6d requests  %2d clients  %8.0f req/s  p50 %v  p99 %v  failed %d\n",
		label, n, c, float64(len(all))/elapsed.Seconds(), pct(0.5), pct(0.99), failed.Load())
	if failed.Load() > 0 {
		return "", fmt.Errorf("%s: %d requests failed, first: %v", label, failed.Load(), firstErr.Load())
	}
	s, _ := sample.Load().(string)
	return s, nil
}
