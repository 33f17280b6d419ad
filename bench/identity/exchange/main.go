// Command exchange measures authorization-code exchange at the token
// endpoint over loopback HTTP: it starts the identity handler on a fresh
// database (SQLite by default), issues -n codes, then has -c concurrent
// clients exchange each code once (client_secret_basic, a real ID token
// signed per request). For reference it runs the same client loop against a
// trivial handler that returns a fixed JSON body of the same size.
//
//	go run ./bench/identity/exchange -n 10000 -c 16
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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

	identitybench "github.com/openmini/openmini/bench/identity"
)

func main() {
	n := flag.Int("n", 10000, "requests (codes) per run")
	c := flag.Int("c", 16, "concurrent clients")
	dbURL := flag.String("db", "", "database URL (default: SQLite in a temporary folder)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(pf)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "exchange:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *c, *dbURL); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "exchange:", err)
		os.Exit(1)
	}
}

func run(n, c int, dbURL string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "identity-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	f, err := identitybench.Open(ctx, dbURL, dir, base)
	if err != nil {
		return err
	}
	defer f.DB.Close()
	srv := &http.Server{Handler: f.Service.Handler()}
	go srv.Serve(ln)
	defer srv.Close()

	start := time.Now()
	codes, err := f.Codes(ctx, n)
	if err != nil {
		return err
	}
	fmt.Printf("# database: %s; issued %d codes in %v (%.0f codes/s)\n", f.DB, n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}}
	// One exchange warms the key cache and connections are made on demand.
	body, err := exchangeLoop(client, base+"/oauth/token", codes, c, "openmini token endpoint")
	if err != nil {
		return err
	}

	// Reference: the same requests against a handler returning a fixed
	// body of the same size.
	fixed := []byte(body)
	refLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ref := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(fixed)
	})}
	go ref.Serve(refLn)
	defer ref.Close()
	refClient := &http.Client{Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}}
	_, err = exchangeLoop(refClient, "http://"+refLn.Addr().String()+"/oauth/token", codes, c, "reference: fixed JSON handler")
	return err
}

// exchangeLoop posts every code once with c workers and prints the rate and
// latency percentiles. It returns one response body.
func exchangeLoop(client *http.Client, endpoint string, codes []string, c int, label string) (string, error) {
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, c)
	var sample atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(codes) {
					return
				}
				t0 := time.Now()
				form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}}.Encode()
				req, _ := http.NewRequest("POST", endpoint, strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(identitybench.AppID, identitybench.AppSecret)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, b))
					continue
				}
				sample.CompareAndSwap(nil, string(b))
				lat[w] = append(lat[w], time.Since(t0))
			}
		}(w)
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
		label, len(codes), c, float64(len(all))/elapsed.Seconds(), pct(0.5), pct(0.99), failed.Load())
	if failed.Load() > 0 {
		return "", fmt.Errorf("%s: %d requests failed, first: %v", label, failed.Load(), firstErr.Load())
	}
	s, _ := sample.Load().(string)
	return s, nil
}
