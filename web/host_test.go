package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/web"
)

// get fetches a URL (an app origin is reached through the platform's
// listener with the app's Host header).
func get(t *testing.T, w *hostWorld, c *http.Client, rawURL string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// appClient sends requests for *.apps.localhost to the platform's
// loopback listener (Go does not resolve .localhost names itself).
func appClient(w *hostWorld) *http.Client {
	c := w.p.Client()
	addr := w.p.Addr()
	var d net.Dialer
	c.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	return c
}

func TestAppOriginHeadersAndSDKFiles(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Friendly", map[string]any{"allowed_domains": []string{"https://api.shop.example", "https://*.cdn.example"}}, nil)
	c := appClient(w)

	resp, body := get(t, w, c, f.Base+"pages/index.html")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors " + w.p.URL, "connect-src 'self' https://*.cdn.example https://api.shop.example;", "frame-src 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.StatusCode != 200 {
		t.Errorf("page: %d %v", resp.StatusCode, resp.Header)
	}
	// A page carries the SDK, which a server upgrade changes: revalidated
	// by its ETag, never kept blindly. Other package files are immutable.
	if etag := resp.Header.Get("ETag"); etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("page caching: %v", resp.Header)
	} else {
		req, _ := http.NewRequest("GET", f.Base+"pages/index.html", nil)
		req.Header.Set("If-None-Match", etag)
		if r2, err := c.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
			t.Errorf("revalidating the page: %v %v", r2, err)
		} else {
			r2.Body.Close()
		}
	}
	if r3, _ := get(t, w, c, f.Base+"app.css"); r3.StatusCode != 200 || r3.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("app.css caching: %d %v", r3.StatusCode, r3.Header)
	} else if p := r3.Header.Get("Content-Security-Policy"); !strings.HasPrefix(p, "default-src 'none';") || !strings.HasSuffix(p, "frame-ancestors "+w.p.URL) ||
		r3.Header.Get("Cross-Origin-Opener-Policy") != "" || r3.Header.Get("X-Content-Type-Options") != "nosniff" {
		// A stylesheet runs nothing: a policy under which nothing runs.
		t.Errorf("app.css policy: %v", r3.Header)
	}
	// A script may become a worker, which runs under its script's policy:
	// the app's own, network allow-list included.
	if r4, _ := get(t, w, c, f.Base+"app.js"); r4.StatusCode != 200 || !strings.Contains(r4.Header.Get("Content-Security-Policy"), "connect-src 'self' https://*.cdn.example https://api.shop.example;") {
		t.Errorf("app.js policy: %d %v", r4.StatusCode, r4.Header)
	}
	// The SDK goes first in <head>, inline.
	if i := strings.Index(body, "<head><script data-openmini-sdk=\"1\">var __OPENMINI_HOST__ = "); i < 0 || !strings.Contains(body, "window.openmini") {
		t.Errorf("page without the SDK first in <head>:\n%s", body)
	}

	// The ES module (re-exporting the global) and the types.
	resp, mjs := get(t, w, c, f.Origin+"/_sdk/openmini.mjs")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(mjs, "export default openmini") || !strings.Contains(mjs, "export const {") || strings.Contains(mjs, "'/_sdk/openmini.js'") {
		t.Errorf("openmini.mjs: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), mjs)
	}
	resp, dts := get(t, w, c, f.Origin+"/_sdk/openmini.d.ts")
	if resp.StatusCode != 200 || !strings.Contains(dts, "type ErrorCode") || !strings.Contains(dts, "navigateToMiniProgram") {
		t.Errorf("openmini.d.ts: %d", resp.StatusCode)
	}
	// Every call the SDK has is typed.
	_, js := get(t, w, c, f.Origin+"/_sdk/openmini.js")
	start := strings.Index(js, "var names = [")
	end := strings.Index(js[start:], "];")
	for _, n := range strings.Split(js[start+len("var names = ["):start+end], ",") {
		n = strings.Trim(strings.TrimSpace(n), "'")
		if n != "" && !strings.Contains(dts, "    "+n+":") && !strings.Contains(dts, "    "+n+"<") {
			t.Errorf("openmini.d.ts does not type %s", n)
		}
	}
	if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("SDK files revalidate: %v", resp.Header)
	}

	// App origins serve files only.
	req, _ := http.NewRequest("POST", f.Base+"pages/index.html", nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 404 {
		t.Errorf("POST to an app origin: %v %v", resp, err)
	}
}

func TestHostReportEndpoint(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Friendly", nil, nil)
	user := w.p.API(w.p.Client())
	// The first visit gives the browser its device: HttpOnly, host-only.
	resp, _ := get(t, w, user.C, w.p.URL+"/")
	var device *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "om_device" {
			device = c
		}
	}
	if device == nil || !device.HttpOnly || device.Domain != "" {
		t.Fatalf("device cookie: %+v", device)
	}

	var eb platformtest.ErrorBody
	if code := user.Do(t, "POST", "/host/api/report", web.ReportRequest{AppID: f.ID, Reason: "spam"}, &eb); code != 400 || !strings.Contains(eb.Error.Message, "fraud, content, broken, other") {
		t.Errorf("unknown reason: %d %+v", code, eb)
	}
	if code := user.Do(t, "POST", "/host/api/report", web.ReportRequest{AppID: "mpnosuchapp", Reason: "fraud"}, &eb); code != 404 {
		t.Errorf("unknown app: %d %+v", code, eb)
	}
	// From a mini program's origin: refused by cross-origin protection.
	req, _ := http.NewRequest("POST", w.p.URL+"/host/api/report", strings.NewReader(`{"app":"`+f.ID+`","reason":"fraud"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-site")
	req.Header.Set("Origin", f.Origin)
	if resp, err := user.C.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("report posted from the app's origin: %v %v", resp, err)
	}

	for i := 0; i < host.ReportsPerHour; i++ {
		user.Must(t, 201, "POST", "/host/api/report", web.ReportRequest{AppID: f.ID, Reason: "fraud", Note: fmt.Sprintf("fake prizes %d", i), Page: "pages/index", Version: "1.0.0"}, nil)
	}
	if code := user.Do(t, "POST", "/host/api/report", web.ReportRequest{AppID: f.ID, Reason: "broken"}, &eb); code != 429 || eb.Error.Code != "rate_limited" {
		t.Errorf("report past the limit: %d %+v", code, eb)
	}
	// Another device may still report.
	other := w.p.API(w.p.Client())
	other.Must(t, 201, "POST", "/host/api/report", web.ReportRequest{AppID: f.ID, Reason: "content"}, nil)

	entries, err := audit.List(context.Background(), w.p.DB, audit.Filter{AppID: f.ID})
	if err != nil {
		t.Fatal(err)
	}
	reports := 0
	for _, e := range entries {
		if e.Action == "app.report" {
			reports++
			if e.ActorID != 0 || e.Actor != "user report" || !strings.Contains(e.Detail, `"reason"`) {
				t.Errorf("report entry names the reporter or lacks the reason: %+v", e)
			}
		}
	}
	if reports != host.ReportsPerHour+1 {
		t.Errorf("%d app.report entries, want %d", reports, host.ReportsPerHour+1)
	}
	// The developer sees them in the app's audit log.
	var log struct{ Entries []audit.Entry }
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+f.ID+"/audit", nil, &log)
	if !strings.Contains(fmt.Sprint(log.Entries), "fake prizes 4") {
		t.Errorf("developer's audit log lacks the reports")
	}
}

func TestHostLaunchRules(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Friendly", nil, nil)
	anon := w.p.API(w.p.Client())
	var l host.Launch
	anon.Must(t, 200, "GET", "/host/api/launch/"+f.ID+"?path=pages/second&query=table%3D12%26om_scene%3Dx&om_scene=qr&om_ref=mpother1", nil, &l)
	if l.Path != "pages/second" || l.Query["table"] != "12" || l.Query["om_scene"] != "" || l.Scene != "qr" || l.Referrer != "mpother1" || l.VersionKind != "release" ||
		l.Base != f.Base || l.Window == nil || l.Window.NavigationBarTitleText != "Friendly Title" {
		t.Errorf("launch: %+v", l)
	}
	var eb platformtest.ErrorBody
	for path, want := range map[string]int{
		"/host/api/launch/" + f.ID + "?path=pages/nowhere":                      404,
		"/host/api/launch/" + f.ID + "?trial=1":                                 401,
		"/host/api/launch/" + f.ID + fmt.Sprintf("?preview=%d", f.Version.ID):   401,
		"/host/api/launch/mpnosuchapp":                                          404,
		"/host/api/launch/" + f.ID + "?path=pages/index&om_scene=made-up-scene": 200,
	} {
		if code := anon.Do(t, "GET", path, nil, &eb); code != want {
			t.Errorf("%s: %d %+v, want %d", path, code, eb, want)
		}
	}
	// Previews are for the app's developers and reviewers, not any user.
	_, token := w.user(t, "lena@example.com")
	lena := w.p.API(w.p.Client())
	u, _ := http.NewRequest("GET", w.p.URL, nil)
	lena.C.Jar.SetCookies(u.URL, []*http.Cookie{{Name: "om_session", Value: token}})
	if code := lena.Do(t, "GET", fmt.Sprintf("/host/api/launch/%s?preview=%d", f.ID, f.Version.ID), nil, &eb); code != 403 {
		t.Errorf("preview by a stranger: %d %+v", code, eb)
	}
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/host/api/launch/%s?preview=%d", f.ID, f.Version.ID), nil, &l)
	if l.VersionKind != "preview" || l.Scene != "preview" {
		t.Errorf("developer's preview: %+v", l)
	}
	w.operator.Must(t, 200, "GET", fmt.Sprintf("/host/api/launch/%s?preview=%d", f.ID, f.Version.ID), nil, nil)

	// A launch link renders the shell with the app's loading screen.
	code, page := w.p.Get(t, w.p.Client(), "/app/"+f.ID+"/pages/second?table=7")
	if code != 200 || !strings.Contains(page, `class="om-loading"`) || !strings.Contains(page, "Friendly") || !strings.Contains(page, "pages/second.html?table=7#om=") {
		t.Errorf("launch page: %d", code)
	}
	code, page = w.p.Get(t, w.p.Client(), "/app/mpnosuchapp/")
	if code != 404 || !strings.Contains(page, "om-problem") {
		t.Errorf("launch page of an unknown app: %d", code)
	}
}

// TestHostRefusesTamperedFiles changes a file of a released version in
// the blob store: the app origin refuses to serve it, and a package whose
// bytes changed is refused at launch.
func TestHostRefusesTamperedFiles(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Friendly", nil, nil)
	ctx := context.Background()
	fv, err := w.p.Apps.VersionByID(ctx, f.Version.ID)
	if err != nil {
		t.Fatal(err)
	}
	file, ok := fv.File("common/data.json")
	if !ok {
		t.Fatal("no common/data.json")
	}
	evil := []byte(`{"greeting":"tampered"}`)
	if err := w.p.Blob.Put(ctx, file.Key, bytes.NewReader(evil), int64(len(evil))); err != nil {
		t.Fatal(err)
	}
	c := appClient(w)
	if resp, body := get(t, w, c, f.Base+"common/data.json"); resp.StatusCode != 500 || strings.Contains(body, "tampered") {
		t.Errorf("tampered file served: %d %s", resp.StatusCode, body)
	}

	g := w.publish(t, "friendly", "Second", nil, func(dir string) {
		os.WriteFile(filepath.Join(dir, "common", "extra.txt"), []byte("a different package"), 0o644)
	})
	stored, err := w.p.Apps.VersionByID(ctx, g.Version.ID)
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte("not the signed package")
	if err := w.p.Blob.Put(ctx, stored.PackageKey, bytes.NewReader(junk), int64(len(junk))); err != nil {
		t.Fatal(err)
	}
	var eb platformtest.ErrorBody
	if code := w.p.API(w.p.Client()).Do(t, "GET", "/host/api/launch/"+g.ID, nil, &eb); code != 503 || !strings.Contains(eb.Error.Message, "integrity") {
		t.Errorf("launch of a tampered package: %d %+v", code, eb)
	}
}
