package qr

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/qrtest"
	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// storeKit creates tables 1..n of store 88 with Chinese captions.
func storeKit(t *testing.T, f *fixture, n int) []*Code {
	t.Helper()
	_, codes, err := f.svc.CreateBatch(context.Background(), BatchTemplate{
		OrgID:  f.org,
		Target: Target{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"store": "88"}},
		Param:  "table", From: 1, To: n, LabelTemplate: "Table {n} · {n}号桌", Sublabel: "Store 88 · 八十八号店",
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestZIP downloads a batch as a ZIP of PNGs: every image decodes to its
// code's short link, names carry the label, and codes.csv lists them.
func TestZIP(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		codes := storeKit(t, f, 12)
		var buf bytes.Buffer
		if err := f.svc.WriteZIP(context.Background(), &buf, codes, RenderOptions{Size: 256}); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if len(zr.File) != 13 {
			t.Fatalf("%d files, want 12 images and codes.csv", len(zr.File))
		}
		dir := t.TempDir()
		var files, want []string
		for i, zf := range zr.File[:12] {
			wantName := "0" + pad2(i+1) + " Table " + strconv.Itoa(i+1) + " _ " + strconv.Itoa(i+1) + "号桌.png"
			if zf.Name != wantName {
				t.Errorf("file %d is %q, want %q", i, zf.Name, wantName)
			}
			b := readZip(t, zf)
			if got := qrtest.Gozxing(t, decodePNG(t, b)); got != f.svc.ShortURL(codes[i]) {
				t.Errorf("%s: gozxing read %q, want %q", zf.Name, got, f.svc.ShortURL(codes[i]))
			}
			files = append(files, writeFile(t, dir, strconv.Itoa(i)+".png", b))
			want = append(want, f.svc.ShortURL(codes[i]))
		}
		sort.Strings(want)
		if got := qrtest.Zbar(t, files...); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("zbarimg read %v, want %v", got, want)
		}
		rows, err := csv.NewReader(bytes.NewReader(readZip(t, zr.File[12]))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 13 || rows[12][4] != codes[11].Slug || rows[12][6] != "https://mini.example.com/app/menu/pages/order?store=88&table=12" {
			t.Errorf("codes.csv: %v", rows[len(rows)-1])
		}
		if err := f.svc.WriteZIP(context.Background(), io.Discard, nil, RenderOptions{}); openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("empty zip: %v", err)
		}
	})
}

func pad2(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 2 {
		s = "0" + s
	}
	return s
}

func readZip(t *testing.T, zf *zip.File) []byte {
	t.Helper()
	rc, err := zf.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func popplerTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, "%s: install Debian's poppler-utils", name)
	}
	return p
}

// TestPDFKit prints the 200 tables of store 88, 12 to a page: the PDF has
// 17 A4 pages, pdftotext finds every caption (Chinese included), and every
// one of the 200 codes decodes, with gozxing and zbarimg, from pages
// rasterised by poppler.
func TestPDFKit(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		codes := storeKit(t, f, 200)
		dir := t.TempDir()
		pdf := filepath.Join(dir, "kit.pdf")
		out, err := os.Create(pdf)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.WritePDF(context.Background(), out, codes, PDFOptions{PerPage: 12, Title: "Store 88 桌码"}); err != nil {
			t.Fatal(err)
		}
		out.Close()

		info := pdfInfo(t, pdf)
		if info["Pages"] != "17" || info["Page size"] != "595.276 x 841.89 pts (A4)" || info["Title"] != "Store 88 桌码" {
			t.Errorf("pdfinfo: %v", info)
		}
		text := run(t, popplerTool(t, "pdftotext"), "-layout", pdf, "-")
		for _, n := range []int{1, 12, 88, 200} {
			caption := "Table " + strconv.Itoa(n) + " · " + strconv.Itoa(n) + "号桌"
			if !strings.Contains(text, caption) {
				t.Errorf("pdftotext does not find caption %q", caption)
			}
		}
		if c := strings.Count(text, "Store 88 · 八十八号店"); c != 200 {
			t.Errorf("store name found %d times, want 200", c)
		}
		// Rasterise at 110 dpi (modules of about 3 px at 12 per page).
		run(t, popplerTool(t, "pdftoppm"), "-r", "110", "-gray", "-png", pdf, filepath.Join(dir, "page"))
		pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
		if len(pages) != 17 {
			t.Fatalf("%d rasterised pages, want 17", len(pages))
		}
		// Each cell is cut out of its page and decoded on its own: zbarimg
		// scanning a whole page of twelve codes sometimes overlooks one.
		var cells, want []string
		for p, pagePath := range pages {
			b, err := os.ReadFile(pagePath)
			if err != nil {
				t.Fatal(err)
			}
			page := decodePNG(t, b)
			px := func(pt float64) int { return int(pt * 110 / 72) }
			cellW, cellH := (a4W-2*pageMargin)/3, (a4H-2*pageMargin)/4
			for k := 0; k < 12 && p*12+k < len(codes); k++ {
				i := p*12 + k
				col, row := k%3, k/3
				cx, cy := pageMargin+float64(col)*cellW, pageMargin+float64(row)*cellH
				cell := cropTo(page, px(cx), px(cy), px(cellW), px(cellH))
				url := f.svc.ShortURL(codes[i])
				if got := qrtest.Gozxing(t, cell); got != url {
					t.Errorf("code %d: gozxing read %q from the printed page, want %q", i+1, got, url)
				}
				cells = append(cells, writeImage(t, dir, "cell-"+strconv.Itoa(i)+".png", cell))
				want = append(want, url)
			}
		}
		sort.Strings(want)
		got := qrtest.Zbar(t, cells...)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("zbarimg found %d codes in the printed cells, want the 200 short links", len(got))
		}
	})
}

// TestPDFKitLayouts proves every supported layout opens with the expected
// page count and refuses the others.
func TestPDFKitLayouts(t *testing.T) {
	s, err := NewService(nil, Config{BaseURL: "https://mini.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items := make([]PrintItem, 7)
	for i := range items {
		items[i] = PrintItem{Content: "https://mini.example.com/s/Kit" + strconv.Itoa(i), Label: "Counter " + strconv.Itoa(i+1)}
	}
	dir := t.TempDir()
	for per := range grids {
		var buf bytes.Buffer
		if err := s.WritePrintKit(context.Background(), &buf, items, PDFOptions{PerPage: per}); err != nil {
			t.Fatal(err)
		}
		p := writeFile(t, dir, "kit"+strconv.Itoa(per)+".pdf", buf.Bytes())
		wantPages := (len(items) + per - 1) / per
		if info := pdfInfo(t, p); info["Pages"] != strconv.Itoa(wantPages) {
			t.Errorf("%d per page: pdfinfo %v", per, info)
		}
	}
	for _, tc := range []struct {
		items []PrintItem
		opts  PDFOptions
		msg   string
	}{
		{items, PDFOptions{PerPage: 5}, "per page"},
		{items, PDFOptions{Level: "Z"}, "error-correction level"},
		{nil, PDFOptions{}, "no codes"},
		{[]PrintItem{{Content: "x", Label: "Private \U0010FFFD"}}, PDFOptions{}, "U+10FFFD"},
	} {
		err := s.WritePrintKit(context.Background(), io.Discard, tc.items, tc.opts)
		if openmini.ErrorCode(err) != openmini.EINVALID || !strings.Contains(openmini.ErrorMessage(err), tc.msg) {
			t.Errorf("%+v: %v, want invalid mentioning %q", tc.opts, err, tc.msg)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	if errb.Len() > 0 {
		t.Errorf("%s complained: %s", filepath.Base(name), errb.String())
	}
	return out.String()
}

// pdfInfo runs pdfinfo, which fails on a malformed PDF, and returns its
// fields.
func pdfInfo(t *testing.T, path string) map[string]string {
	t.Helper()
	out := run(t, popplerTool(t, "pdfinfo"), path)
	info := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}
