// Command serving measures how fast a mini program's package files are
// served from its own origin, beside nginx serving the same files from
// disk, with wrk on loopback in the same run.
//
//	go run ./bench/serving -duration 10s
//
// It starts an OpenMini platform in this process (SQLite and a blob folder
// in a temporary directory), registers an app, uploads and releases a
// package holding a 1 KB and a 100 KB file, then runs wrk against
// {app}.apps.localhost for each file (with the Host header; gzip not
// requested, so both serve identity bytes), and the same against nginx.
// Three Go floors follow in the same run: a bare net/http handler serving
// the bytes from memory, the same handler sending OpenMini's headers, and
// fasthttp sending those headers. fasthttp is here as a reference only;
// the openmini binary does not use it.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini/bench/internal/benchkit"
	"github.com/openmini/openmini/miniapp"
	"github.com/valyala/fasthttp"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "wrk duration per run")
	conns := flag.Int("connections", 64, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	nginx := flag.String("nginx", "/usr/sbin/nginx", "nginx binary")
	cpuprofile := flag.String("cpuprofile", "", "write the server's CPU profile during the openmini runs to this file")
	flag.Parse()
	ctx := context.Background()
	dir, cleanup := benchkit.TempDir("serving-bench-*")
	defer cleanup()

	// The project: a page and two assets of 1 KB and 100 KB (random bytes,
	// so neither side can compress them).
	proj := filepath.Join(dir, "proj")
	benchkit.Must(miniapp.Init(proj, "blank", "Bench"))
	assets := map[string]int{"common/a1k.bin": 1 << 10, "common/a100k.bin": 100 << 10}
	for name, n := range assets {
		b := make([]byte, n)
		rand.Read(b)
		benchkit.Must(os.WriteFile(filepath.Join(proj, name), b, 0o644))
	}
	pkg, _, err := miniapp.Pack(ctx, proj, miniapp.DefaultLimits())
	benchkit.Must(err)

	cfg := benchkit.Config(dir, "")
	p, stop := benchkit.Start(ctx, cfg)
	defer stop()
	dev := benchkit.NewDeveloper(ctx, p, "bench@example.com", "Bench", "Bench Org")
	a := dev.App(ctx, p, "Bench", "tools")
	v := dev.Release(ctx, p, a.ID, pkg, "1.0.0")
	port := p.Addr()[strings.LastIndexByte(p.Addr(), ':')+1:]
	hostHdr := a.ID + "." + cfg.AppsDomain + ":" + port

	// nginx serves the same bytes from disk.
	root := filepath.Join(dir, "nginx")
	benchkit.Must(os.MkdirAll(filepath.Join(root, "common"), 0o755))
	for n := range assets {
		b, _ := os.ReadFile(filepath.Join(proj, n))
		benchkit.Must(os.WriteFile(filepath.Join(root, n), b, 0o644))
	}
	ngPort := benchkit.FreePort()
	conf := fmt.Sprintf(`worker_processes auto; pid %[1]s/nginx.pid; error_log %[1]s/error.log; daemon off;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000; open_file_cache max=100;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s; etag on; add_header Cache-Control "public, max-age=31536000, immutable"; } }
`, root, ngPort)
	benchkit.Must(os.WriteFile(filepath.Join(root, "nginx.conf"), []byte(conf), 0o644))
	ng := exec.Command(*nginx, "-c", filepath.Join(root, "nginx.conf"), "-p", root)
	benchkit.Must(ng.Start())
	defer ng.Process.Kill()
	time.Sleep(300 * time.Millisecond)

	if os.Getenv("SERVING_HOLD") != "" {
		fmt.Printf("openmini http://127.0.0.1:%s/_v/%s/common/a100k.bin Host: %s\nnginx http://127.0.0.1:%d/common/a100k.bin\n", port, v.SHA256, hostHdr, ngPort)
		time.Sleep(time.Hour)
	}
	// The floor of Go's own HTTP server: the same bytes from memory, no
	// middleware, no lookups. It shows how much of the gap to nginx is
	// net/http itself.
	goPort := bareGoServer(root, nil)
	// The same, answering with the very headers OpenMini sends (CSP,
	// nosniff, caching, ETag, request ID...): what is left between this
	// and OpenMini is OpenMini's own work per request.
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%s/_v/%s/common/a1k.bin", port, v.SHA256), nil)
	req.Host = hostHdr
	resp, err := http.DefaultClient.Do(req)
	benchkit.Must(err)
	resp.Body.Close()
	same := resp.Header.Clone()
	same.Del("Date")
	same.Del("Content-Length")
	sameHdrPort := bareGoServer(root, same)
	fastPort := fasthttpServer(root, same)

	fmt.Printf("# wrk -t%d -c%d -d%s on loopback; openmini on SQLite + folder blobs, in-process caches warm\n", *threads, *conns, *duration)
	for _, n := range []string{"common/a1k.bin", "common/a100k.bin"} {
		omURL := fmt.Sprintf("http://127.0.0.1:%s/_v/%s/%s", port, v.SHA256, n)
		ngURL := fmt.Sprintf("http://127.0.0.1:%d/%s", ngPort, n)
		goURL := fmt.Sprintf("http://127.0.0.1:%d/%s", goPort, n)
		if *cpuprofile != "" {
			f, err := os.Create(strings.TrimSuffix(*cpuprofile, ".pprof") + "-" + filepath.Base(n) + ".pprof")
			benchkit.Must(err)
			benchkit.Must(pprof.StartCPUProfile(f))
		}
		om := wrk(*threads, *conns, *duration, omURL, "Host: "+hostHdr)
		pprof.StopCPUProfile()
		ngr := wrk(*threads, *conns, *duration, ngURL, "")
		bare := wrk(*threads, *conns, *duration, goURL, "")
		bareHdr := wrk(*threads, *conns, *duration, fmt.Sprintf("http://127.0.0.1:%d/%s", sameHdrPort, n), "")
		fast := wrk(*threads, *conns, *duration, fmt.Sprintf("http://127.0.0.1:%d/%s", fastPort, n), "")
		fmt.Printf("%-18s openmini %8.0f req/s   nginx %8.0f req/s   ratio %.2f   (bare Go net/http %8.0f req/s, %.2f of nginx; with OpenMini's headers %8.0f req/s, %.2f of nginx; fasthttp with OpenMini's headers %8.0f req/s, %.2f of nginx)\n",
			n, om, ngr, om/ngr, bare, bare/ngr, bareHdr, bareHdr/ngr, fast, fast/ngr)
	}
}

var rpsRE = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func wrk(threads, conns int, d time.Duration, url, header string) float64 {
	args := []string{"-t", fmt.Sprint(threads), "-c", fmt.Sprint(conns), "-d", d.String(), "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	args = append(args, url)
	// Warm-up, then the measured run.
	exec.Command("wrk", append([]string{"-t1", "-c8", "-d1s"}, args[len(args)-1:]...)...).Run()
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wrk: %v\n%s", err, out)
		os.Exit(1)
	}
	if bytes.Contains(out, []byte("Non-2xx")) {
		fmt.Fprintf(os.Stderr, "wrk got errors from %s:\n%s", url, out)
		os.Exit(1)
	}
	m := rpsRE.FindSubmatch(out)
	if m == nil {
		fmt.Fprintf(os.Stderr, "no Requests/sec in wrk output:\n%s", out)
		os.Exit(1)
	}
	var f float64
	fmt.Sscan(string(m[1]), &f)
	return f
}

// bareGoServer serves the files under root from memory with nothing but
// net/http, on a free port, adding the headers hdr.
func bareGoServer(root string, hdr http.Header) int {
	files := readFiles(root)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	benchkit.Must(err)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		for k, v := range hdr {
			h[k] = v
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	return ln.Addr().(*net.TCPAddr).Port
}

// readFiles reads the two benchmark files under root, by URL path.
func readFiles(root string) map[string][]byte {
	files := map[string][]byte{}
	for _, n := range []string{"common/a1k.bin", "common/a100k.bin"} {
		b, err := os.ReadFile(filepath.Join(root, n))
		benchkit.Must(err)
		files["/"+n] = b
	}
	return files
}

// fasthttpServer serves the same files from memory with fasthttp, an HTTP
// server of its own that does not build on net/http, adding the headers
// hdr: a Go floor outside net/http.
func fasthttpServer(root string, hdr http.Header) int {
	files := readFiles(root)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	benchkit.Must(err)
	go fasthttp.Serve(ln, func(c *fasthttp.RequestCtx) {
		b, ok := files[string(c.Path())]
		if !ok {
			c.SetStatusCode(http.StatusNotFound)
			return
		}
		for k, v := range hdr {
			for _, x := range v {
				c.Response.Header.Add(k, x)
			}
		}
		c.SetBody(b)
	})
	return ln.Addr().(*net.TCPAddr).Port
}
