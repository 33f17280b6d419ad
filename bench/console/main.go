// Command console measures how fast the consoles' server-rendered pages
// are served, beside nginx serving the very same HTML from disk, with wrk
// on loopback in the same run.
//
//	go run ./bench/console -duration 5s
//
// It starts an OpenMini platform in this process (SQLite and a blob folder
// in a temporary directory), signs up a developer, registers an app,
// uploads two versions of the shop template (the second with an edited
// page, submitted for review) and creates an operator admin. Then, with
// each person's session cookie, wrk fetches three pages: the console's
// start page, the app's versions page and the review page of the second
// version (manifest, sizes and a line diff). Every request reads the
// session, authorises and queries the database, and renders the page from
// html/template. nginx serves each page's saved HTML as a static file.
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
	"runtime/pprof"
	"strings"
	"time"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/bench/internal/benchkit"
	"github.com/openmini/openmini/miniapp"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "wrk duration per run")
	conns := flag.Int("connections", 16, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	nginx := flag.String("nginx", "/usr/sbin/nginx", "nginx binary")
	cpuprofile := flag.String("cpuprofile", "", "write the server's CPU profile during the openmini runs to this file")
	flag.Parse()
	ctx := context.Background()
	dir, cleanup := benchkit.TempDir("console-bench-*")
	defer cleanup()
	p, stop := benchkit.Start(ctx, benchkit.Config(dir, ""))
	defer stop()

	// A developer with an app and two versions, the second in review.
	d := benchkit.NewDeveloper(ctx, p, "dev@example.com", "Dana Dev", "Noodle Bar Ltd")
	dev, devAcct := d.Actor, d.Account
	a := d.App(ctx, p, "Noodle Bar", "food")
	proj := filepath.Join(dir, "proj")
	benchkit.Must(miniapp.Init(proj, "shop", "Noodle Bar"))
	for i, version := range []string{"1.0.0", "1.1.0"} {
		if i == 1 {
			page := filepath.Join(proj, "pages", "index.html")
			b, err := os.ReadFile(page)
			benchkit.Must(err)
			benchkit.Must(os.WriteFile(page, bytes.Replace(b, []byte("<body>"), []byte("<body>\n<p>Today: hand-pulled noodles.</p>"), 1), 0o644))
		}
		pkg, _, err := miniapp.Pack(ctx, proj, miniapp.DefaultLimits())
		benchkit.Must(err)
		_, err = p.Apps.Upload(ctx, dev, a.ID, app.Upload{Package: pkg, Version: version})
		benchkit.Must(err)
	}
	v2, err := p.Apps.Submit(ctx, dev, a.ID, "1.1.0")
	benchkit.Must(err)
	adminAcct, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: "op@example.com", Name: "Olivia", Password: "operator-password-1", StaffRole: account.RoleAdmin})
	benchkit.Must(err)
	devSession, err := p.Accounts.CreateSession(ctx, devAcct.ID)
	benchkit.Must(err)
	adminSession, err := p.Accounts.CreateSession(ctx, adminAcct.ID)
	benchkit.Must(err)

	base := "http://" + p.Addr()
	pages := []struct{ name, path, session string }{
		{"console start page", "/console", devSession},
		{"versions page", "/console/apps/" + a.ID + "/versions", devSession},
		{"review page (diff)", fmt.Sprintf("/admin/reviews/%d", v2.ID), adminSession},
	}

	// nginx serves each page's HTML, fetched once, from disk.
	root := filepath.Join(dir, "nginx")
	benchkit.Must(os.MkdirAll(root, 0o755))
	sizes := map[string]int{}
	for i, pg := range pages {
		req, _ := http.NewRequest("GET", base+pg.path, nil)
		req.Header.Set("Cookie", "om_session="+pg.session)
		resp, err := http.DefaultClient.Do(req)
		benchkit.Must(err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fail("GET %s: %d", pg.path, resp.StatusCode)
		}
		sizes[pg.name] = len(b)
		benchkit.Must(os.WriteFile(filepath.Join(root, fmt.Sprintf("p%d.html", i)), b, 0o644))
	}
	ngPort := benchkit.FreePort()
	conf := fmt.Sprintf(`worker_processes auto; pid %[1]s/nginx.pid; error_log %[1]s/error.log; daemon off;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000; open_file_cache max=100; default_type text/html;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s; } }
`, root, ngPort)
	benchkit.Must(os.WriteFile(filepath.Join(root, "nginx.conf"), []byte(conf), 0o644))
	ng := exec.Command(*nginx, "-c", filepath.Join(root, "nginx.conf"), "-p", root)
	benchkit.Must(ng.Start())
	defer ng.Process.Kill()
	time.Sleep(300 * time.Millisecond)

	fmt.Printf("# wrk -t%d -c%d -d%s on loopback; openmini on SQLite + folder blobs; nginx serves the same HTML from disk\n", *threads, *conns, *duration)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		benchkit.Must(err)
		benchkit.Must(pprof.StartCPUProfile(f))
	}
	for i, pg := range pages {
		om, omLat := wrk(*threads, *conns, *duration, base+pg.path, "Cookie: om_session="+pg.session)
		ngr, ngLat := wrk(*threads, *conns, *duration, fmt.Sprintf("http://127.0.0.1:%d/p%d.html", ngPort, i), "")
		fmt.Printf("%-20s %6.1f KB   openmini %7.0f req/s (p50 %s)   nginx %7.0f req/s (p50 %s)   ratio %.2f\n",
			pg.name, float64(sizes[pg.name])/1024, om, omLat, ngr, ngLat, om/ngr)
	}
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
}

var (
	rpsRE = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p50RE = regexp.MustCompile(`50%\s+(\S+)`)
)

// wrk runs a warm-up and then the measured run; it returns requests per
// second and the median latency as wrk prints it.
func wrk(threads, conns int, d time.Duration, url, header string) (float64, string) {
	args := []string{"-t", fmt.Sprint(threads), "-c", fmt.Sprint(conns), "-d", d.String(), "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	args = append(args, url)
	exec.Command("wrk", append([]string{"-t1", "-c4", "-d1s"}, args[len(args)-3:]...)...).Run()
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		fail("wrk: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("Non-2xx")) {
		fail("wrk got errors from %s:\n%s", url, out)
	}
	m := rpsRE.FindSubmatch(out)
	if m == nil {
		fail("wrk output without Requests/sec:\n%s", out)
	}
	var rps float64
	fmt.Sscan(string(m[1]), &rps)
	lat := "?"
	if l := p50RE.FindSubmatch(out); l != nil {
		lat = strings.TrimSpace(string(l[1]))
	}
	return rps, lat
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "console bench: "+format+"\n", args...)
	os.Exit(1)
}
