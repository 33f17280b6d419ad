package main

import (
	"archive/zip"
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/openmini/openmini/internal/testenv"
)

// readCode decodes the QR code of a PNG file with gozxing and zbarimg,
// which must agree.
func readCode(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", file, err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("gozxing cannot read %s: %v", file, err)
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		testenv.Missing(t, "zbarimg: install Debian's zbar-tools")
	}
	out, err := exec.Command(zbar, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", file).Output()
	if err != nil || strings.TrimSpace(string(out)) != res.GetText() {
		t.Fatalf("zbarimg reads %q (%v), gozxing %q", out, err, res.GetText())
	}
	return res.GetText()
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestCLIQRCodes runs every `openmini qr` command against a running
// platform: a code for table 12 is created, its image downloaded and
// decoded to a short link that leads to the page with its parameters,
// listed with its scan, its statistics shown, turned off and on; the 200
// tables of store 88 become a printable PDF kit and a ZIP.
func TestCLIQRCodes(t *testing.T) {
	w := newCLIWorld(t)
	w.cli(t, "login", "--server", w.p.URL, "--token", w.key(t, "shop printer"))
	dir := t.TempDir()

	out := w.cli(t, "qr", "create", "--app", w.appID, "--page", "pages/cart", "--query", "table=12", "--query", "store=88",
		"--label", "Table 12", "--expires", "30d")
	m := regexp.MustCompile(`Created QR code (\d+): (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[2], w.p.URL+"/s/") {
		t.Fatalf("qr create:\n%s", out)
	}
	id, short := m[1], m[2]

	pngFile := filepath.Join(dir, "code.png")
	if out := w.cli(t, "qr", "image", id, "-o", pngFile, "--size", "300", "--level", "H"); !strings.Contains(out, "Wrote "+pngFile) {
		t.Fatalf("qr image:\n%s", out)
	}
	if got := readCode(t, pngFile); got != short {
		t.Fatalf("the downloaded PNG reads %q, want %q", got, short)
	}
	svgFile := filepath.Join(dir, "code.svg")
	w.cli(t, "qr", "image", id, "-o", svgFile)
	if b, _ := os.ReadFile(svgFile); !bytes.Contains(b, []byte("<svg")) {
		t.Fatalf("qr image -o .svg wrote %.80q", b)
	}

	resp, err := noRedirects.Get(short)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Path != "/app/"+w.appID+"/pages/cart" || loc.Query().Get("table") != "12" || loc.Query().Get("store") != "88" {
		t.Fatalf("the short link answers %d, %s", resp.StatusCode, loc)
	}

	out = w.cli(t, "qr", "list", "--app", w.appID)
	if !regexp.MustCompile(`(?m)^` + id + `\s+` + regexp.QuoteMeta(short) + `\s+Table 12\s+active\s+1\s+1\s+0\s+0\s*$`).MatchString(out) {
		t.Fatalf("qr list:\n%s", out)
	}
	if out := w.cli(t, "qr", "stats", id); !strings.Contains(out, "Scans: 1\nUnique users: 1\nLaunches: 0\nPayments: 0") {
		t.Fatalf("qr stats:\n%s", out)
	}

	if out := w.cli(t, "qr", "disable", id); !strings.Contains(out, "is off") {
		t.Fatalf("qr disable:\n%s", out)
	}
	if resp, err := noRedirects.Get(short); err != nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("a disabled code's link: %v %v", resp, err)
	}
	if out := w.cli(t, "qr", "enable", id); !strings.Contains(out, "is active") {
		t.Fatalf("qr enable:\n%s", out)
	}

	// The example: tables 1 to 200 of store 88, as a PDF kit.
	kit := filepath.Join(dir, "kit.pdf")
	out = w.cli(t, "qr", "batch", "--app", w.appID, "--param", "table", "--from", "1", "--to", "200", "--label", "Table {n}", "--store", "88", "-o", kit)
	if !strings.Contains(out, "200 codes (1 to 200)") || !strings.Contains(out, "Wrote "+kit) {
		t.Fatalf("qr batch:\n%s", out)
	}
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		testenv.Missing(t, "pdfinfo: install Debian's poppler-utils")
	}
	info, err := exec.Command("pdfinfo", kit).Output()
	if err != nil || !regexp.MustCompile(`Pages:\s+50\n`).Match(info) {
		t.Fatalf("pdfinfo (4 codes a page): %v\n%s", err, info)
	}
	text, _ := exec.Command("pdftotext", kit, "-").Output()
	if !strings.Contains(string(text), "Table 200") || strings.Count(string(text), "Store 88") != 200 {
		t.Fatalf("the kit's captions:\n%.500s", text)
	}
	zipFile := filepath.Join(dir, "kit.zip")
	w.cli(t, "qr", "batch", "--app", w.appID, "--param", "seat", "--from", "1", "--to", "3", "--label", "Seat {n}", "-o", zipFile)
	zr, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if len(names) != 4 || names[3] != "codes.csv" || !strings.HasSuffix(names[0], "Seat 1.png") {
		t.Fatalf("the ZIP holds %v", names)
	}

	// Mistakes are named, and nothing is half-done.
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"qr", "create"}, 2, "--app is required"},
		{[]string{"qr", "create", "--app", w.appID, "--query", "nothing"}, 2, `"nothing" is not name=value`},
		{[]string{"qr", "create", "--app", w.appID, "--expires", "soon"}, 2, "--expires"},
		{[]string{"qr", "create", "--app", w.appID, "--page", "../etc"}, 1, "page path"},
		{[]string{"qr", "image", id, "-o", "code.gif"}, 2, ".png or .svg"},
		{[]string{"qr", "stats", "999999"}, 1, "not found"},
		{[]string{"qr", "batch", "--app", w.appID, "--param", "table", "--from", "1", "--to", "2000"}, 1, "at most 1000"},
		{[]string{"qr", "launch"}, 2, "unknown command"},
	} {
		code, out, errOut := runCmd(t, w.env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("openmini %s: exit %d, stderr %q (stdout %q); want exit %d naming %q", strings.Join(c.args, " "), code, errOut, out, c.code, c.want)
		}
	}
	if out := w.cli(t, "qr", "help"); !strings.Contains(out, "batch") || !strings.Contains(out, "image") {
		t.Fatalf("qr help:\n%s", out)
	}
}
