package web_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/internal/qrtest"
	"github.com/openmini/openmini/web"
)

// The QR tests read every image the platform serves with two independent
// decoders (internal/qrtest: gozxing and Debian's zbarimg) and follow what
// they read.

// readPNG decodes a PNG of one QR code with both decoders, which must
// agree, and returns the text.
func readPNG(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	text := qrtest.Gozxing(t, img)
	file := filepath.Join(t.TempDir(), "code.png")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if z := qrtest.Zbar(t, file); len(z) != 1 || z[0] != text {
		t.Fatalf("zbarimg reads %q, gozxing %q", z, text)
	}
	return text
}

// fetch GETs path with c and returns status, headers and body.
func fetch(t *testing.T, p *platformtest.Running, c *http.Client, path string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = p.URL + path
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// follow GETs a scanned URL without following redirects and returns
// where it redirects (status 302 expected).
func follow(t *testing.T, p *platformtest.Running, c *http.Client, scanned string) *url.URL {
	t.Helper()
	code, h, body := fetch(t, p, c, scanned)
	if code != http.StatusFound {
		t.Fatalf("GET %s: status %d, want 302\n%s", scanned, code, body)
	}
	loc, err := url.Parse(h.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// hostLaunch opens a launch link in the host (as a browser's first load)
// and returns the launch the shell starts: app, page and query.
func hostLaunch(t *testing.T, p *platformtest.Running, c *http.Client, link string) map[string]any {
	t.Helper()
	code, _, body := fetch(t, p, c, link)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", link, code, body)
	}
	const open = `<script type="application/json" id="om-launch">`
	_, rest, ok := strings.Cut(string(body), open)
	if !ok {
		t.Fatalf("GET %s: the host page starts no mini program\n%s", link, body)
	}
	raw, _, _ := strings.Cut(rest, "</script>")
	var l map[string]any
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		t.Fatalf("launch JSON: %v\n%s", err, raw)
	}
	return l
}

// qrCreate creates a code through the API.
func qrCreate(t *testing.T, api *platformtest.API, req web.QRCodeRequest) web.QRCode {
	t.Helper()
	var c web.QRCode
	api.Must(t, 201, "POST", "/api/v1/qr/codes", req, &c)
	return c
}

// getBytes fetches path with an API client's session or key.
func getBytes(t *testing.T, api *platformtest.API, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", api.R.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if api.Token != "" {
		req.Header.Set("Authorization", "Bearer "+api.Token)
	}
	resp, err := api.C.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
