// Package devbench measures `openmini dev` (see BENCHMARKS.md, section
// "openmini dev"), each figure beside a reference run in the same process:
//
//   - re-validating a project after a save (what every change costs)
//     beside miniapp.OpenDir alone, which is `openmini validate`;
//   - a save on disk until the simulator's event stream says "change",
//     beside the bare fsnotify event for the same write (the floor);
//   - a save until the new content shows in the simulator in headless
//     Chromium, beside saving the same page and reloading it in Chromium
//     from a plain static file server (a developer's manual F5).
package devbench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/fsnotify/fsnotify"

	packagebench "github.com/openmini/openmini/bench/package"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// projects are the fixtures: the shop template (what `openmini init`
// writes) and the 500-file, 5 MB project of the package benchmarks.
func projects(b *testing.B) map[string]string {
	b.Helper()
	root := b.TempDir()
	shop := filepath.Join(root, "shop")
	if err := miniapp.Init(shop, "shop", "Bench Shop"); err != nil {
		b.Fatal(err)
	}
	big := filepath.Join(root, "big")
	if err := packagebench.WriteProject(big); err != nil {
		b.Fatal(err)
	}
	return map[string]string{"shop": shop, "500-files": big}
}

// touch saves the entry page with a new marker, the way many editors
// save (write a temporary file, rename it over the page), so one save is
// one change; it returns the marker.
func touch(b *testing.B, dir string, i int) string {
	b.Helper()
	page := filepath.Join(dir, "pages", "index.html")
	if _, err := os.Stat(page); err != nil {
		page = filepath.Join(dir, "pages", "p00.html")
	}
	raw, err := os.ReadFile(page)
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	if j := strings.Index(s, "<!--m"); j >= 0 {
		s = s[:j]
	}
	marker := fmt.Sprintf("marker-%d-%d", time.Now().UnixNano(), i)
	tmp := filepath.Join(filepath.Dir(page), ".save.tmp")
	if err := os.WriteFile(tmp, []byte(s+"<!--m--><p id=\"m\">"+marker+"</p>"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, page); err != nil {
		b.Fatal(err)
	}
	return marker
}

// BenchmarkRevalidate is what each save costs `openmini dev`: validating
// the project again (Reload), beside miniapp.OpenDir alone.
func BenchmarkRevalidate(b *testing.B) {
	for name, dir := range projects(b) {
		b.Run(name+"/openmini-dev", func(b *testing.B) {
			d, err := web.NewDevProject(context.Background(), web.DevOptions{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				touch(b, dir, i)
				i++
				if !d.Reload(context.Background()) || !d.Valid() {
					b.Fatal("no change seen")
				}
			}
		})
		b.Run(name+"/reference-validate", func(b *testing.B) {
			i := 0
			for b.Loop() {
				touch(b, dir, i)
				i++
				if _, err := miniapp.OpenDir(context.Background(), dir, miniapp.DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// devPlatform starts a platform serving dir under `openmini dev`.
func devPlatform(b *testing.B, dir string, debounce time.Duration) (*platformtest.Running, *web.DevProject) {
	b.Helper()
	d, err := web.NewDevProject(context.Background(), web.DevOptions{Dir: dir, Debounce: debounce})
	if err != nil {
		b.Fatal(err)
	}
	p := platformtest.Start(b, platform.Config{Dev: d, LogLevel: "warn"})
	if err := p.Web.RegisterDevApp(context.Background()); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return p, d
}

// BenchmarkSaveToEvent: from a save until the simulator's event stream
// announces the change (fsnotify, debounce, validation, server-sent
// event), beside the bare fsnotify event for the same write.
func BenchmarkSaveToEvent(b *testing.B) {
	dir := projects(b)["shop"]
	for _, debounce := range []time.Duration{100 * time.Millisecond, time.Millisecond} {
		b.Run(fmt.Sprintf("openmini-dev/debounce-%s", debounce), func(b *testing.B) {
			p, _ := devPlatform(b, dir, debounce)
			resp, err := http.Get(p.URL + "/_dev/events")
			if err != nil {
				b.Fatal(err)
			}
			defer resp.Body.Close()
			r := bufio.NewReader(resp.Body)
			next := func() {
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						b.Fatal(err)
					}
					if line == "event: change\n" {
						return
					}
				}
			}
			// The stream is up once its first event arrived.
			for line, _ := r.ReadString('\n'); line != "event: state\n"; line, _ = r.ReadString('\n') {
			}
			time.Sleep(200 * time.Millisecond) // the watcher is running
			i := 0
			for b.Loop() {
				touch(b, dir, i)
				i++
				next()
			}
		})
	}
	b.Run("reference-fsnotify", func(b *testing.B) {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		if err := w.Add(filepath.Join(dir, "pages")); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			touch(b, dir, i)
			i++
			for ev := range w.Events {
				if filepath.Base(ev.Name) == "index.html" && ev.Has(fsnotify.Create) {
					break
				}
			}
		}
	})
}

// frameReader evaluates expressions in the frames of one origin.
type frameReader struct {
	ctx      context.Context
	origin   string
	mu       sync.Mutex
	contexts map[runtime.ExecutionContextID]string
}

func newFrameReader(ctx context.Context, origin string) *frameReader {
	f := &frameReader{ctx: ctx, origin: origin, contexts: map[runtime.ExecutionContextID]string{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExecutionContextCreated:
			f.contexts[e.Context.ID] = e.Context.Origin
		case *runtime.EventExecutionContextDestroyed:
			delete(f.contexts, e.ExecutionContextID)
		case *runtime.EventExecutionContextsCleared:
			clear(f.contexts)
		}
	})
	return f
}

// shows reports whether a frame of the origin shows marker.
func (f *frameReader) shows(marker string) bool {
	f.mu.Lock()
	var ids []runtime.ExecutionContextID
	for id, o := range f.contexts {
		if o == f.origin {
			ids = append(ids, id)
		}
	}
	f.mu.Unlock()
	expr := `!!document.getElementById("m") && document.getElementById("m").textContent === ` + jsString(marker)
	for _, id := range ids {
		var res *runtime.RemoteObject
		err := chromedp.Run(f.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			res, _, err = runtime.Evaluate(expr).WithContextID(id).WithReturnByValue(true).Do(ctx)
			return err
		}))
		if err == nil && res != nil && string(res.Value) == "true" {
			return true
		}
	}
	return false
}

func (f *frameReader) wait(b *testing.B, marker string) {
	deadline := time.Now().Add(30 * time.Second)
	for !f.shows(marker) {
		if time.Now().After(deadline) {
			b.Fatalf("%s never showed", marker)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// BenchmarkSaveToReload: from a save until the new content shows in the
// simulator's device frame in headless Chromium, beside saving the same
// page and reloading it from a plain static file server.
func BenchmarkSaveToReload(b *testing.B) {
	dir := projects(b)["shop"]
	b.Run("openmini-dev", func(b *testing.B) {
		p, d := devPlatform(b, dir, 100*time.Millisecond)
		ctx := testenv.Browser(b, testenv.BrowserOptions{Width: 1200, Height: 1000})
		f := newFrameReader(ctx, p.Web.AppOrigin(d.AppID()))
		marker := touch(b, dir, -1)
		if err := chromedp.Run(ctx, chromedp.Navigate(p.Web.DevURL(""))); err != nil {
			b.Fatal(err)
		}
		f.wait(b, marker)
		i := 0
		for b.Loop() {
			marker = touch(b, dir, i)
			i++
			f.wait(b, marker)
		}
	})
	b.Run("reference-static-reload", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		// Conditional requests are dropped: file times have one-second
		// resolution, so a save within the second would answer 304.
		files := http.FileServer(http.Dir(dir))
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("If-Modified-Since")
			r.Header.Del("If-None-Match")
			w.Header().Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
		})}
		go srv.Serve(ln)
		defer srv.Close()
		base := "http://" + ln.Addr().String()
		ctx := testenv.Browser(b, testenv.BrowserOptions{Width: 1200, Height: 1000})
		f := newFrameReader(ctx, base)
		marker := touch(b, dir, -1)
		if err := chromedp.Run(ctx, chromedp.Navigate(base+"/pages/index.html")); err != nil {
			b.Fatal(err)
		}
		f.wait(b, marker)
		i := 0
		for b.Loop() {
			marker = touch(b, dir, i)
			i++
			if err := chromedp.Run(ctx, chromedp.Evaluate(`location.reload()`, nil)); err != nil {
				b.Fatal(err)
			}
			f.wait(b, marker)
		}
	})
}
