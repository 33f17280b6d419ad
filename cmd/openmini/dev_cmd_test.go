package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/miniapp"
)

// devRun is `openmini dev` running in-process, with its live output.
type devRun struct {
	t      *testing.T
	out    *syncBuffer
	errOut *syncBuffer
	code   chan int
	cancel context.CancelFunc
	sim    string // the simulator URL it printed
	host   string // http://localhost:PORT
	appID  string
}

// startDev runs `openmini dev args...` until the test ends and waits for
// its banner.
func startDev(t *testing.T, args ...string) *devRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devRun{t: t, out: &syncBuffer{}, errOut: &syncBuffer{}, code: make(chan int, 1), cancel: cancel}
	c := &cli{stdout: d.out, stderr: d.errOut, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	go func() { d.code <- run(ctx, c, append([]string{"dev"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.code:
		case <-time.After(30 * time.Second):
			t.Error("openmini dev did not stop within 30s of its context ending")
		}
	})
	m := d.waitOut(regexp.MustCompile(`Simulator:\s+(http://\S+)`))
	d.sim = m[1]
	u, _ := url.Parse(d.sim)
	d.host = u.Scheme + "://" + u.Host
	d.appID = d.waitOut(regexp.MustCompile(`\(app ID ([a-z0-9]+)\)`))[1]
	return d
}

// waitOut waits for re to match the command's stdout and returns the match.
func (d *devRun) waitOut(re *regexp.Regexp) []string {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(d.out.String()); m != nil {
			return m
		}
		select {
		case code := <-d.code:
			d.t.Fatalf("openmini dev exited with %d before printing %s\nstdout:\n%s\nstderr:\n%s", code, re, d.out, d.errOut)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("waited 30s for %s in stdout:\n%s\nstderr:\n%s", re, d.out, d.errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// devBrowser drives the simulator in headless Chromium and evaluates
// JavaScript in the mini program's own frame (on its app origin), which
// the simulator page itself cannot reach.
type devBrowser struct {
	t      *testing.T
	ctx    context.Context
	origin string // the app origin

	mu       sync.Mutex
	contexts map[runtime.ExecutionContextID]string // live contexts -> origin
}

func newDevBrowser(t *testing.T, origin string) *devBrowser {
	b := &devBrowser{t: t, origin: origin, contexts: map[runtime.ExecutionContextID]string{}}
	b.ctx = testenv.Browser(t, testenv.BrowserOptions{Width: 1200, Height: 1000})
	chromedp.ListenTarget(b.ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExecutionContextCreated:
			b.contexts[e.Context.ID] = e.Context.Origin
		case *runtime.EventExecutionContextDestroyed:
			delete(b.contexts, e.ExecutionContextID)
		case *runtime.EventExecutionContextsCleared:
			clear(b.contexts)
		}
	})
	return b
}

func (b *devBrowser) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
}

// inApp evaluates expr in every live frame of the app origin and returns
// the first result that is not false, null or an error ("" if none).
func (b *devBrowser) inApp(expr string) string {
	b.mu.Lock()
	var ids []runtime.ExecutionContextID
	for id, o := range b.contexts {
		if o == b.origin {
			ids = append(ids, id)
		}
	}
	b.mu.Unlock()
	for _, id := range ids {
		var res *runtime.RemoteObject
		var exc *runtime.ExceptionDetails
		err := chromedp.Run(b.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			res, exc, err = runtime.Evaluate(expr).WithContextID(id).WithAwaitPromise(true).WithReturnByValue(true).Do(ctx)
			return err
		}))
		if err != nil || exc != nil || res == nil || len(res.Value) == 0 {
			continue
		}
		if v := string(res.Value); v != "false" && v != "null" && v != `""` {
			return v
		}
	}
	return ""
}

// waitApp polls expr in the mini program's frames until it is truthy and
// returns its JSON value.
func (b *devBrowser) waitApp(expr, what string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v := b.inApp(expr); v != "" {
			return v
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 30s for %s (%s) in the mini program", what, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSim polls expr in the simulator page until it is truthy.
func (b *devBrowser) waitSim(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		if err := chromedp.Run(b.ctx, chromedp.Evaluate("!!("+expr+")", &ok)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var html string
			chromedp.Run(b.ctx, chromedp.Evaluate(`document.body.innerText`, &html))
			b.t.Fatalf("waited 30s for %s (%s) in the simulator page, which shows:\n%s", what, expr, html)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func writeDevFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDevSimulator runs `openmini dev` on a project from `openmini init`
// and uses the simulator as a developer would: the entry page loads in
// the device frame, console output reaches the terminal, saving a page
// reloads the simulator on the page being viewed, a broken manifest shows
// its problem in the page and the terminal until it is fixed, and the
// project runs isolated on its own origin under its CSP.
func TestDevSimulator(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "noodles")
	if err := miniapp.Init(dir, "blank", "Noodle Dev"); err != nil {
		t.Fatal(err)
	}
	// A second page, console output on load, and a dev network setting.
	manifestPath := filepath.Join(dir, "manifest.json")
	raw, _ := os.ReadFile(manifestPath)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["pages"] = []string{"pages/index", "pages/about"}
	m["x_openmini_dev"] = map[string]any{"allowed_domains": []string{"https://api.noodles.example"}}
	good, _ := json.MarshalIndent(m, "", "  ")
	writeDevFile(t, manifestPath, string(good))
	aboutHTML := `<!doctype html><html><head><meta charset="utf-8"><title>About</title></head>
<body><h1 id="title">About us, first draft</h1><script src="about.js"></script></body></html>`
	writeDevFile(t, filepath.Join(dir, "pages", "about.html"), aboutHTML)
	// The entry page logs as it loads; a later page logs once the SDK is
	// ready (before its handshake a page that is not the entry page does
	// not know it runs under openmini dev).
	index, _ := os.ReadFile(filepath.Join(dir, "pages", "index.js"))
	writeDevFile(t, filepath.Join(dir, "pages", "index.js"), "console.info('index loading', 1 + 1);\n"+string(index))
	writeDevFile(t, filepath.Join(dir, "pages", "about.js"), `openmini.ready.then(() => console.log("about page says", {bowls: 3}, "\u001b[31mred?"));
setTimeout(() => { throw new Error("boom from about") }, 10);
`)

	d := startDev(t, dir, "--addr", "127.0.0.1:0", "--allow", "http://localhost:3999")
	origin := strings.Replace(d.host, "//localhost", "//"+d.appID+".apps.localhost", 1)
	if !strings.Contains(d.out.String(), "valid (") {
		t.Errorf("the first validation is not printed:\n%s", d.out)
	}

	t.Run("app origin has the CSP", func(t *testing.T) {
		req, _ := http.NewRequest("GET", d.host+"/_v/dev/pages/index.html", nil)
		req.Host = strings.TrimPrefix(origin, "http://")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("app origin answered %d, nosniff %q", resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
		}
		for _, want := range []string{"frame-ancestors " + d.host, "connect-src 'self' https://api.noodles.example http://localhost:3999 ws://localhost:3999", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP lacks %q:\n%s", want, csp)
			}
		}
	})

	b := newDevBrowser(t, origin)
	b.run(chromedp.Navigate(d.sim))

	// The entry page runs in the device frame, on its own origin, with
	// its storage working (the visit counter is saved through the host).
	b.waitApp(`document.getElementById("visits") && document.getElementById("visits").textContent === "1"`, "the entry page with its first visit counted")
	b.waitSim(`document.getElementById("dv-status").dataset.state === "connected"`, "the simulator's event stream")
	var frameWidth int
	b.run(chromedp.Evaluate(`document.getElementById("dv-frame").contentWindow.innerWidth`, &frameWidth))
	if frameWidth != 390 {
		t.Errorf("the simulator's default device (iPhone 13) should be 390 CSS pixels wide, the frame is %d", frameWidth)
	}
	if got := b.inApp(`location.origin`); got != `"`+origin+`"` {
		t.Errorf("the mini program runs on %s, want its own origin %s", got, origin)
	}
	if got := b.inApp(`(() => { try { return String(parent.document.title) } catch (e) { return "blocked" } })()`); got != `"blocked"` {
		t.Errorf("the mini program read its host's document: %s", got)
	}
	blocked := b.inApp(`new Promise((resolve) => {
		document.addEventListener("securitypolicyviolation", (e) => resolve(e.blockedURI));
		fetch("https://not-allowed.example/x").catch(() => {});
		setTimeout(() => resolve("not blocked"), 5000);
	})`)
	if !strings.Contains(blocked, "not-allowed.example") {
		t.Errorf("a fetch to a domain that is not allowed was not blocked by the CSP: %s", blocked)
	}

	// Open the second page through the SDK; its console output and its
	// uncaught error reach the terminal with the page's route.
	b.inApp(`openmini.ready.then(() => openmini.navigateTo({ url: "/pages/about" })).then(() => true)`)
	b.waitApp(`document.getElementById("title") && document.getElementById("title").textContent === "About us, first draft"`, "the about page")
	d.waitOut(regexp.MustCompile(`\[info\] pages/index: index loading 2`))
	d.waitOut(regexp.MustCompile(`\[log\] pages/about: about page says \{"bowls":3\} \\u001b\[31mred\?`))
	d.waitOut(regexp.MustCompile(`\[uncaught\] pages/about: .*boom from about \(pages/about\.js:2\)`))
	if strings.Contains(d.out.String(), "\x1b") {
		t.Error("a control character from the mini program reached the terminal")
	}
	b.waitSim(`location.hash === "#pages/about"`, "the route in the simulator's address")

	// Saving the page reloads the simulator on the same page with the new content.
	writeDevFile(t, filepath.Join(dir, "pages", "about.html"), strings.Replace(aboutHTML, "first draft", "saved again", 1))
	b.waitApp(`document.getElementById("title") && document.getElementById("title").textContent === "About us, saved again"`, "the edited about page after the reload")
	b.waitSim(`document.body.dataset.reloads === "1"`, "one reload")
	d.waitOut(regexp.MustCompile(`valid \(\d+ files, 1 warning\); reloading the simulator`))

	// A broken manifest: the problem shows in the page and the terminal;
	// fixing it brings the project back.
	writeDevFile(t, manifestPath, `{"app_id": "noodle.dev", "name": `)
	b.waitSim(`document.body.dataset.valid === "false" && !document.getElementById("dv-problems").hidden &&
		document.getElementById("dv-problem-list").textContent.includes("manifest.json")`, "the manifest's problem in the simulator")
	d.waitOut(regexp.MustCompile(`(?m)^manifest\.json: .+`))
	d.waitOut(regexp.MustCompile(`problems?; the simulator shows the project again once`))
	b.waitSim(`(() => { try { const p = document.getElementById("dv-frame").contentDocument.getElementById("om-problem"); return p && p.textContent.includes("problem") } catch (e) { return false } })()`,
		"the problem in the phone frame")

	writeDevFile(t, manifestPath, string(good))
	b.waitSim(`document.body.dataset.valid === "true" && !document.querySelector("#dv-problem-list .dv-error") &&
		document.getElementById("dv-problems-title").textContent === "Warnings"`, "the problem gone from the simulator (the warning stays)")
	b.waitApp(`document.getElementById("title") && document.getElementById("title").textContent === "About us, saved again"`, "the about page back after the fix")

	// Another device preset: the frame takes its size and the SDK reports
	// its screen and pixel ratio.
	b.run(chromedp.SetValue("#dv-device", "pixel-7", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("dv-device").dispatchEvent(new Event("change"))`, nil))
	b.waitSim(`document.getElementById("dv-frame").contentWindow.innerWidth === 412 && location.search === "?device=pixel-7"`, "the Pixel 7's width")
	b.waitApp(`openmini.ready.then(() => openmini.getSystemInfo()).then((s) => s.pixelRatio === 2.625 && s.screenWidth === 412 && s.screenHeight === 915)`,
		"the Pixel 7 in getSystemInfo")

	// On a phone the simulator page itself does not scroll sideways.
	b.run(chromedp.EmulateViewport(390, 844))
	b.waitSim(`document.documentElement.scrollWidth <= window.innerWidth && Number(document.body.dataset.scale) < 1`, "the simulator fitting a 390px screen")
}

// TestDevKeepsDataBetweenRuns: with --data the project's app and what
// the mini program stored survive a restart, under the same app ID, even
// after the manifest's name changed.
func TestDevKeepsDataBetweenRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	if err := miniapp.Init(dir, "blank", "First Name"); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	device := &http.Cookie{Name: "om_device", Value: strings.Repeat("ab", 16)}
	storage := func(d *devRun, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", d.host+"/host/api/storage", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(device)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	first := startDev(t, dir, "--addr", "127.0.0.1:0", "--data", data)
	if code, body := storage(first, `{"app": "`+first.appID+`", "op": "set", "key": "bowls", "data": 3}`); code != 200 {
		t.Fatalf("setStorage for the dev app: %d %s", code, body)
	}
	first.cancel()
	select {
	case code := <-first.code:
		if code != 0 {
			t.Fatalf("openmini dev exited with %d\n%s", code, first.errOut)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("openmini dev did not stop")
	}
	first.code <- 0 // for its cleanup

	manifest := filepath.Join(dir, "manifest.json")
	raw, _ := os.ReadFile(manifest)
	writeDevFile(t, manifest, strings.Replace(string(raw), `"name": "First Name"`, `"name": "Second Name"`, 1))
	second := startDev(t, dir, "--addr", "127.0.0.1:0", "--data", data)
	if second.appID != first.appID {
		t.Fatalf("the app ID changed between runs: %s then %s", first.appID, second.appID)
	}
	if code, body := storage(second, `{"app": "`+second.appID+`", "op": "get", "key": "bowls"}`); code != 200 || !strings.Contains(body, `"data":3`) {
		t.Errorf("getStorage after a restart with --data: %d %s", code, body)
	}
	if !strings.Contains(second.out.String(), `as "Second Name"`) {
		t.Errorf("the banner does not use the manifest's new name:\n%s", second.out)
	}
}

// TestDevOpensTheBrowser: --open hands the simulator's URL to xdg-open;
// without one it says to open the URL by hand.
func TestDevOpensTheBrowser(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("the opener is xdg-open on Linux only")
	}
	dir := filepath.Join(t.TempDir(), "p")
	if err := miniapp.Init(dir, "blank", "P"); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	opened := filepath.Join(bin, "opened")
	writeDevFile(t, filepath.Join(bin, "xdg-open"), "#!/bin/sh\necho \"$1\" > "+opened+"\n")
	os.Chmod(filepath.Join(bin, "xdg-open"), 0o755)
	t.Setenv("PATH", bin)
	d := startDev(t, dir, "--addr", "127.0.0.1:0", "--open", "--device", "ipad")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(opened)
		if got := strings.TrimSpace(string(b)); got != "" {
			if got != d.sim || !strings.HasSuffix(got, "/_dev/?device=ipad") {
				t.Fatalf("xdg-open got %q, the banner says %q", got, d.sim)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("xdg-open was not run")
		}
		time.Sleep(50 * time.Millisecond)
	}

	t.Setenv("PATH", t.TempDir())
	d = startDev(t, dir, "--addr", "127.0.0.1:0", "--open")
	d.waitOut(regexp.MustCompile(`No browser opener \(xdg-open\) here; open http://\S+/_dev/ in a browser\.`))
}

// TestDevRefusesBadArguments: mistakes on the command line name the
// problem and exit with status 2, before anything starts.
func TestDevRefusesBadArguments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	if err := miniapp.Init(dir, "blank", "P"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{dir, "--device", "nokia-3310"}, `--device: "nokia-3310" is not one of iphone-13, pixel-7, ipad, desktop`},
		{[]string{filepath.Join(dir, "missing")}, "no such directory"},
		{[]string{filepath.Join(dir, "manifest.json")}, "is not a directory"},
		{[]string{dir, "--allow", "http://api.example.com"}, "plain http is allowed only on loopback addresses"},
		{[]string{dir, "--allow", "https://api.example.com/v1"}, "must be an origin, without a path"},
		{[]string{}, "Usage: openmini dev"},
	}
	for _, tc := range cases {
		code, _, errOut := runCmd(t, nil, append([]string{"dev"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("dev %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
