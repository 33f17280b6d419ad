// Command qrweb measures the QR code routes of a running platform with wrk
// on loopback, beside nginx answering the same requests from its
// configuration and from disk, in the same run:
//
//   - a scan: GET /s/{slug}, which checks the client's rate limit (one
//     upsert), resolves the code and records the scan (one insert) and
//     answers 302 to the launch link; nginx answers the same 302 with
//     `return 302`;
//
//   - the public image GET /s/{slug}.png (rendered once, then from the
//     in-memory cache); nginx serves the same PNG file.
//
//     go run ./bench/qrweb -duration 5s
//
// Each wrk request carries its own X-Forwarded-For address (the platform
// trusts the proxy header here), so every request is a different client,
// as a restaurant's scans are, and none is rate limited. After the scan
// run, the number of scans the code's statistics count is compared with
// the number of 302 answers wrk received: every scan is recorded once.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini/bench/internal/benchkit"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/qr"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "wrk duration per run")
	conns := flag.Int("connections", 16, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	nginx := flag.String("nginx", "/usr/sbin/nginx", "nginx binary")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (default: SQLite in a temporary directory)")
	flag.Parse()
	ctx := context.Background()
	dir, cleanup := benchkit.TempDir("qrweb-bench-*")
	defer cleanup()
	cfg := benchkit.Config(dir, *dbURL)
	cfg.TrustProxy = true
	p, stop := benchkit.Start(ctx, cfg)
	defer stop()

	dev := benchkit.NewDeveloper(ctx, p, "dev@example.com", "Dana Dev", "Noodle Bar Ltd")
	a := dev.App(ctx, p, "Noodle Bar", "food")
	code, err := p.QR.Create(ctx, qr.NewCode{OrgID: dev.OrgID, Target: qr.Target{Kind: qr.KindPage, AppID: a.ID, Page: "pages/order",
		Query: map[string]string{"store": "88", "table": "12"}}, Label: "Table 12"})
	benchkit.Must(err)

	base := "http://" + p.Addr()
	scanPath, imagePath := "/s/"+code.Slug, "/s/"+code.Slug+".png?size=512"
	req, _ := http.NewRequest("GET", base+scanPath, nil)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	benchkit.Must(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		fail("GET %s: %d", scanPath, resp.StatusCode)
	}
	location := resp.Header.Get("Location")
	resp, err = http.Get(base + imagePath)
	benchkit.Must(err)
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fail("GET %s: %d", imagePath, resp.StatusCode)
	}

	root := filepath.Join(dir, "nginx")
	benchkit.Must(os.MkdirAll(root, 0o755))
	benchkit.Must(os.WriteFile(filepath.Join(root, "code.png"), png, 0o644))
	ngPort := benchkit.FreePort()
	conf := fmt.Sprintf(`worker_processes auto; pid %[1]s/nginx.pid; error_log %[1]s/error.log; daemon off;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000; open_file_cache max=100; default_type image/png;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s;
    location = /s/%[3]s { return 302 %[4]s; }
    location = /s/%[3]s.png { try_files /code.png =404; } } }
`, root, ngPort, code.Slug, location)
	benchkit.Must(os.WriteFile(filepath.Join(root, "nginx.conf"), []byte(conf), 0o644))
	ng := exec.Command(*nginx, "-c", filepath.Join(root, "nginx.conf"), "-p", root)
	benchkit.Must(ng.Start())
	defer ng.Process.Kill()
	time.Sleep(300 * time.Millisecond)

	// Each request from its own client address.
	script := filepath.Join(dir, "xff.lua")
	benchkit.Must(os.WriteFile(script, []byte(`
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format(nil)
end
`), 0o644))

	db := "SQLite"
	if *dbURL != "" {
		db = "PostgreSQL"
	}
	fmt.Printf("# wrk -t%d -c%d -d%s on loopback; openmini on %s + folder blobs; nginx answers from its config / disk\n", *threads, *conns, *duration, db)
	warm(base+scanPath, script)
	before := scans(ctx, p, dev.OrgID, code.ID)
	om := wrk(*threads, *conns, *duration, base+scanPath, script)
	time.Sleep(200 * time.Millisecond)
	after := scans(ctx, p, dev.OrgID, code.ID)
	warm(fmt.Sprintf("http://127.0.0.1:%d%s", ngPort, scanPath), script)
	ngr := wrk(*threads, *conns, *duration, fmt.Sprintf("http://127.0.0.1:%d%s", ngPort, scanPath), script)
	fmt.Printf("%-26s openmini %7.0f req/s (p50 %s)   nginx %7.0f req/s (p50 %s)   ratio %.3f\n", "scan: GET /s/{slug} -> 302", om.rps, om.p50, ngr.rps, ngr.p50, om.rps/ngr.rps)
	// wrk counts the answers it read; up to one request per connection
	// may be served as the run stops, its answer unread.
	fmt.Printf("%-26s %d redirects read by wrk, %d scans recorded\n", "", om.answers, after-before)
	if n := after - before; n < int64(om.answers) || n > int64(om.answers+*conns) {
		fail("wrk read %d redirects but %d scans were recorded", om.answers, n)
	}
	warm(base+imagePath, script)
	om = wrk(*threads, *conns, *duration, base+imagePath, script)
	warm(fmt.Sprintf("http://127.0.0.1:%d/s/%s.png", ngPort, code.Slug), script)
	ngr = wrk(*threads, *conns, *duration, fmt.Sprintf("http://127.0.0.1:%d/s/%s.png", ngPort, code.Slug), script)
	fmt.Printf("%-26s openmini %7.0f req/s (p50 %s)   nginx %7.0f req/s (p50 %s)   ratio %.3f   (%d bytes)\n", "image: GET /s/{slug}.png", om.rps, om.p50, ngr.rps, ngr.p50, om.rps/ngr.rps, len(png))
}

func scans(ctx context.Context, p *platform.Platform, org, id int64) int64 {
	st, err := p.QR.CodeStats(ctx, org, id, qr.StatsRange{})
	benchkit.Must(err)
	return st.Scans
}

var (
	rpsRE   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p50RE   = regexp.MustCompile(`50%\s+(\S+)`)
	totalRE = regexp.MustCompile(`(\d+) requests in`)
	non2RE  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

type result struct {
	rps     float64
	p50     string
	answers int // requests answered with the expected status
}

// warm runs wrk for a second, unmeasured.
func warm(url, script string) { exec.Command("wrk", "-t1", "-c4", "-d1s", "-s", script, url).Run() }

// wrk runs wrk and reads its answer; any answer of 400 or more (which wrk
// counts as "Non-2xx or 3xx") fails the benchmark.
func wrk(threads, conns int, d time.Duration, url, script string) result {
	out, err := exec.Command("wrk", "-t", fmt.Sprint(threads), "-c", fmt.Sprint(conns), "-d", d.String(), "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		fail("wrk: %v\n%s", err, out)
	}
	m := rpsRE.FindSubmatch(out)
	t := totalRE.FindSubmatch(out)
	if m == nil || t == nil {
		fail("wrk output without Requests/sec:\n%s", out)
	}
	var r result
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	total, _ := strconv.Atoi(string(t[1]))
	non2 := 0
	if n := non2RE.FindSubmatch(out); n != nil {
		non2, _ = strconv.Atoi(string(n[1]))
	}
	if non2 > 0 {
		fail("wrk got error statuses from %s:\n%s", url, out)
	}
	r.answers = total
	r.p50 = "?"
	if l := p50RE.FindSubmatch(out); l != nil {
		r.p50 = strings.TrimSpace(string(l[1]))
	}
	if bytes.Contains(out, []byte("Socket errors")) {
		fail("wrk socket errors from %s:\n%s", url, out)
	}
	return r
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "qrweb bench: "+format+"\n", args...)
	os.Exit(1)
}
