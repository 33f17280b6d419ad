// Command host measures the host runtime in headless Chromium on
// loopback (BENCHMARKS.md, section "Host runtime"):
//
//   - cold launch: from navigating to a launch link /app/{id}/ to the
//     entry page's load event inside its iframe, with the browser cache
//     cleared before every run, beside the same page loaded as a plain
//     static file from nginx in the same run, and beside a minimal page
//     on nginx that frames the same page from another origin (the floor
//     of any host that isolates apps in iframes). Measured twice: in
//     Chromium as it ships (site isolation: the app's frame in its own
//     renderer process, timed by the frame element's load event in the
//     parent, which follows the page's own), and with frames in the
//     page's process (timed from inside the frame);
//   - the SDK bridge round trip of a call that does nothing
//     (openmini.getLaunchOptions), measured inside the page.
//
// Run from the repository root: go run ./bench/host (bench/host.sh).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/bench/internal/benchkit"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/miniapp"
)

func main() {
	runs := flag.Int("runs", 20, "cold launches of each kind")
	calls := flag.Int("calls", 500, "bridge round trips")
	nginx := flag.String("nginx", "/usr/sbin/nginx", "nginx binary")
	fixture := flag.String("fixture", "web/testdata/friendly", "the mini program project")
	flag.Parse()
	ctx := context.Background()
	dir, cleanup := benchkit.TempDir("host-bench-*")
	defer cleanup()

	pkg, _, err := miniapp.Pack(ctx, *fixture, miniapp.DefaultLimits())
	benchkit.Must(err)
	p, stop := benchkit.Start(ctx, benchkit.Config(dir, ""))
	defer stop()
	dev := benchkit.NewDeveloper(ctx, p, "bench@example.com", "Bench", "Bench Org")
	appID := dev.App(ctx, p, "Bench", "tools").ID
	dev.Release(ctx, p, appID, pkg, "1.0.0")

	// nginx serves the project's files as they are.
	root := filepath.Join(dir, "nginx")
	benchkit.Must(copyDir(*fixture, root))
	ngPort := benchkit.FreePort()
	conf := fmt.Sprintf(`worker_processes 1; pid %[1]s/nginx.pid; error_log %[1]s/error.log; daemon off;
events { worker_connections 256; }
http { access_log off; sendfile on; include /etc/nginx/mime.types;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s; } }
`, root, ngPort)
	benchkit.Must(os.WriteFile(filepath.Join(root, "nginx.conf"), []byte(conf), 0o644))
	// The floor of any host that frames a page from another origin: a
	// minimal static page whose only content is that iframe.
	benchkit.Must(os.WriteFile(filepath.Join(root, "shell.html"), []byte(fmt.Sprintf(
		`<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>shell</title>`+
			`<iframe src="http://127.0.0.1:%d/pages/index.html" style="border:0;width:100%%;height:100vh"></iframe>`, ngPort)), 0o644))
	ng := exec.Command(*nginx, "-c", filepath.Join(root, "nginx.conf"), "-p", root)
	ng.Stderr = os.Stderr
	benchkit.Must(ng.Start())
	defer ng.Process.Kill()
	time.Sleep(300 * time.Millisecond)

	if os.Getenv("HOST_BENCH_HOLD") != "" {
		fmt.Println(p.URL+"/app/"+appID+"/", fmt.Sprintf("http://127.0.0.1:%d/pages/index.html", ngPort))
		time.Sleep(time.Hour)
	}
	launch := p.URL + "/app/" + appID + "/"
	static := fmt.Sprintf("http://127.0.0.1:%d/pages/index.html", ngPort)
	framed := fmt.Sprintf("http://localhost:%d/shell.html", ngPort)
	for _, isolated := range []bool{true, false} {
		b := newBrowser(isolated)
		b.cold(launch, true) // warm the server's caches (signature check, blobs)
		var om, ref, fr []time.Duration
		for i := 0; i < *runs; i++ {
			om = append(om, b.cold(launch, true))
			ref = append(ref, b.cold(static, false))
			fr = append(fr, b.cold(framed, true))
		}
		if isolated {
			fmt.Printf("cold launch to the entry page's load event, Chromium with site isolation as it ships (median of %d, cache cleared each run)\n", *runs)
		} else {
			fmt.Printf("cold launch to the entry page's load event, frames in the page's process (median of %d, cache cleared each run)\n", *runs)
		}
		fmt.Printf("  openmini launch link   %7.1f ms\n", ms(median(om)))
		fmt.Printf("  nginx static page      %7.1f ms\n", ms(median(ref)))
		fmt.Printf("  ratio                  %7.2f  (target <= 1.5)\n", float64(median(om))/float64(median(ref)))
		fmt.Printf("  nginx, the same page in an iframe of a minimal page on another origin %7.1f ms (%.2f of the static page; openmini is %.2f of it)\n",
			ms(median(fr)), float64(median(fr))/float64(median(ref)), float64(median(om))/float64(median(fr)))
		if isolated {
			b.close()
		}
	}
	b := newBrowser(false)
	defer b.close()

	// Bridge round trips, timed inside the page.
	b.cold(launch, true)
	if os.Getenv("HOST_BENCH_DEBUG") != "" {
		var top, child any
		benchkit.Must(chromedp.Run(b.ctx, chromedp.Evaluate(`JSON.stringify({origin: performance.timeOrigin, nav: performance.getEntriesByType('navigation')[0].toJSON(), res: performance.getEntriesByType('resource').map((r) => [r.name.slice(-40), Math.round(r.startTime), Math.round(r.responseEnd)])})`, &top)))
		b.evalInChild(`JSON.stringify({origin: performance.timeOrigin, nav: performance.getEntriesByType('navigation')[0].toJSON(), res: performance.getEntriesByType('resource').map((r) => [r.name.slice(-40), Math.round(r.startTime), Math.round(r.responseEnd)])})`, &child)
		fmt.Println(top)
		fmt.Println(child)
	}
	var rtts []float64
	b.evalInChild(fmt.Sprintf(`(async () => { await openmini.ready; const out = [];
		for (let i = 0; i < %d; i++) { const t = performance.now(); await openmini.getLaunchOptions(); out.push(performance.now() - t); }
		return out; })()`, *calls), &rtts)
	sort.Float64s(rtts)
	fmt.Printf("SDK bridge round trip, openmini.getLaunchOptions() x %d: median %.3f ms, p90 %.3f ms, p99 %.3f ms (target median < 2 ms)\n",
		len(rtts), rtts[len(rtts)/2], rtts[len(rtts)*9/10], rtts[len(rtts)*99/100])
}

// browser is a headless Chromium that reports frames' load events.
type browser struct {
	ctx      context.Context
	cancel   func()
	isolated bool // site isolation on: frames timed from the parent

	mu       sync.Mutex
	child    cdp.FrameID // the latest child frame
	contexts map[cdp.FrameID]runtime.ExecutionContextID
}

func newBrowser(isolated bool) *browser {
	path := testenv.ChromiumPath()
	if path == "" {
		fmt.Fprintln(os.Stderr, "no Chromium: install chromium or set OPENMINI_TEST_CHROMIUM")
		os.Exit(1)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(390, 844),
	}
	if !isolated {
		// Frames in the page's process, so the mini program's frame can be
		// timed and driven from inside (as in the tests; see internal/testenv).
		opts = append(opts, chromedp.Flag("disable-features", "IsolateOrigins,site-per-process"), chromedp.Flag("disable-site-isolation-trials", true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx, cancel: func() { cancel(); cancelAlloc() }, isolated: isolated, contexts: map[cdp.FrameID]runtime.ExecutionContextID{}}
	benchkit.Must(chromedp.Run(ctx, chromedp.Navigate("about:blank")))
	// The first iframe's load event, as the top document sees it (load
	// events reach the document, not the window): it follows the load
	// event inside the frame, in whatever process.
	benchkit.Must(chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`if (window === top) document.addEventListener('load', (e) => {
			if (e.target instanceof HTMLIFrameElement && !window.__omFrameLoad) window.__omFrameLoad = performance.timeOrigin + performance.now();
		}, true);`).Do(ctx)
		return err
	})))
	chromedp.ListenTarget(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *page.EventFrameAttached:
			b.child = e.FrameID
		case *runtime.EventExecutionContextCreated:
			var aux struct {
				FrameID   cdp.FrameID `json:"frameId"`
				IsDefault bool        `json:"isDefault"`
			}
			if json.Unmarshal(e.Context.AuxData, &aux) == nil && aux.IsDefault {
				b.contexts[aux.FrameID] = e.Context.ID
			}
		}
	})
	benchkit.Must(chromedp.Run(ctx, network.SetCacheDisabled(true)))
	return b
}

func (b *browser) close() { b.cancel() }

// cold loads url with an empty cache and returns the time from the
// navigation's start to the load event of the page that matters: the
// mini program's iframe (inFrame), or the page itself. Both come from
// the documents' own navigation timing (one clock: timeOrigin).
func (b *browser) cold(url string, inFrame bool) time.Duration {
	benchkit.Must(chromedp.Run(b.ctx, chromedp.Navigate("about:blank"), network.ClearBrowserCache()))
	b.mu.Lock()
	b.child = ""
	b.mu.Unlock()
	benchkit.Must(chromedp.Run(b.ctx, chromedp.Navigate(url)))
	const loadAt = `(() => { const n = performance.getEntriesByType('navigation')[0]; return n && n.loadEventStart > 0 ? performance.timeOrigin + n.loadEventStart : 0; })()`
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var end, start float64
		if inFrame && b.isolated {
			benchkit.Must(chromedp.Run(b.ctx, chromedp.Evaluate(`window.__omFrameLoad || 0`, &end)))
		} else if inFrame {
			b.evalInChild(loadAt, &end)
		} else {
			benchkit.Must(chromedp.Run(b.ctx, chromedp.Evaluate(loadAt, &end)))
		}
		benchkit.Must(chromedp.Run(b.ctx, chromedp.Evaluate(`performance.timeOrigin`, &start)))
		if end > 0 {
			return time.Duration((end - start) * float64(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "no load event for", url)
	os.Exit(1)
	return 0
}

// evalInChild runs expr in the mini program's frame.
func (b *browser) evalInChild(expr string, out any) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.mu.Lock()
		id, ok := b.contexts[b.child]
		b.mu.Unlock()
		if ok {
			var res *runtime.RemoteObject
			var exc *runtime.ExceptionDetails
			err := chromedp.Run(b.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
				var err error
				res, exc, err = runtime.Evaluate(expr).WithContextID(id).WithAwaitPromise(true).WithReturnByValue(true).Do(ctx)
				return err
			}))
			if err == nil && exc == nil {
				benchkit.Must(json.Unmarshal(res.Value, out))
				return
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "cannot run in the mini program's frame")
			os.Exit(1)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
