package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpfetch "github.com/chromedp/cdproto/fetch"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/openmini/openmini/qr"
	"github.com/openmini/openmini/web"
)

// codeFile writes the PNG of a code the server serves to a file, for the
// browser's file chooser.
func codeFile(t *testing.T, w *hostWorld, id int64) string {
	t.Helper()
	code, _, png := getBytes(t, w.dev, fmt.Sprintf("/api/v1/qr/codes/%d.png?size=400", id))
	if code != 200 {
		t.Fatalf("code image: %d", code)
	}
	return writeTemp(t, fmt.Sprintf("code-%d.png", id), png)
}

// textFile draws any text as a QR code PNG (a code printed by somebody
// else) and writes it to a file.
func textFile(t *testing.T, name, text string) string {
	t.Helper()
	png, err := qr.NewRenderer(qr.RendererConfig{CacheBytes: -1}).Render(context.Background(), text, qr.RenderOptions{Size: 400})
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, name, png)
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// scanImage opens the host's Scan tab and scans the picture in file with
// "scan from an image".
func scanImage(b *browser, file string) {
	b.t.Helper()
	b.open("/scan")
	b.waitTop(`document.querySelector('#om-scan:not([hidden]) input[type=file]')`)
	b.run(chromedp.SetUploadFiles(`#om-scan input[type=file]`, []string{file}, chromedp.ByQuery))
}

// TestQRHostScanner is the end to end test: in a phone-sized
// headless Chromium (which has no camera) the host's scanner reads a
// code from an image and lands in the mini program on the right page with
// the right query; the scan and the launch are counted. An addressing URI
// opens the same way; a disabled code explains itself; a code pointing
// elsewhere is shown as a link and not opened; plain text is shown.
func TestQRHostScanner(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	c := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, Page: "pages/second", Query: map[string]string{"table": "12", "store": "88"}})
	b := newBrowser(t, w.p.URL)

	// The Scan tab fits the phone and speaks Chinese too.
	b.open("/scan?lang=zh-Hans")
	b.waitTop(`document.querySelector('#om-scan:not([hidden]) h2')`)
	var heading string
	var overflow bool
	b.top(`document.querySelector('#om-scan h2').textContent`, &heading)
	b.top(`document.documentElement.scrollWidth > innerWidth`, &overflow)
	if heading != "扫描二维码" || overflow {
		t.Fatalf("Scan tab in Chinese: heading %q, sideways scroll %v", heading, overflow)
	}
	b.open("/scan?lang=en")

	scanImage(b, codeFile(t, w, c.ID))
	b.waitIn(f.ID, `window.openmini && location.pathname.endsWith('/pages/second.html')`)
	var got struct {
		Path, Search string
		Launch       map[string]any
		Host         string
	}
	b.in(f.ID, `openmini.ready.then(() => ({path: location.pathname, search: location.search, launch: openmini.getLaunchOptionsSync()}))`, &got)
	b.top(`location.pathname + location.search`, &got.Host)
	q, _ := got.Launch["query"].(map[string]any)
	if !strings.HasSuffix(got.Path, "/pages/second.html") || got.Launch["scene"] != "qr" || q["table"] != "12" || q["store"] != "88" || len(q) != 2 ||
		strings.Contains(got.Search, "om_qr") || !strings.HasPrefix(got.Host, "/app/"+f.ID+"/pages/second?") {
		t.Fatalf("after scanning: %+v", got)
	}
	var st qr.Stats
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes/%d/stats", c.ID), nil, &st)
	if st.Scans != 1 || st.Launches != 1 || st.UniqueUsers != 1 {
		t.Fatalf("stats after one scan in the host: %+v", st)
	}

	// A W3C MiniApp Addressing URI in a code opens the same way.
	scanImage(b, textFile(t, "uri.png", "openmini://miniapp/"+f.ID+"/pages/third?table=9"))
	b.waitIn(f.ID, `location.pathname.endsWith('/pages/third.html') && openmini.getLaunchOptionsSync().query.table === '9'`)

	// A code pointing elsewhere is shown as a link, and nothing opens.
	const foreign = "https://example.org/menu?x=1"
	scanImage(b, textFile(t, "foreign.png", foreign))
	b.waitTop(`document.querySelector('#om-scan-result a.om-scan-link')`)
	var shown struct {
		Href, Rel, Path string
		Apps            int
	}
	b.top(`({href: document.querySelector('#om-scan-result a').href, rel: document.querySelector('#om-scan-result a').rel,
		path: location.pathname, apps: [...document.querySelectorAll('.om-app:not([hidden])')].length})`, &shown)
	if shown.Href != foreign || !strings.Contains(shown.Rel, "noopener") || shown.Path != "/scan" || shown.Apps != 0 {
		t.Fatalf("a foreign code: %+v", shown)
	}

	// Plain text is shown as text.
	scanImage(b, textFile(t, "text.png", "Wi-Fi: noodles / 面条"))
	b.waitTop(`document.querySelector('#om-scan-result pre')?.textContent === 'Wi-Fi: noodles / 面条'`)

	// A disabled code says so in the scanner and opens nothing.
	w.dev.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{"disabled": true}, nil)
	scanImage(b, codeFile(t, w, c.ID))
	b.waitTop(`document.querySelector('#om-scan-result .om-scan-problem')`)
	var problem string
	b.top(`document.querySelector('#om-scan-result .om-scan-problem').textContent`, &problem)
	if !strings.Contains(problem, "turned off by its owner") || !strings.Contains(problem, "Noodle Bar") {
		t.Fatalf("disabled code in the scanner: %q", problem)
	}
	// An image without a code says that.
	scanImage(b, writeTemp(t, "blank.png", mustPNGOfBlank(t)))
	b.waitTop(`document.querySelector('#om-scan .om-scan-status')?.textContent === 'No QR code was found in this image.'`)

	// The disabled code's link opened directly is a friendly host page.
	b.run(chromedp.Navigate(c.ShortURL))
	b.waitTop(`document.querySelector('#om-problem')`)
	var page struct {
		Text     string
		Overflow bool
	}
	b.top(`({text: document.querySelector('#om-problem').innerText, overflow: document.documentElement.scrollWidth > innerWidth})`, &page)
	if !strings.Contains(page.Text, "This QR code has been turned off by its owner.") || page.Overflow {
		t.Fatalf("friendly page: %+v", page)
	}
}

// TestQRScanCodeFromMiniProgram: openmini.scanCode() in a mini program uses
// the host's scanner and returns what it read, in WeChat's shape, without
// opening anything; cancelling rejects with "cancelled".
func TestQRScanCodeFromMiniProgram(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	b := newBrowser(t, w.p.URL)
	b.open("/app/" + f.ID + "/")
	b.waitIn(f.ID, `window.openmini`)
	const text = "hello 你好 https://example.org/x"
	file := textFile(t, "hello.png", text)

	b.in(f.ID, `(window.__scan = openmini.ready.then(() => openmini.scanCode({})).then((r) => r, (e) => ({code: e.code})), true)`, nil)
	b.waitTop(`document.querySelector('.om-scan-layer input[type=file]')`)
	var heading string
	b.top(`document.querySelector('.om-scan-layer h2').textContent`, &heading)
	if !strings.Contains(heading, "Noodle Bar") {
		t.Fatalf("the scan sheet says %q", heading)
	}
	b.run(chromedp.SetUploadFiles(`.om-scan-layer input[type=file]`, []string{file}, chromedp.ByQuery))
	var res map[string]any
	b.in(f.ID, `window.__scan`, &res)
	if res["result"] != text || res["scanType"] != "QR_CODE" {
		t.Fatalf("scanCode answered %v", res)
	}
	var after struct {
		Layers int
		Apps   []string
	}
	b.top(`({layers: document.querySelectorAll('.om-scan-layer').length, apps: OpenMiniHost.alive()})`, &after)
	if after.Layers != 0 || len(after.Apps) != 1 {
		t.Fatalf("after scanCode: %+v", after)
	}

	b.in(f.ID, `(window.__scan = openmini.scanCode({}).then((r) => r, (e) => ({code: e.code})), true)`, nil)
	b.waitTop(`document.querySelector('.om-scan-layer .om-scan-cancel')`)
	b.top(`document.querySelector('.om-scan-layer .om-scan-cancel').click()`, nil)
	b.in(f.ID, `window.__scan`, &res)
	if res["code"] != "cancelled" {
		t.Fatalf("cancelled scanCode answered %v", res)
	}
}

// TestQRScanCodeBeforeTheScannerLoads holds back the scanner's extension
// script, which a cold launch loads after the app's page, while the app
// calls openmini.scanCode: the call waits for the scanner instead of
// answering "unsupported", and scans once the script arrives.
func TestQRScanCodeBeforeTheScannerLoads(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	b := newBrowser(t, w.p.URL)
	held := make(chan cdpfetch.RequestID, 1)
	chromedp.ListenTarget(b.ctx, func(ev any) {
		if e, ok := ev.(*cdpfetch.EventRequestPaused); ok {
			held <- e.RequestID
		}
	})
	b.run(cdpfetch.Enable().WithPatterns([]*cdpfetch.RequestPattern{{URLPattern: "*host-scanner*"}}))
	// Navigate without waiting for the load event, which the held script
	// delays.
	b.run(chromedp.ActionFunc(func(ctx context.Context) error {
		_, _, _, _, err := cdppage.Navigate(w.p.URL + "/app/" + f.ID + "/").Do(ctx)
		return err
	}))
	b.waitIn(f.ID, `window.openmini`)
	var scanner cdpfetch.RequestID
	select {
	case scanner = <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("the host never asked for its scanner script")
	}

	b.in(f.ID, `(openmini.ready.then(() => openmini.scanCode({})).then((r) => (window.__scan = r), (e) => (window.__scan = {code: e.code})), true)`, nil)
	// The host answers calls in order: once a later call is answered, it
	// has taken the scanCode call, which must still be waiting.
	var pending bool
	b.in(f.ID, `openmini.ready.then(() => openmini.getLaunchOptions()).then(() => window.__scan === undefined)`, &pending)
	if !pending {
		var res map[string]any
		b.in(f.ID, `window.__scan`, &res)
		t.Fatalf("scanCode answered before the scanner loaded: %v", res)
	}

	b.run(cdpfetch.ContinueRequest(scanner))
	b.waitTop(`document.querySelector('.om-scan-layer input[type=file]')`)
	const text = "table 7"
	b.run(chromedp.SetUploadFiles(`.om-scan-layer input[type=file]`, []string{textFile(t, "table.png", text)}, chromedp.ByQuery))
	b.waitIn(f.ID, `window.__scan`)
	var res map[string]any
	b.in(f.ID, `window.__scan`, &res)
	if res["result"] != text {
		t.Fatalf("scanCode answered %v", res)
	}
}

// TestQRSVGInBrowser rasterises the SVG endpoints in Chromium and reads
// the screenshots with both decoders.
func TestQRSVGInBrowser(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	c := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, Page: "pages/second", Query: map[string]string{"table": "3"}})
	b := newBrowser(t, w.p.URL)
	for _, path := range []string{"/s/" + c.Slug + ".svg?size=300", "/s/" + c.Slug + ".svg?size=300&level=H&icon=1"} {
		var shot []byte
		b.run(chromedp.Navigate(w.p.URL+path), chromedp.WaitReady("svg", chromedp.ByQuery), chromedp.CaptureScreenshot(&shot))
		if got := readPNG(t, shot); got != c.ShortURL {
			t.Fatalf("%s reads %q, want %q", path, got, c.ShortURL)
		}
	}
}

// mustPNGOfBlank is a white picture with no code in it.
func mustPNGOfBlank(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
