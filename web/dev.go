package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/miniapp"
)

// `openmini dev` serves one mini program project from disk through the
// same host shell, per-app origin and Content-Security-Policy as a stored
// version. A DevProject holds that project: it validates the directory as
// the package it would pack to (miniapp.OpenDir) on start and on every
// change (Run watches the files), keeps the last result as a snapshot the
// handlers in dev_http.go serve from, tells the simulator pages about
// each change over server-sent events, and prints problems and the mini
// program's console output for the developer.

// DevOptions configure a DevProject.
type DevOptions struct {
	// Dir is the project directory (the one `openmini init` writes).
	Dir string
	// Allow lists extra network origins the mini program may reach
	// (`--allow`): https origins or domains, and http origins on loopback
	// addresses (http://localhost:3000) for a local backend.
	Allow []string
	// Out receives what the developer reads in the terminal: problems,
	// reloads, and the mini program's console output and uncaught errors.
	Out io.Writer
	// Limits are the package limits to validate under; zero means
	// miniapp.DefaultLimits().
	Limits miniapp.Limits
	// Debounce is how long Run waits after a change for more changes
	// before it re-validates; zero means 100ms.
	Debounce time.Duration
}

// DevProject is a project served by `openmini dev`. Its methods are safe
// for concurrent use.
type DevProject struct {
	dir      string // absolute
	label    string // the directory as the developer named it, for messages
	appID    string
	flagged  []string // origins from DevOptions.Allow, normalised
	limits   miniapp.Limits
	debounce time.Duration
	boot     string // identifies this run to the simulator page
	stopped  chan struct{}
	stopOnce sync.Once

	outMu sync.Mutex
	out   io.Writer

	mu   sync.Mutex
	snap *devState
	subs map[chan struct{}]struct{}
}

// devState is one validation of the project. The JSON form is what the
// simulator page receives.
type devState struct {
	Boot     string            `json:"boot"`
	Seq      int64             `json:"seq"` // grows with every change the page should see
	Valid    bool              `json:"valid"`
	Errors   []miniapp.Problem `json:"errors"`
	Warnings []miniapp.Problem `json:"warnings"`
	Pages    []string          `json:"pages"`
	Name     string            `json:"name,omitempty"`
	SHA256   string            `json:"sha256,omitempty"`
	Allowed  []string          `json:"allowed"` // network origins in the CSP besides the app's own

	pkg *miniapp.Package // nil unless Valid
}

// ManifestDevKey is the top-level manifest member `openmini dev` reads
// its settings from: {"x_openmini_dev": {"allowed_domains": [...]}}.
// Like every x_ member it is ignored by validation and by the platform,
// so it does nothing once the package is uploaded.
const ManifestDevKey = "x_openmini_dev"

// NewDevProject opens the project in o.Dir and validates it once,
// printing the result to o.Out. It fails when the directory cannot be
// read or an --allow entry is not an origin it accepts (the error names
// it); an invalid project is not an error: its problems are printed and
// served to the simulator until they are fixed.
func NewDevProject(ctx context.Context, o DevOptions) (*DevProject, error) {
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s: no such directory (create a project with `openmini init %s`)", o.Dir, o.Dir)
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s is not a directory; `openmini dev` serves a project directory", o.Dir)
	}
	d := &DevProject{dir: abs, label: o.Dir, limits: o.Limits, debounce: o.Debounce, out: o.Out,
		stopped: make(chan struct{}), subs: map[chan struct{}]struct{}{}}
	if d.out == nil {
		d.out = io.Discard
	}
	if d.limits == (miniapp.Limits{}) {
		d.limits = miniapp.DefaultLimits()
	}
	if d.debounce <= 0 {
		d.debounce = 100 * time.Millisecond
	}
	for _, raw := range o.Allow {
		origin, err := parseDevOrigin(raw)
		if err != nil {
			return nil, fmt.Errorf("--allow: %w", err)
		}
		if !slices.Contains(d.flagged, origin) {
			d.flagged = append(d.flagged, origin)
		}
	}
	b := make([]byte, 6)
	rand.Read(b)
	d.boot = hex.EncodeToString(b)
	d.appID = devAppID(manifestAppID(abs), filepath.Base(abs))
	d.Reload(ctx)
	return d, nil
}

// AppID is the ID the project runs under: derived from the manifest's
// app_id when the project was opened (see devAppID), fixed for the run.
func (d *DevProject) AppID() string { return d.appID }

// Dir is the project's absolute directory.
func (d *DevProject) Dir() string { return d.dir }

// Valid reports whether the project's latest validation passed.
func (d *DevProject) Valid() bool { return d.current().Valid }

// Name is the mini program's name from the latest valid manifest ("" if
// none was valid yet).
func (d *DevProject) Name() string { return d.current().Name }

func (d *DevProject) current() *devState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snap
}

// Reload validates the project now. When the result differs from the
// last one (other files, other problems) it prints the problems (or that
// the project is valid) and tells every simulator page; it reports
// whether it did.
func (d *DevProject) Reload(ctx context.Context) bool {
	next := d.validate(ctx)
	d.mu.Lock()
	prev := d.snap
	if prev != nil && sameState(prev, next) {
		d.mu.Unlock()
		return false
	}
	next.Seq = 1
	if prev != nil {
		next.Seq = prev.Seq + 1
	}
	d.snap = next
	for ch := range d.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending; the page reads the latest state
		}
	}
	d.mu.Unlock()
	d.report(next, prev == nil)
	return true
}

// validate opens the directory as the package it would pack to.
func (d *DevProject) validate(ctx context.Context) *devState {
	st := &devState{Boot: d.boot, Errors: []miniapp.Problem{}, Warnings: []miniapp.Problem{}, Pages: []string{}}
	pkg, err := miniapp.OpenDir(ctx, d.dir, d.limits)
	var ve *miniapp.ValidationError
	switch {
	case err == nil:
		st.Valid, st.pkg = true, pkg
		st.Warnings = append(st.Warnings, pkg.Warnings...)
		st.Pages = pkg.Manifest.Pages
		st.Name = pkg.Manifest.Name
		st.SHA256 = hex.EncodeToString(pkg.SHA256[:])
		var devWarnings []miniapp.Problem
		st.Allowed, devWarnings = d.allowed(pkg)
		st.Warnings = append(st.Warnings, devWarnings...)
	case errors.As(err, &ve):
		st.Errors = append(st.Errors, ve.Problems...)
		st.Warnings = append(st.Warnings, ve.Warnings...)
	default:
		st.Errors = append(st.Errors, miniapp.Problem{Message: err.Error()})
	}
	if st.Allowed == nil {
		st.Allowed = slices.Clone(d.flagged)
	}
	return st
}

// allowed merges the --allow origins with the manifest's
// x_openmini_dev.allowed_domains; entries it cannot use become warnings.
func (d *DevProject) allowed(pkg *miniapp.Package) ([]string, []miniapp.Problem) {
	out := slices.Clone(d.flagged)
	f, ok := pkg.File("manifest.json")
	if !ok {
		return out, nil
	}
	var doc struct {
		Dev *struct {
			AllowedDomains []string `json:"allowed_domains"`
		} `json:"x_openmini_dev"`
	}
	if err := json.Unmarshal(f.Data, &doc); err != nil || doc.Dev == nil {
		var probe map[string]json.RawMessage
		if json.Unmarshal(f.Data, &probe) == nil && probe[ManifestDevKey] != nil {
			return out, []miniapp.Problem{{File: "manifest.json", Message: ManifestDevKey + ` must be {"allowed_domains": ["https://api.example.com", "http://localhost:3000"]}`}}
		}
		return out, nil
	}
	var warns []miniapp.Problem
	for _, raw := range doc.Dev.AllowedDomains {
		origin, err := parseDevOrigin(raw)
		if err != nil {
			warns = append(warns, miniapp.Problem{File: "manifest.json", Message: ManifestDevKey + ".allowed_domains: " + err.Error()})
			continue
		}
		if !slices.Contains(out, origin) {
			out = append(out, origin)
		}
	}
	return out, warns
}

func sameState(a, b *devState) bool {
	return a.Valid == b.Valid && a.SHA256 == b.SHA256 && slices.Equal(a.Errors, b.Errors) &&
		slices.Equal(a.Warnings, b.Warnings) && slices.Equal(a.Allowed, b.Allowed)
}

// report prints a validation for the developer: `file: problem` lines
// like `openmini validate`, then one line saying what happens next.
func (d *DevProject) report(st *devState, first bool) {
	var b strings.Builder
	name := func(p miniapp.Problem) string {
		if p.File == "" {
			return d.label
		}
		return p.File
	}
	for _, p := range st.Errors {
		fmt.Fprintf(&b, "%s: %s\n", name(p), p.Message)
	}
	for _, p := range st.Warnings {
		fmt.Fprintf(&b, "warning: %s: %s\n", name(p), p.Message)
	}
	switch {
	case !st.Valid && len(st.Errors) == 1:
		b.WriteString("1 problem; the simulator shows the project again once it is fixed.\n")
	case !st.Valid:
		fmt.Fprintf(&b, "%d problems; the simulator shows the project again once they are fixed.\n", len(st.Errors))
	case first:
		fmt.Fprintf(&b, "%s: valid (%s, %s)\n", d.label, plural(len(st.pkg.Files), "file"), plural(len(st.Warnings), "warning"))
	default:
		fmt.Fprintf(&b, "%s: valid (%s, %s); reloading the simulator\n", d.label, plural(len(st.pkg.Files), "file"), plural(len(st.Warnings), "warning"))
	}
	d.print(b.String())
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// print writes whole lines to the developer's terminal.
func (d *DevProject) print(s string) {
	d.outMu.Lock()
	defer d.outMu.Unlock()
	io.WriteString(d.out, s)
}

// subscribe returns a channel that receives a value after each change.
func (d *DevProject) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	d.mu.Lock()
	d.subs[ch] = struct{}{}
	d.mu.Unlock()
	return ch
}

func (d *DevProject) unsubscribe(ch chan struct{}) {
	d.mu.Lock()
	delete(d.subs, ch)
	d.mu.Unlock()
}

// stop ends the event streams (Run calls it when its context ends, so a
// server shutting down is not held open by simulator pages).
func (d *DevProject) stop() { d.stopOnce.Do(func() { close(d.stopped) }) }

// ConsoleLine is one line of a mini program's console output or one
// uncaught error, as the host shell posts it under `openmini dev`.
type ConsoleLine struct {
	App   string `json:"app"`
	Route string `json:"route"`
	Level string `json:"level"` // log, info, warn, error, debug; "uncaught" for an uncaught error
	Text  string `json:"text"`
	// Source and Line locate an uncaught error, when the browser said.
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
}

var consoleLevels = []string{"log", "info", "warn", "error", "debug", "uncaught"}

// PrintConsole prints l for the developer: "[level] route: text", with
// control characters made visible (a page cannot move the terminal's
// cursor or change its colours) and continuation lines indented. It
// returns an invalid error for another app's line or an unknown level.
func (d *DevProject) PrintConsole(l ConsoleLine) error {
	if l.App != d.appID {
		return openmini.Errorf(openmini.EINVALID, "console: %q is not the mini program being developed (%s)", l.App, d.appID)
	}
	if !slices.Contains(consoleLevels, l.Level) {
		return openmini.Errorf(openmini.EINVALID, "console: level %q is not one of %s", l.Level, strings.Join(consoleLevels, ", "))
	}
	route := terminalSafe(l.Route, 200)
	if route == "" {
		route = "?"
	}
	text := terminalSafe(l.Text, 8000)
	if l.Level == "uncaught" {
		if src := devSourcePath(l.Source); src != "" {
			text += fmt.Sprintf(" (%s:%d)", terminalSafe(src, 300), l.Line)
		}
	}
	text = strings.ReplaceAll(text, "\n", "\n    ")
	d.print(fmt.Sprintf("[%s] %s: %s\n", l.Level, route, text))
	return nil
}

// devSourcePath turns an error's script URL into the project's file name.
func devSourcePath(src string) string {
	if i := strings.Index(src, "/_v/"+devDigest+"/"); i >= 0 {
		return src[i+len("/_v/"+devDigest+"/"):]
	}
	return src
}

// terminalSafe cuts s to max bytes and escapes control characters other
// than newlines and tabs.
func terminalSafe(s string, max int) string {
	if len(s) > max {
		s = s[:max] + "…"
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// manifestAppID reads app_id from the project's manifest.json, leniently
// (the manifest may be invalid when `openmini dev` starts).
func manifestAppID(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return ""
	}
	var m struct {
		AppID string `json:"app_id"`
	}
	json.Unmarshal(b, &m)
	return m.AppID
}

// devAppID derives the app ID a project runs under from its manifest's
// app_id (else the directory's name): lower-case letters and digits
// only, starting with a letter, 3 to 41 characters, so it is a DNS label
// and a platform app ID. The same app_id always gives the same ID; a long
// one is cut and keeps a digest of the whole.
func devAppID(appID, dirName string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	src := appID
	id := clean(appID)
	if id == "" {
		src, id = dirName, clean(dirName)
	}
	if id == "" {
		src, id = "app", "app"
	}
	if id[0] >= '0' && id[0] <= '9' {
		id = "app" + id
	}
	for len(id) < 3 {
		id += "0"
	}
	if len(id) > 41 {
		sum := sha256.Sum256([]byte(src))
		id = id[:32] + hex.EncodeToString(sum[:])[:8]
	}
	return id
}

// parseDevOrigin accepts an https origin or bare domain
// (api.example.com, https://api.example.com:8443) or an http origin on a
// loopback address (http://localhost:3000, http://127.0.0.1:8000,
// http://[::1]:3000; "localhost:3000" means http). It returns the origin.
func parseDevOrigin(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" {
		return "", fmt.Errorf("an empty entry is not an origin")
	}
	if !strings.Contains(s, "://") {
		host := s
		if h, _, err := net.SplitHostPort(s); err == nil {
			host = h
		}
		if isLoopbackHost(host) {
			s = "http://" + s
		} else {
			s = "https://" + s
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not an origin like https://api.example.com or http://localhost:3000", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q must be an origin, without a path, query or user", raw)
	}
	switch u.Scheme {
	case "https":
		if isLoopbackHost(u.Hostname()) {
			return "https://" + u.Host, nil
		}
		out, err := app.CheckDomains([]string{u.Scheme + "://" + u.Host})
		if err != nil || len(out) != 1 {
			return "", fmt.Errorf("%q is not a domain name", raw)
		}
		return out[0], nil
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return "", fmt.Errorf("%q: plain http is allowed only on loopback addresses (localhost, 127.0.0.1, [::1]); use https", raw)
		}
		return "http://" + u.Host, nil
	}
	return "", fmt.Errorf("%q: only https origins, and http on loopback addresses, are allowed", raw)
}

func isLoopbackHost(h string) bool {
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// devCSP is the app origin's policy for the project: buildCSP's policy
// with the allowed https origins, plus the allowed loopback origins (and
// their WebSocket form) for the network directives. The host's own
// origin, and anything else on its port, is never added.
func devCSP(hostOrigin string, allowed []string) string {
	hostURL, _ := url.Parse(hostOrigin)
	var https, loop []string
	for _, o := range allowed {
		u, err := url.Parse(o)
		if err != nil || o == hostOrigin {
			continue
		}
		if isLoopbackHost(u.Hostname()) {
			if hostURL != nil && u.Port() == hostURL.Port() {
				continue // the platform itself, under another name
			}
			loop = append(loop, o)
			continue
		}
		https = append(https, o)
	}
	policy := buildCSP(hostOrigin, https)
	if len(loop) == 0 {
		return policy
	}
	ws := make([]string, 0, len(loop))
	for _, o := range loop {
		ws = append(ws, "ws"+strings.TrimPrefix(o, "http"))
	}
	dirs := strings.Split(policy, "; ")
	for i, dir := range dirs {
		name, _, _ := strings.Cut(dir, " ")
		switch name {
		case "connect-src":
			dirs[i] = dir + " " + strings.Join(loop, " ") + " " + strings.Join(ws, " ")
		case "img-src", "media-src", "form-action":
			dirs[i] = dir + " " + strings.Join(loop, " ")
		}
	}
	return strings.Join(dirs, "; ")
}
