package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/qr"
	"github.com/openmini/openmini/web"
)

// TestQRCodeScanLeadsToThePage follows a code the way a phone does: the
// API creates it, its PNG decodes (gozxing and zbarimg) to the short
// link, the short link redirects to the launch link, and the host starts
// the mini program on the right page with the right parameters (and
// without the host's own ones). The scan and the launch are counted.
func TestQRCodeScanLeadsToThePage(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	phone := w.p.Client()

	c := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, Page: "pages/second", Query: map[string]string{"table": "12", "store": "88 北京 & co"},
		Label: "Table 12", Sublabel: "Store 88"})
	if c.Status != qr.StatusActive || c.ShortURL != w.p.URL+"/s/"+c.Slug || c.OrgID != w.orgID || c.AppID != f.ID {
		t.Fatalf("created code: %+v", c)
	}

	for _, size := range []int{128, 300, 1024} {
		for _, level := range []string{"L", "H"} {
			code, h, png := getBytes(t, w.dev, fmt.Sprintf("/api/v1/qr/codes/%d.png?size=%d&level=%s", c.ID, size, level))
			if code != 200 || h.Get("Content-Type") != "image/png" {
				t.Fatalf("PNG %d %s: status %d %s", size, level, code, png)
			}
			if got := readPNG(t, png); got != c.ShortURL {
				t.Fatalf("PNG %d %s reads %q, want %q", size, level, got, c.ShortURL)
			}
		}
	}
	// The app's icon in the centre still reads.
	code, _, png := getBytes(t, w.dev, fmt.Sprintf("/api/v1/qr/codes/%d.png?size=512&icon=1", c.ID))
	if code != 200 || readPNG(t, png) != c.ShortURL {
		t.Fatalf("PNG with the icon: %d", code)
	}

	loc := follow(t, w.p, phone, c.ShortURL)
	q := loc.Query()
	if loc.Path != "/app/"+f.ID+"/pages/second" || q.Get("table") != "12" || q.Get("store") != "88 北京 & co" || q.Get("om_scene") != "qr" || q.Get("om_qr") != c.Slug {
		t.Fatalf("the short link leads to %s", loc)
	}
	l := hostLaunch(t, w.p, phone, loc.String())
	query, _ := l["query"].(map[string]any)
	if l["appId"] != f.ID || l["path"] != "pages/second" || l["scene"] != "qr" || len(query) != 2 || query["table"] != "12" || query["store"] != "88 北京 & co" {
		t.Fatalf("the host launches %v", l)
	}

	var st qr.Stats
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes/%d/stats", c.ID), nil, &st)
	if st.Scans != 1 || st.UniqueUsers != 1 || st.Launches != 1 || len(st.Days) != 1 || st.Days[0].Day != time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("stats after one scan and launch: %+v", st)
	}
	// A second phone is a second user; the same phone again is not.
	follow(t, w.p, phone, c.ShortURL)
	other := w.p.Client()
	hostLaunch(t, w.p, other, follow(t, w.p, other, c.ShortURL).String())
	var as qr.AppStats
	w.dev.Must(t, 200, "GET", "/api/v1/apps/"+f.ID+"/qr/stats", nil, &as)
	if as.Total.Scans != 3 || as.Total.UniqueUsers != 2 || as.Total.Launches != 2 || len(as.Codes) != 1 || as.Codes[0].Slug != c.Slug {
		t.Fatalf("app stats: %+v", as)
	}
	// A launch link naming a code of another app counts nothing.
	hostLaunch(t, w.p, phone, "/app/"+f.ID+"/?om_qr=AAAAAAAA")
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes/%d/stats", c.ID), nil, &st)
	if st.Launches != 2 {
		t.Fatalf("launches after a launch with an unknown om_qr: %d", st.Launches)
	}

	// The public image of the code, for the directory: cacheable by content.
	code, h, png := fetch(t, w.p, phone, "/s/"+c.Slug+".png?size=256")
	if code != 200 || !strings.Contains(h.Get("Cache-Control"), "public") || h.Get("ETag") == "" || readPNG(t, png) != c.ShortURL {
		t.Fatalf("public PNG: %d %v", code, h)
	}
	if code, _, _ := fetch(t, w.p, phone, "/s/"+c.Slug+".png?size=256", "If-None-Match", h.Get("ETag")); code != http.StatusNotModified {
		t.Fatalf("public PNG with its ETag: status %d, want 304", code)
	}
	code, h, svg := fetch(t, w.p, phone, "/s/"+c.Slug+".svg")
	if code != 200 || h.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(bytes.TrimSpace(svg), []byte("<svg")) && !bytes.Contains(svg[:100], []byte("<svg")) {
		t.Fatalf("public SVG: %d %v %.100s", code, h, svg)
	}
	for path, want := range map[string]int{"/s/" + c.Slug + ".gif": 404, "/s/AAAAAAAA.png": 404, fmt.Sprintf("/api/v1/qr/codes/%d.png?size=99999", c.ID): 400,
		fmt.Sprintf("/api/v1/qr/codes/%d.png?level=X", c.ID): 400} {
		api := w.dev
		if code, _, body := getBytes(t, api, path); code != want {
			t.Errorf("GET %s: status %d, want %d: %s", path, code, want, body)
		}
	}
}

// TestQRCodesThatLeadNowhere: a disabled, an expired and an unknown code
// each show a friendly host page saying what happened, in English and
// Chinese, and count no scan; pointing a code elsewhere keeps its link.
func TestQRCodesThatLeadNowhere(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	phone := w.p.Client()
	c := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, Page: "pages/second", Query: map[string]string{"table": "1"}})

	// Re-pointed: the same short link now leads to another page.
	var upd web.QRCode
	w.dev.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{
		"target": qr.Target{Kind: qr.KindPage, AppID: f.ID, Page: "pages/third", Query: map[string]string{"table": "2"}}}, &upd)
	if upd.Slug != c.Slug {
		t.Fatalf("re-pointing changed the slug: %+v", upd)
	}
	if loc := follow(t, w.p, phone, c.ShortURL); loc.Path != "/app/"+f.ID+"/pages/third" || loc.Query().Get("table") != "2" {
		t.Fatalf("re-pointed code leads to %s", loc)
	}

	w.dev.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{"disabled": true}, &upd)
	if upd.Status != qr.StatusDisabled {
		t.Fatalf("disabled: %+v", upd)
	}
	code, _, body := fetch(t, w.p, phone, c.ShortURL)
	mustContain(t, "disabled code", string(body), "This QR code has been turned off by its owner.", "It belongs to Noodle Bar.", `id="om-problem"`)
	if code != http.StatusGone {
		t.Fatalf("disabled code: status %d", code)
	}
	_, _, body = fetch(t, w.p, phone, c.ShortURL, "Accept-Language", "zh-CN,zh;q=0.9")
	mustContain(t, "disabled code in Chinese", string(body), "此二维码已被所有者停用。", "它属于「Noodle Bar」。")

	// Expired: a code made to expire, then the clock moved past it.
	exp := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, ExpiresAt: time.Now().Add(1500 * time.Millisecond)})
	time.Sleep(1600 * time.Millisecond)
	code, _, body = fetch(t, w.p, phone, exp.ShortURL)
	if code != http.StatusGone || !strings.Contains(string(body), "This QR code has expired.") {
		t.Fatalf("expired code: %d\n%s", code, body)
	}
	code, _, body = fetch(t, w.p, phone, "/s/Zz9Zz9Zz")
	if code != http.StatusNotFound || !strings.Contains(string(body), "This QR code is not known here.") {
		t.Fatalf("unknown code: %d\n%s", code, body)
	}
	_, _, body = fetch(t, w.p, phone, "/s/Zz9Zz9Zz?lang=zh-Hans")
	mustContain(t, "unknown code in Chinese", string(body), "无法识别此二维码")

	var st qr.Stats
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes/%d/stats", c.ID), nil, &st)
	if st.Scans != 1 {
		t.Fatalf("scans of a code scanned once while on and once while off: %d", st.Scans)
	}
	// An expiry can be set and removed again.
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	w.dev.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{"expires_at": until}, &upd)
	if !upd.ExpiresAt.Equal(until) {
		t.Fatalf("expires_at set to %v, want %v", upd.ExpiresAt, until)
	}
	var perm web.QRCode
	w.dev.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{"permanent": true}, &perm)
	if !perm.ExpiresAt.IsZero() || perm.ID != c.ID {
		t.Fatalf("permanent: expires_at %v", perm.ExpiresAt)
	}
	// Turned on again, it leads to the mini program again.
	w.dev.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{"disabled": false}, &upd)
	follow(t, w.p, phone, c.ShortURL)
}

// TestQRTargetsBeyondPages: addressing URIs, launch links drawn without a
// stored code, collection and order codes, trial codes.
func TestQRTargetsBeyondPages(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	phone := w.p.Client()

	// A W3C MiniApp Addressing URI opens the same launch as its link.
	uri := "openmini://miniapp/" + f.ID + "/pages/third?table=5&note=a%20b#frag"
	loc := follow(t, w.p, phone, "/open?uri="+url.QueryEscape(uri))
	if loc.Path != "/app/"+f.ID+"/pages/third" || loc.Query().Get("table") != "5" || loc.Query().Get("note") != "a b" {
		t.Fatalf("addressing URI leads to %s", loc)
	}
	l := hostLaunch(t, w.p, phone, loc.String())
	if l["path"] != "pages/third" || l["query"].(map[string]any)["table"] != "5" {
		t.Fatalf("addressing URI launches %v", l)
	}
	code, _, body := fetch(t, w.p, phone, "/open?uri="+url.QueryEscape("openmini://miniapp/Bad_ID/x"))
	if code != 400 || !strings.Contains(string(body), "This mini program link cannot be opened.") {
		t.Fatalf("bad addressing URI: %d\n%s", code, body)
	}

	// A page code that is not stored encodes the launch link itself.
	code, _, png := getBytes(t, w.dev, "/api/v1/apps/"+f.ID+"/qr.png?page=pages/second&query="+url.QueryEscape("table=7&store=88")+"&size=256")
	if code != 200 {
		t.Fatalf("app page code: %d %s", code, png)
	}
	link := readPNG(t, png)
	u, _ := url.Parse(link)
	if !strings.HasPrefix(link, w.p.URL+"/app/"+f.ID+"/pages/second?") || u.Query().Get("table") != "7" || u.Query().Get("om_scene") != "qr" {
		t.Fatalf("app page code reads %q", link)
	}
	l = hostLaunch(t, w.p, phone, link)
	if q := l["query"].(map[string]any); l["path"] != "pages/second" || q["table"] != "7" || q["store"] != "88" || l["scene"] != "qr" || len(q) != 2 {
		t.Fatalf("app page code launches %v", l)
	}
	if code, _, _ := getBytes(t, w.dev, "/api/v1/apps/"+f.ID+"/qr.svg?page=../x"); code != 400 {
		t.Fatalf("app page code for a bad page: %d", code)
	}

	// Collection and order codes lead to the payment pages; until payments
	// are mounted they say so, in a friendly page.
	col := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, Kind: qr.KindCollect, MerchantID: "m_88", Label: "Counter 1"})
	loc = follow(t, w.p, phone, col.ShortURL)
	if loc.Path != "/pay/merchant/m_88" || loc.Query().Get("om_qr") != col.Slug {
		t.Fatalf("collection code leads to %s", loc)
	}
	if code, _, body := fetch(t, w.p, phone, loc.String()); code == 503 && !strings.Contains(string(body), "Payments are not available") {
		t.Fatalf("payment placeholder: %d\n%s", code, body)
	}
	ord := qrCreate(t, w.dev, web.QRCodeRequest{OrgID: w.orgID, OrderID: "o-1"})
	if loc := follow(t, w.p, phone, ord.ShortURL); loc.Path != "/pay/order/o-1" {
		t.Fatalf("order code leads to %s", loc)
	}

	// A trial code asks the host for the trial version.
	tr := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID, Kind: qr.KindTrial, Page: "pages/second"})
	if loc := follow(t, w.p, phone, tr.ShortURL); loc.Query().Get("trial") != "1" || loc.Path != "/app/"+f.ID+"/pages/second" {
		t.Fatalf("trial code leads to %s", loc)
	}

	// Bad requests name the problem.
	var eb platformtest.ErrorBody
	for _, c := range []struct {
		req  web.QRCodeRequest
		want string
	}{
		{web.QRCodeRequest{AppID: f.ID, Page: "../etc"}, "page path"},
		{web.QRCodeRequest{AppID: f.ID, Query: map[string]string{"": "x"}}, "empty name"},
		{web.QRCodeRequest{AppID: f.ID, Label: strings.Repeat("x", 101)}, "label"},
		{web.QRCodeRequest{AppID: f.ID, ExpiresAt: time.Now().Add(-time.Hour)}, "not in the future"},
		{web.QRCodeRequest{OrderID: "o-2"}, "org_id"},
	} {
		if code := w.dev.Do(t, "POST", "/api/v1/qr/codes", c.req, &eb); code != 400 || !strings.Contains(eb.Error.Message, c.want) {
			t.Errorf("create %+v: %d %q, want 400 naming %q", c.req, code, eb.Error.Message, c.want)
		}
	}
}

// TestQRBatchKit creates tables 1 to 12 of store 88 in one call and reads
// the printable PDF (pdftotext for the captions, pdftoppm then zbarimg for
// every code) and the ZIP (every PNG decoded and followed).
func TestQRBatchKit(t *testing.T) {
	for _, tool := range []string{"pdftoppm", "pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s: install Debian's poppler-utils", tool)
		}
	}
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	phone := w.p.Client()
	var b web.QRBatch
	w.dev.Must(t, 201, "POST", "/api/v1/qr/batches", web.QRBatchRequest{AppID: f.ID, Page: "pages/second", Query: map[string]string{"store": "88"},
		Param: "table", From: 1, To: 12, LabelTemplate: "Table {n} · {n}号桌", Sublabel: "Store 88 · 八十八号店"}, &b)
	if len(b.Codes) != 12 || b.Batch.From != 1 || b.Batch.To != 12 || b.Codes[6].Label != "Table 7 · 7号桌" || !strings.HasSuffix(b.PDFURL, "/kit.pdf") {
		t.Fatalf("batch: %+v", b.Batch)
	}
	short := map[string]int{}
	for i, c := range b.Codes {
		short[c.ShortURL] = i + 1
	}

	code, h, pdf := getBytes(t, w.dev, strings.TrimPrefix(b.PDFURL, w.p.URL)+"?per_page=4")
	if code != 200 || h.Get("Content-Type") != "application/pdf" || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("PDF kit: %d %v %.200s", code, h, pdf)
	}
	dir := t.TempDir()
	kit := filepath.Join(dir, "kit.pdf")
	os.WriteFile(kit, pdf, 0o644)
	info, err := exec.Command("pdfinfo", kit).Output()
	if err != nil || !regexp.MustCompile(`Pages:\s+3\n`).Match(info) || !strings.Contains(string(info), "Title:           Table 1–12 · 1–12号桌") {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	text, err := exec.Command("pdftotext", kit, "-").Output()
	if err != nil || !strings.Contains(string(text), "Table 7 · 7号桌") || !strings.Contains(string(text), "八十八号店") {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	// Each page is rasterised, cut into its 2×2 cells (A4 less a 28 pt
	// margin), and every cell read by both decoders, in print order.
	const dpi, a4W, a4H, margin = 100, 595.276, 841.89, 28.0
	if out, err := exec.Command("pdftoppm", "-r", fmt.Sprint(dpi), "-gray", "-png", kit, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	sort.Strings(pages)
	if len(pages) != 3 {
		t.Fatalf("%d pages rasterised, want 3", len(pages))
	}
	px := func(pt float64) int { return int(pt * dpi / 72) }
	cellW, cellH := (a4W-2*margin)/2, (a4H-2*margin)/2
	for p, pg := range pages {
		raw, _ := os.ReadFile(pg)
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 4; k++ {
			cell := image.NewGray(image.Rect(0, 0, px(cellW), px(cellH)))
			draw.Draw(cell, cell.Bounds(), img, image.Pt(px(margin+float64(k%2)*cellW), px(margin+float64(k/2)*cellH)), draw.Src)
			var buf bytes.Buffer
			png.Encode(&buf, cell)
			if got, want := readPNG(t, buf.Bytes()), b.Codes[p*4+k].ShortURL; got != want {
				t.Fatalf("printed code %d reads %q, want %q", p*4+k+1, got, want)
			}
		}
	}

	code, h, zb := getBytes(t, w.dev, strings.TrimPrefix(b.ZIPURL, w.p.URL)+"?size=256")
	if code != 200 || h.Get("Content-Type") != "application/zip" {
		t.Fatalf("ZIP: %d %v", code, h)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	images := 0
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if zf.Name == "codes.csv" {
			rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil || len(rows) != 13 {
				t.Fatalf("codes.csv: %v, %d rows", err, len(rows))
			}
			continue
		}
		images++
		got := readPNG(t, data)
		n := short[got]
		if n == 0 {
			t.Fatalf("%s reads %q, not one of the batch", zf.Name, got)
		}
		if images == 3 { // follow one all the way
			loc := follow(t, w.p, phone, got)
			if loc.Query().Get("table") != fmt.Sprint(n) || loc.Query().Get("store") != "88" {
				t.Fatalf("%s leads to %s, want table %d of store 88", zf.Name, loc, n)
			}
		}
	}
	if images != 12 {
		t.Fatalf("%d images in the ZIP, want 12", images)
	}

	var list web.QRCodeList
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes?app_id=%s&batch_id=%d&limit=5", f.ID, b.Batch.ID), nil, &list)
	if len(list.Codes) != 5 || list.NextAfter != list.Codes[4].ID {
		t.Fatalf("list page: %d codes, next %d", len(list.Codes), list.NextAfter)
	}
	var rest web.QRCodeList
	w.dev.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes?app_id=%s&batch_id=%d&after=%d", f.ID, b.Batch.ID, list.NextAfter), nil, &rest)
	if len(rest.Codes) != 7 || rest.NextAfter != 0 || rest.Codes[0].ID != list.NextAfter+1 {
		t.Fatalf("second list page: %d codes, next %d", len(rest.Codes), rest.NextAfter)
	}

	// Too many, or a bad number in the template, creates nothing.
	var eb platformtest.ErrorBody
	if code := w.dev.Do(t, "POST", "/api/v1/qr/batches", web.QRBatchRequest{AppID: f.ID, Param: "table", From: 1, To: 1001}, &eb); code != 413 {
		t.Fatalf("batch of 1001: %d %+v", code, eb)
	}
	var all web.QRCodeList
	w.dev.Must(t, 200, "GET", "/api/v1/qr/codes?app_id="+f.ID+"&limit=1000", nil, &all)
	if len(all.Codes) != 12 {
		t.Fatalf("%d codes after refused batches, want 12", len(all.Codes))
	}
}

// TestQRAccess: codes are the organisation's; another developer sees
// none of them, and an API key limited to one app sees only its codes.
func TestQRAccess(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	g := w.publish(t, "friendly", "Tea House", nil, nil)
	c := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID})
	d := qrCreate(t, w.dev, web.QRCodeRequest{AppID: g.ID})

	stranger := w.p.API(w.p.Client())
	stranger.Must(t, 201, "POST", "/api/v1/signup", web.SignupRequest{Email: "eve@other.example", Name: "Eve", Password: "stranger-password-1", OrgName: "Other Ltd"}, nil)
	for _, path := range []string{fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), fmt.Sprintf("/api/v1/qr/codes/%d.png", c.ID), fmt.Sprintf("/api/v1/qr/codes/%d/stats", c.ID)} {
		if code := stranger.Do(t, "GET", path, nil, nil); code != 404 {
			t.Errorf("a stranger GET %s: %d, want 404", path, code)
		}
	}
	if code := stranger.Do(t, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), map[string]any{"disabled": true}, nil); code != 404 {
		t.Errorf("a stranger disabling: %d", code)
	}
	if code := stranger.Do(t, "POST", "/api/v1/qr/codes", web.QRCodeRequest{AppID: f.ID}, nil); code != 404 {
		t.Errorf("a stranger creating a code for the app: %d", code)
	}

	var k web.APIKeyCreated
	w.dev.Must(t, 201, "POST", fmt.Sprintf("/api/v1/orgs/%d/api-keys", w.orgID), web.APIKeyRequest{Name: "till", AppID: f.ID}, &k)
	key := w.p.KeyAPI(k.Token)
	key.Must(t, 200, "GET", fmt.Sprintf("/api/v1/qr/codes/%d", c.ID), nil, nil)
	if code := key.Do(t, "GET", fmt.Sprintf("/api/v1/qr/codes/%d", d.ID), nil, nil); code != 403 {
		t.Errorf("a key limited to %s reading a code of %s: %d, want 403", f.ID, g.ID, code)
	}
	if code := key.Do(t, "POST", "/api/v1/qr/codes", web.QRCodeRequest{OrderID: "o-9"}, nil); code != 403 {
		t.Errorf("a key limited to one app creating an order code of the organisation: %d", code)
	}
	key.Must(t, 201, "POST", "/api/v1/qr/codes", web.QRCodeRequest{AppID: f.ID, Label: "by key"}, nil)
}

// TestQRScanLimitsAndDecoder: short links are rate limited per client
// address with a friendly page and Retry-After; the scanner's decoder
// answers what is wrong with an upload.
func TestQRScanLimitsAndDecoder(t *testing.T) {
	w := newHostWorld(t)
	f := w.publish(t, "friendly", "Noodle Bar", nil, nil)
	c := qrCreate(t, w.dev, web.QRCodeRequest{AppID: f.ID})
	phone := w.p.Client()

	post := func(path, ct string, body []byte) (int, string) {
		req, _ := http.NewRequest("POST", w.p.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Origin", w.p.URL)
		resp, err := phone.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, _, png := getBytes(t, w.dev, fmt.Sprintf("/api/v1/qr/codes/%d.png", c.ID))
	if code, body := post("/host/api/scan", "image/png", png); code != 200 || !strings.Contains(body, `"result":"`+c.ShortURL+`"`) {
		t.Fatalf("decoding a code: %d %s", code, body)
	}
	if code, body := post("/host/api/scan", "image/png", []byte("not an image")); code != 400 || !strings.Contains(body, "not a PNG, JPEG or GIF") {
		t.Fatalf("decoding text: %d %s", code, body)
	}
	if code, body := post("/host/api/scan", "image/png", make([]byte, qr.MaxFrameBytes+10)); code != 413 {
		t.Fatalf("decoding 8 MB of zeros: %d %s", code, body)
	}
	if code, body := post("/host/api/scan/open", "application/json", []byte(`{"text":"javascript:alert(1)"}`)); code != 200 ||
		!strings.Contains(body, `"class":"elsewhere"`) || strings.Contains(body, `"link":true`) || strings.Contains(body, `"open"`) {
		t.Fatalf("classifying a javascript: URL: %d %s", code, body)
	}
	if code, body := post("/host/api/scan/open", "application/json", []byte(`{"text":"`+c.ShortURL+`"}`)); code != 200 ||
		!strings.Contains(body, `"open":{"appId":"`+f.ID+`"`) || !strings.Contains(body, `"om_qr":"`+c.Slug+`"`) {
		t.Fatalf("classifying our short link: %d %s", code, body)
	}

	// 300 scans a minute from one address pass; the next is refused kindly.
	var last int
	var h http.Header
	var body []byte
	for i := 0; i < 301; i++ {
		last, h, body = fetch(t, w.p, phone, "/s/"+c.Slug)
		if i < 300 && last != http.StatusFound {
			t.Fatalf("scan %d: status %d", i+1, last)
		}
	}
	if last != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(string(body), "Too many scans from your network") {
		t.Fatalf("scan 301 from one address: %d %v\n%s", last, h, body)
	}
}
