package web

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/miniapp"
)

// lockedBuffer collects what a DevProject prints, from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestProject(t *testing.T, allow ...string) (*DevProject, string, *lockedBuffer) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	if err := miniapp.Init(dir, "blank", "Dev Test"); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	d, err := NewDevProject(context.Background(), DevOptions{Dir: dir, Allow: allow, Out: out, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return d, dir, out
}

func TestDevAppID(t *testing.T) {
	long := strings.Repeat("abcdefghij", 6)
	cases := []struct{ appID, dir, want string }{
		{"com.example.noodles", "x", "comexamplenoodles"},
		{"Com.Example.Noodles", "x", "comexamplenoodles"},
		{"", "My Shop", "myshop"},
		{"面馆", "7eleven", "app7eleven"},
		{"", "", "app"},
		{"ab", "", "ab0"},
		{"1.2", "", "app12"},
	}
	for _, c := range cases {
		if got := devAppID(c.appID, c.dir); got != c.want || !app.ValidID(got) {
			t.Errorf("devAppID(%q, %q) = %q (valid %v), want %q", c.appID, c.dir, got, app.ValidID(got), c.want)
		}
	}
	a, b := devAppID(long+"x", ""), devAppID(long+"y", "")
	if a == b || len(a) > 41 || !app.ValidID(a) || devAppID(long+"x", "") != a {
		t.Errorf("long app_ids: %q and %q should be distinct, stable, valid IDs", a, b)
	}
}

func TestParseDevOrigin(t *testing.T) {
	good := map[string]string{
		"api.example.com":             "https://api.example.com",
		"https://API.example.com/":    "https://api.example.com",
		"https://api.example.com:443": "https://api.example.com",
		"http://localhost:3000":       "http://localhost:3000",
		"localhost:3000":              "http://localhost:3000",
		"http://127.0.0.1:8000":       "http://127.0.0.1:8000",
		"http://[::1]:3000":           "http://[::1]:3000",
		"https://localhost:8443":      "https://localhost:8443",
	}
	for in, want := range good {
		if got, err := parseDevOrigin(in); err != nil || got != want {
			t.Errorf("parseDevOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"http://api.example.com":       "only on loopback",
		"https://api.example.com/v1":   "without a path",
		"ftp://files.example.com":      "only https origins",
		"https://user@api.example.com": "without a path, query or user",
		"":                             "empty",
		"https://exa mple.com":         "not",
	}
	for in, want := range bad {
		if _, err := parseDevOrigin(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDevOrigin(%q) = %v; want an error about %q", in, err, want)
		}
	}
}

func TestDevCSP(t *testing.T) {
	const host = "http://localhost:8090"
	csp := devCSP(host, []string{"https://api.example.com", "http://localhost:3000", host, "http://127.0.0.1:8090"})
	for _, want := range []string{
		"connect-src 'self' https://api.example.com http://localhost:3000 ws://localhost:3000;",
		"img-src 'self' https://api.example.com data: blob: http://localhost:3000;",
		"frame-ancestors " + host,
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q:\n%s", want, csp)
		}
	}
	if strings.Contains(csp, "127.0.0.1:8090") || strings.Count(csp, "localhost:8090") != 1 {
		t.Errorf("the platform's own origin got into the CSP:\n%s", csp)
	}
	if devCSP(host, nil) != buildCSP(host, nil) {
		t.Error("without allowed origins the dev CSP should be a stored version's")
	}
}

func TestDevProjectReload(t *testing.T) {
	d, dir, out := newTestProject(t, "http://localhost:3000")
	st := d.current()
	if !st.Valid || st.Seq != 1 || len(st.Pages) != 1 || st.Name != "Dev Test" || !app.ValidID(d.AppID()) {
		t.Fatalf("fresh project: %+v, app %q", st, d.AppID())
	}
	if !strings.Contains(out.String(), "proj: valid (") {
		t.Errorf("first validation not printed: %q", out)
	}
	ch := d.subscribe()
	defer d.unsubscribe(ch)

	if d.Reload(context.Background()) {
		t.Error("Reload reported a change when nothing changed")
	}
	page := filepath.Join(dir, "pages", "index.html")
	html, _ := os.ReadFile(page)
	os.WriteFile(page, bytes.Replace(html, []byte("Hello"), []byte("Howdy"), 1), 0o644)
	if !d.Reload(context.Background()) {
		t.Fatal("Reload missed an edited page")
	}
	select {
	case <-ch:
	default:
		t.Fatal("subscriber not told about the change")
	}
	st = d.current()
	f, _ := st.pkg.File("pages/index.html")
	if st.Seq != 2 || !bytes.Contains(f.Data, []byte("Howdy")) {
		t.Fatalf("after the edit: seq %d, page %q", st.Seq, f.Data)
	}

	// A broken manifest: invalid, problems printed like `openmini validate`.
	manifest := filepath.Join(dir, "manifest.json")
	good, _ := os.ReadFile(manifest)
	os.WriteFile(manifest, []byte(`{"app_id": `), 0o644)
	d.Reload(context.Background())
	st = d.current()
	if st.Valid || len(st.Errors) == 0 || st.Errors[0].File != "manifest.json" || st.pkg != nil {
		t.Fatalf("broken manifest: %+v", st)
	}
	if !strings.Contains(out.String(), "manifest.json: ") || !strings.Contains(out.String(), "the simulator shows the project again once") {
		t.Errorf("problems not printed:\n%s", out)
	}
	// The manifest's dev setting adds origins; a bad entry is a warning.
	var m = string(good)
	m = strings.Replace(m, `"x_openmini"`, `"x_openmini_dev": {"allowed_domains": ["https://api.example.com", "http://example.org"]}, "x_openmini"`, 1)
	os.WriteFile(manifest, []byte(m), 0o644)
	d.Reload(context.Background())
	st = d.current()
	if !st.Valid || strings.Join(st.Allowed, " ") != "http://localhost:3000 https://api.example.com" {
		t.Fatalf("allowed origins %v (valid %v, %v)", st.Allowed, st.Valid, st.Errors)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0].Message, "x_openmini_dev.allowed_domains") {
		t.Errorf("warnings %v", st.Warnings)
	}
}

func TestDevProjectWatches(t *testing.T) {
	d, dir, _ := newTestProject(t)
	ch := d.subscribe()
	defer d.unsubscribe(ch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-ch:
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatalf("no reload after %s", what)
		}
	}
	// Give the watcher a moment to start, then save a file.
	time.Sleep(200 * time.Millisecond)
	os.WriteFile(filepath.Join(dir, "app.css"), []byte("body { color: red }\n"), 0o644)
	wait("saving app.css")

	// A directory made later is watched too.
	sub := filepath.Join(dir, "common", "img")
	os.MkdirAll(sub, 0o755)
	time.Sleep(300 * time.Millisecond) // let the watcher take the new directory
	os.WriteFile(filepath.Join(sub, "note.txt"), []byte("hi\n"), 0o644)
	wait("a file in a new directory")
	if _, ok := d.current().pkg.File("common/img/note.txt"); !ok {
		t.Error("the new file is not served")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.stopped:
	default:
		t.Error("Run returned without closing the event streams")
	}
}

func TestDevPrintConsole(t *testing.T) {
	d, _, out := newTestProject(t)
	before := out.String()
	err := d.PrintConsole(ConsoleLine{App: d.AppID(), Route: "pages/index", Level: "warn", Text: "low stock\n\x1b[2Jcleared?\u202eevil"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimPrefix(out.String(), before)
	if got != "[warn] pages/index: low stock\n    \\u001b[2Jcleared?\\u202eevil\n" {
		t.Errorf("printed %q", got)
	}
	d.PrintConsole(ConsoleLine{App: d.AppID(), Route: "pages/index", Level: "uncaught", Text: "Uncaught TypeError: x is undefined",
		Source: "http://" + d.AppID() + ".apps.localhost:8090/_v/dev/pages/index.js", Line: 7})
	if !strings.Contains(out.String(), "[uncaught] pages/index: Uncaught TypeError: x is undefined (pages/index.js:7)\n") {
		t.Errorf("uncaught error printed as %q", out.String())
	}
	for _, l := range []ConsoleLine{{App: "someoneelse", Level: "log"}, {App: d.AppID(), Level: "shout"}} {
		if err := d.PrintConsole(l); openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("PrintConsole(%+v) = %v, want invalid", l, err)
		}
	}
}

func TestNewDevProjectRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, o := range []DevOptions{
		{Dir: filepath.Join(dir, "nope")},
		{Dir: file},
		{Dir: dir, Allow: []string{"http://example.com"}},
	} {
		if _, err := NewDevProject(context.Background(), o); err == nil {
			t.Errorf("NewDevProject(%+v) accepted", o)
		}
	}
	// An empty directory is not an error: its problems are shown.
	d, err := NewDevProject(context.Background(), DevOptions{Dir: dir})
	if err != nil || d.Valid() {
		t.Fatalf("empty directory: %v, valid %v", err, d != nil && d.Valid())
	}
	if want := devAppID("", filepath.Base(dir)); d.AppID() != want {
		t.Errorf("app ID %q, want %q from the directory name", d.AppID(), want)
	}
}
