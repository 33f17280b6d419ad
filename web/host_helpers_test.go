package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

// hostWorld is a platform with an operator and a developer organisation
// that publishes the test mini programs under web/testdata through the
// real API: create, upload, submit, approve, release to everyone.
type hostWorld struct {
	p        *platformtest.Running
	operator *platformtest.API
	dev      *platformtest.API
	orgID    int64
}

func newHostWorld(t *testing.T) *hostWorld {
	t.Helper()
	p := platformtest.Start(t, platform.Config{})
	w := &hostWorld{p: p}
	w.operator = p.API(p.CreateOperator(t, "op@example.com", "operator-password-1"))
	w.dev = p.API(p.Client())
	var su web.SignupResponse
	w.dev.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "dev@fixtures.example", Name: "Dana Dev", Password: "developer-password-1", OrgName: "Fixture Works"}, &su)
	w.orgID = su.Org.ID
	return w
}

// published is a released mini program.
type published struct {
	ID      string
	Name    string
	Version app.Version
	Origin  string // http://{id}.apps.localhost:PORT
	Base    string // origin + /_v/{sha}/
}

// publish registers an app called name, packs the project in
// web/testdata/{fixture} (edit may change the copy first), and releases
// it to everyone.
func (w *hostWorld) publish(t *testing.T, fixture, name string, settings map[string]any, edit func(dir string)) published {
	t.Helper()
	body := map[string]any{"org_id": w.orgID, "name": name, "category": "tools"}
	for k, v := range settings {
		body[k] = v
	}
	var created web.AppCreated
	w.dev.Must(t, 201, "POST", "/api/v1/apps", body, &created)
	id := created.App.ID
	dir := filepath.Join(t.TempDir(), fixture)
	copyDir(t, filepath.Join("testdata", fixture), dir)
	if edit != nil {
		edit(dir)
	}
	pkg, _, err := miniapp.Pack(context.Background(), dir, miniapp.DefaultLimits())
	if err != nil {
		t.Fatalf("pack %s: %v", fixture, err)
	}
	var v app.Version
	w.dev.Must(t, 201, "POST", "/api/v1/apps/"+id+"/versions", pkg, &v)
	w.dev.Must(t, 200, "POST", "/api/v1/apps/"+id+"/versions/"+v.Version+"/submit", nil, nil)
	w.operator.Must(t, 200, "POST", fmt.Sprintf("/api/v1/admin/reviews/%d/approve", v.ID), nil, nil)
	w.dev.Must(t, 200, "POST", "/api/v1/apps/"+id+"/release", web.ReleaseRequest{Version: v.Version, Percent: 100}, nil)
	origin := w.p.Web.AppOrigin(id)
	return published{ID: id, Name: name, Version: v, Origin: origin, Base: origin + "/_v/" + v.SHA256 + "/"}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
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
	if err != nil {
		t.Fatal(err)
	}
}

// user makes a host user account and returns a session token for it.
func (w *hostWorld) user(t *testing.T, email string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	a, err := w.p.Accounts.Create(ctx, w.p.DB, account.NewAccount{Email: email, Name: strings.Split(email, "@")[0], Password: "user-password-123"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := w.p.Accounts.CreateSession(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, token
}

// browser is one headless Chromium (its own profile: one device) with
// what the host tests need: JavaScript in any mini program's frame, and
// the lifecycle events the friendly fixture logs.
// waitLimit is how long the wait helpers give the browser: a ceiling for
// a machine under load (the race detector, parallel packages), which a
// passing test never waits for.
const waitLimit = 45 * time.Second

type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	contexts map[cdp.FrameID]runtime.ExecutionContextID
	life     []lifeEvent
	console  []string
}

// lifeEvent is one "omlife" console line of the friendly fixture.
type lifeEvent struct {
	Page  string          `json:"page"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func (e lifeEvent) String() string { return e.Page + ":" + e.Event }

func newBrowser(t *testing.T, base string, o ...testenv.BrowserOptions) *browser {
	t.Helper()
	b := &browser{t: t, ctx: testenv.Browser(t, o...), base: base, contexts: map[cdp.FrameID]runtime.ExecutionContextID{}}
	chromedp.ListenTarget(b.ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExecutionContextCreated:
			var aux struct {
				FrameID   cdp.FrameID `json:"frameId"`
				IsDefault bool        `json:"isDefault"`
			}
			if json.Unmarshal(e.Context.AuxData, &aux) == nil && aux.IsDefault && aux.FrameID != "" {
				b.mu.Lock()
				b.contexts[aux.FrameID] = e.Context.ID
				b.mu.Unlock()
			}
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				var s string
				if json.Unmarshal(a.Value, &s) == nil {
					parts = append(parts, s)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			line := strings.Join(parts, " ")
			b.mu.Lock()
			b.console = append(b.console, line)
			if rest, ok := strings.CutPrefix(line, "omlife "); ok {
				var le lifeEvent
				if json.Unmarshal([]byte(rest), &le) == nil {
					b.life = append(b.life, le)
				}
			}
			b.mu.Unlock()
		}
	})
	return b
}

func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
}

// open navigates the tab to a host path and waits for the shell.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path), chromedp.WaitReady("#om-shell", chromedp.ByQuery))
	b.waitTop(`!!window.OpenMiniHost`)
}

// signIn puts a session cookie for token in the browser.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.run(network.SetCookie("om_session", token).WithURL(b.base).WithHTTPOnly(true).WithPath("/"))
}

// top evaluates expr in the host's own document.
func (b *browser) top(expr string, out any) {
	b.t.Helper()
	b.run(chromedp.Evaluate(expr, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
}

// waitTop polls expr in the host's document until it is truthy.
func (b *browser) waitTop(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		var ok bool
		if err := chromedp.Run(b.ctx, chromedp.Evaluate("!!("+expr+")", &ok)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 20s for %s in the host page", expr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// frame returns the frame of appID's page on top of its stack (the
// visible iframe), waiting for it to have a JavaScript context.
func (b *browser) frame(appID string) (cdp.FrameID, runtime.ExecutionContextID) {
	b.t.Helper()
	sel := `.om-app[data-app="` + appID + `"] .om-pages iframe:not([hidden])`
	deadline := time.Now().Add(waitLimit)
	for {
		var nodes []*cdp.Node
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		err := chromedp.Run(ctx, chromedp.Nodes(sel, &nodes, chromedp.ByQuery, chromedp.AtLeast(0)))
		cancel()
		if err == nil && len(nodes) == 1 && nodes[0].FrameID != "" {
			b.mu.Lock()
			id, ok := b.contexts[nodes[0].FrameID]
			b.mu.Unlock()
			if ok {
				return nodes[0].FrameID, id
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no running frame for %s (%v, %d nodes)", appID, err, len(nodes))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// in evaluates expr (awaiting a promise) in appID's top page and decodes
// the result into out (may be nil).
func (b *browser) in(appID, expr string, out any) {
	b.t.Helper()
	if err := b.tryIn(appID, expr, out); err != nil {
		b.t.Fatalf("in %s: %s: %v", appID, expr, err)
	}
}

func (b *browser) tryIn(appID, expr string, out any) error {
	b.t.Helper()
	var lastErr error
	for attempt := 0; attempt < 40; attempt++ {
		_, ctxID := b.frame(appID)
		var res *runtime.RemoteObject
		var exc *runtime.ExceptionDetails
		err := chromedp.Run(b.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			// An answer that never comes fails in 20s instead of hanging.
			guarded := "Promise.race([Promise.resolve((0, eval)(" + jsString(expr) + ")), new Promise((_, no) => setTimeout(() => no(new Error('no answer in 20s')), 20000))])"
			res, exc, err = runtime.Evaluate(guarded).WithContextID(ctxID).WithAwaitPromise(true).WithReturnByValue(true).Do(ctx)
			return err
		}))
		if err != nil {
			// The context went away under us (the page changed): retry.
			lastErr = err
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if exc != nil {
			msg := exc.Text
			if exc.Exception != nil {
				msg += " " + exc.Exception.Description
			}
			return fmt.Errorf("exception: %s", msg)
		}
		if out != nil && res != nil && len(res.Value) > 0 {
			return json.Unmarshal(res.Value, out)
		}
		return nil
	}
	return lastErr
}

// waitIn polls expr in appID's top page until it is truthy.
func (b *browser) waitIn(appID, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		var ok bool
		if err := b.tryIn(appID, "!!("+expr+")", &ok); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 20s for %s in %s", expr, appID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sdk calls openmini.<call> in appID's top page and returns its result,
// or the error's code as {"code": ...}.
func (b *browser) sdk(appID, call string) map[string]any {
	b.t.Helper()
	var out map[string]any
	b.in(appID, `openmini.ready.then(() => openmini.`+call+`).then((r) => ({ ok: true, result: r === undefined ? null : r }), (e) => ({ ok: false, code: e.code, message: e.message }))`, &out)
	return out
}

// clickSheet waits for the host's sheet of kind and presses the button
// matching sel (".om-confirm", ".om-cancel", "[data-index=\"1\"]").
func (b *browser) clickSheet(kind, sel string) {
	b.t.Helper()
	q := `#om-layer:not([hidden]) .om-sheet[data-kind="` + kind + `"] ` + sel
	b.waitTop(`document.querySelector(` + jsString(q) + `)`)
	b.top(`document.querySelector(`+jsString(q)+`).click()`, nil)
}

// lifecycle returns the lifecycle events logged so far and forgets them.
func (b *browser) lifecycle() []lifeEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.life
	b.life = nil
	return out
}

// waitLife waits until the events logged so far end with want (as
// "page:event" strings), and returns them all.
func (b *browser) waitLife(want ...string) []string {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		b.mu.Lock()
		var got []string
		for _, e := range b.life {
			got = append(got, e.String())
		}
		b.mu.Unlock()
		if containsInOrder(got, want) {
			b.lifecycle()
			return got
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("lifecycle events:\n  got  %v\n  want %v (in this order)", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
