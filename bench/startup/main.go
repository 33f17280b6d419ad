// Command startup measures how long a freshly started process takes to
// answer HTTP, and its resident memory once idle: `openmini serve` on an
// empty SQLite data directory (until /readyz answers 200) beside nginx
// serving a static file (until it answers 200), in the same run.
//
//	go run ./bench/startup -openmini bin/openmini -runs 20
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	bin := flag.String("openmini", "bin/openmini", "openmini binary")
	nginx := flag.String("nginx", "/usr/sbin/nginx", "nginx binary (empty to skip)")
	runs := flag.Int("runs", 20, "starts per program")
	flag.Parse()

	om := measure(*runs, func(dir string, port int) (*exec.Cmd, string) {
		cmd := exec.Command(*bin, "serve", "--data", filepath.Join(dir, "data"), "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		return cmd, fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	})
	report("openmini serve (empty SQLite) -> /readyz 200", om)
	if *nginx != "" {
		ng := measure(*runs, func(dir string, port int) (*exec.Cmd, string) {
			os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>x</title>ok\n"), 0o644)
			conf := fmt.Sprintf(`daemon off; master_process off; worker_processes 1; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s; } }
`, dir, port)
			os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
			return exec.Command(*nginx, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir), fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
		})
		report("nginx (static file, 1 worker, no master) -> 200", ng)
	}
}

type result struct {
	start []time.Duration
	rssKB []int
}

func measure(runs int, start func(dir string, port int) (*exec.Cmd, string)) result {
	var r result
	client := &http.Client{Timeout: time.Second}
	for i := 0; i < runs; i++ {
		dir, _ := os.MkdirTemp("", "startup-bench-*")
		port := freePort()
		cmd, url := start(dir, port)
		cmd.Stdout, cmd.Stderr = nil, nil
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(t0) > 10*time.Second {
				fmt.Fprintln(os.Stderr, "did not answer within 10s:", url)
				os.Exit(1)
			}
			time.Sleep(time.Millisecond)
		}
		r.start = append(r.start, time.Since(t0))
		time.Sleep(2 * time.Second) // idle
		r.rssKB = append(r.rssKB, rss(cmd.Process.Pid))
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dir)
	}
	return r
}

func report(name string, r result) {
	slices.Sort(r.start)
	slices.Sort(r.rssKB)
	n := len(r.start)
	fmt.Printf("%-50s start: median %6.1f ms  p90 %6.1f ms  min %6.1f ms   idle RSS: median %5.1f MB  max %5.1f MB  (%d runs)\n",
		name, ms(r.start[n/2]), ms(r.start[n*9/10]), ms(r.start[0]),
		float64(r.rssKB[n/2])/1024, float64(r.rssKB[n-1])/1024, n)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func rss(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
