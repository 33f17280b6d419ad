package qr

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"rsc.io/qr/coding"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob/fsblob"
	"github.com/openmini/openmini/internal/qrtest"
	"github.com/openmini/openmini/internal/testenv"
)

// testIcon is a colourful 96×96 PNG: a red disc on blue, the kind of app
// icon that hides modules under it.
func testIcon(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 96, 96))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.NRGBA{20, 60, 200, 255}), image.Point{}, draw.Src)
	for y := 0; y < 96; y++ {
		for x := 0; x < 96; x++ {
			if (x-48)*(x-48)+(y-48)*(y-48) < 30*30 {
				img.Set(x, y, color.NRGBA{220, 30, 30, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type renderCase struct {
	name    string
	content string
	opts    RenderOptions
}

func renderCases(t *testing.T, format Format) []renderCase {
	icon := testIcon(t)
	var cases []renderCase
	n := 0
	add := func(content string, o RenderOptions) {
		n++
		o.Format = format
		cases = append(cases, renderCase{
			name:    fmt.Sprintf("%02d-%d-%s-icon%v", n, o.Size, o.Level, len(o.Icon) > 0),
			content: content, opts: o,
		})
	}
	short := "https://mini.example.com/s/"
	for _, size := range []int{MinSize, 300, MaxSize} {
		for _, lv := range []Level{LevelL, LevelM, LevelQ, LevelH} {
			add(fmt.Sprintf("%sT%dx%s", short, size, lv), RenderOptions{Size: size, Level: lv})
		}
	}
	// An icon at every level it allows, at two sizes.
	for _, size := range []int{256, 512} {
		for _, lv := range []Level{LevelQ, LevelH} {
			add(fmt.Sprintf("%sIcon%d%s", short, size, lv), RenderOptions{Size: size, Level: lv, Icon: icon})
		}
	}
	// A long launch link with Chinese parameters (version 10 or so) and a
	// narrow margin.
	long := "https://mini.example.com/app/menu/pages/order?store=88&table=12&note=" + queryEscape("靠窗的位置，两位客人 "+strings.Repeat("x", 60))
	add(long, RenderOptions{Size: 512, Level: LevelM, Margin: 2})
	return cases
}

// TestRenderPNGDecodes draws codes at the smallest, a middle and the largest
// size, at every error-correction level, with and without an icon, and
// decodes every one with gozxing and zbarimg.
func TestRenderPNGDecodes(t *testing.T) {
	r := NewRenderer(RendererConfig{})
	dir := t.TempDir()
	var files, want []string
	for _, c := range renderCases(t, FormatPNG) {
		b, err := r.Render(context.Background(), c.content, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		img := decodePNG(t, b)
		if got := img.Bounds().Dx(); got != c.opts.Size || img.Bounds().Dy() != c.opts.Size {
			t.Errorf("%s: image is %v, want %d px square", c.name, img.Bounds(), c.opts.Size)
		}
		if got := qrtest.Gozxing(t, img); got != c.content {
			t.Errorf("%s: gozxing read %q, want %q", c.name, got, c.content)
		}
		files = append(files, writeFile(t, dir, c.name+".png", b))
		want = append(want, c.content)
	}
	sort.Strings(want)
	got := qrtest.Zbar(t, files...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("zbarimg read\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRenderSVGDecodes rasterises every SVG in headless Chromium (the
// browser that shows them to developers) and decodes the screenshots with
// gozxing and zbarimg.
func TestRenderSVGDecodes(t *testing.T) {
	r := NewRenderer(RendererConfig{})
	dir := t.TempDir()
	cases := renderCases(t, FormatSVG)
	const cell = 1040 // each SVG gets a cell, laid out in one column per row of 4
	var page strings.Builder
	page.WriteString(`<!doctype html><html><body style="margin:0;background:#fff">`)
	for i, c := range cases {
		b, err := r.Render(context.Background(), c.content, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.HasPrefix(b, []byte("<svg ")) || !bytes.Contains(b, []byte(fmt.Sprintf(`width="%d"`, c.opts.Size))) {
			t.Fatalf("%s: not an SVG of the asked size: %.80s", c.name, b)
		}
		writeFile(t, dir, c.name+".svg", b)
		fmt.Fprintf(&page, `<img src="%s.svg" style="position:absolute;left:%dpx;top:%dpx">`, c.name, (i%4)*cell, (i/4)*cell)
	}
	page.WriteString(`</body></html>`)
	writeFile(t, dir, "page.html", []byte(page.String()))
	rows := (len(cases) + 3) / 4
	ctx := testenv.Browser(t, testenv.BrowserOptions{Width: 4 * cell, Height: rows * cell})
	var shot []byte
	if err := chromedp.Run(ctx,
		chromedp.Navigate("file://"+filepath.Join(dir, "page.html")),
		chromedp.WaitReady("body"),
		chromedp.CaptureScreenshot(&shot),
	); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	full := decodePNG(t, shot)
	var files, want []string
	for i, c := range cases {
		x, y := (i%4)*cell, (i/4)*cell
		tile := image.NewRGBA(image.Rect(0, 0, c.opts.Size, c.opts.Size))
		draw.Draw(tile, tile.Bounds(), full, image.Pt(x, y), draw.Src)
		if got := qrtest.Gozxing(t, tile); got != c.content {
			t.Errorf("%s: gozxing read %q from the rendered SVG, want %q", c.name, got, c.content)
		}
		files = append(files, writeImage(t, dir, c.name+".png", tile))
		want = append(want, c.content)
	}
	sort.Strings(want)
	got := qrtest.Zbar(t, files...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("zbarimg read from rendered SVGs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRenderRejects(t *testing.T) {
	r := NewRenderer(RendererConfig{})
	long := strings.Repeat("a", 2000)
	for _, tc := range []struct {
		name    string
		content string
		opts    RenderOptions
		code    string
		msg     string
	}{
		{"too small", "x", RenderOptions{Size: 100}, openmini.EINVALID, "size 100 px"},
		{"too big", "x", RenderOptions{Size: 2048}, openmini.EINVALID, "size 2048 px"},
		{"bad level", "x", RenderOptions{Level: "X"}, openmini.EINVALID, "error-correction level"},
		{"bad format", "x", RenderOptions{Format: "gif"}, openmini.EINVALID, "format"},
		{"bad margin", "x", RenderOptions{Margin: 40}, openmini.EINVALID, "margin"},
		{"empty", "", RenderOptions{}, openmini.EINVALID, "empty"},
		{"content too long for the size", long, RenderOptions{Size: 128}, openmini.ETOOLARGE, "too small"},
		{"content too long for any code", strings.Repeat("a", 3000), RenderOptions{Level: LevelH}, openmini.ETOOLARGE, "too long"},
		{"icon not an image", "x", RenderOptions{Icon: []byte("hello")}, openmini.EINVALID, "icon"},
		{"icon too large", "x", RenderOptions{Icon: make([]byte, MaxIconBytes+1)}, openmini.ETOOLARGE, "icon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Render(context.Background(), tc.content, tc.opts)
			if openmini.ErrorCode(err) != tc.code || !strings.Contains(openmini.ErrorMessage(err), tc.msg) {
				t.Fatalf("got %v, want %s error mentioning %q", err, tc.code, tc.msg)
			}
		})
	}
}

// TestIconRaisesLevel proves an icon never rides on a level below
// MinIconLevel, and that the raised code still decodes.
func TestIconRaisesLevel(t *testing.T) {
	for _, lv := range []Level{"", LevelL, LevelM} {
		o, err := RenderOptions{Level: lv, Icon: testIcon(t)}.normalize()
		if err != nil {
			t.Fatal(err)
		}
		if o.Level != MinIconLevel {
			t.Errorf("level %q with an icon became %q, want %q", lv, o.Level, MinIconLevel)
		}
	}
	if o, _ := (RenderOptions{Level: LevelH, Icon: testIcon(t)}).normalize(); o.Level != LevelH {
		t.Errorf("level H with an icon became %q", o.Level)
	}
	r := NewRenderer(RendererConfig{})
	content := "https://mini.example.com/s/Ab3kX9Zq"
	b, err := r.Render(context.Background(), content, RenderOptions{Size: 200, Level: LevelL, Icon: testIcon(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := qrtest.Gozxing(t, decodePNG(t, b)); got != content {
		t.Fatalf("gozxing read %q", got)
	}
}

// TestRenderCache proves equal inputs are drawn once: the second call
// returns the very same bytes from memory, another renderer sharing the
// blob store reads them from there, and any changed input changes the key.
func TestRenderCache(t *testing.T) {
	ctx := context.Background()
	store, err := fsblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r1 := NewRenderer(RendererConfig{Blob: store})
	content := "https://mini.example.com/s/Cache123"
	opts := RenderOptions{Size: 256}
	a, err := r1.Render(ctx, content, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r1.Render(ctx, content, opts)
	if &a[0] != &b[0] {
		t.Error("second render of the same inputs did not come from the memory cache")
	}
	if r1.cache.len() != 1 {
		t.Errorf("memory cache holds %d images, want 1", r1.cache.len())
	}
	infos, err := store.List(ctx, "qr/render/")
	if err != nil || len(infos) != 1 {
		t.Fatalf("blob cache holds %v (%v), want one image", infos, err)
	}
	// Overwrite the stored image: a second renderer must serve the blob's
	// bytes, proving it read the shared cache instead of drawing again.
	marker := append(append([]byte{}, a...), 'X')
	if err := store.Put(ctx, infos[0].Key, bytes.NewReader(marker), int64(len(marker))); err != nil {
		t.Fatal(err)
	}
	r2 := NewRenderer(RendererConfig{Blob: store})
	c, err := r2.Render(ctx, content, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c, marker) {
		t.Error("second renderer did not read the shared blob cache")
	}
	keys := map[string]bool{}
	for _, o := range []RenderOptions{opts, {Size: 257}, {Size: 256, Level: LevelH}, {Size: 256, Format: FormatSVG}, {Size: 256, Margin: 3}, {Size: 256, Icon: testIcon(t)}} {
		o, err := o.normalize()
		if err != nil {
			t.Fatal(err)
		}
		keys[o.cacheKey(content)] = true
		keys[o.cacheKey(content+"!")] = true
	}
	if len(keys) != 12 {
		t.Errorf("cache keys collide: %d distinct of 12", len(keys))
	}
}

func TestLRUEvicts(t *testing.T) {
	c := newLRU(100)
	c.add("a", make([]byte, 20))
	c.add("b", make([]byte, 20))
	c.get("a") // a is now more recent than b
	for i := 0; i < 4; i++ {
		c.add(fmt.Sprint(i), make([]byte, 20))
	}
	if _, ok := c.get("b"); ok {
		t.Error("b, the least recently used, survived going over the budget")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a was evicted though b was older")
	}
	if c.used > 100 {
		t.Errorf("cache uses %d bytes of 100", c.used)
	}
	c.add("huge", make([]byte, 60))
	if _, ok := c.get("huge"); ok {
		t.Error("an entry larger than a quarter of the cache was kept")
	}
}

// TestFalseFinders proves a finder-like cross in the data area is found
// and the real finder patterns are not counted.
func TestFalseFinders(t *testing.T) {
	const n = 25
	mods := make([]byte, n*n)
	set := func(x, y int) { mods[y*n+x] = 1 }
	finder := func(ox, oy int) {
		for y := 0; y < 7; y++ {
			for x := 0; x < 7; x++ {
				if x == 0 || y == 0 || x == 6 || y == 6 || (x >= 2 && x <= 4 && y >= 2 && y <= 4) {
					set(ox+x, oy+y)
				}
			}
		}
	}
	finder(0, 0)
	finder(n-7, 0)
	finder(0, n-7)
	marks := make([]byte, n*n)
	penaltyMarks(mods, n, marks)
	if got := falseFinders(marks, n); got != 0 {
		t.Fatalf("real finder patterns counted: %d", got)
	}
	finder(12, 12) // a fake one in the data area: its 3×3 centre counts
	penaltyMarks(mods, n, marks)
	if got := falseFinders(marks, n); got != 9 {
		t.Fatalf("fake finder gives %d marked modules, want 9", got)
	}
}

// TestPenaltyPicksBestMask proves the encoder keeps the lowest-penalty
// mask by re-scoring all eight.
func TestPenaltyPicksBestMask(t *testing.T) {
	e := newEncoder()
	for _, content := range []string{"https://mini.example.com/s/Ab3kX9Zq", "12345678901234567890", "HELLO WORLD"} {
		m, err := e.encode(content, LevelM)
		if err != nil {
			t.Fatal(err)
		}
		score := func(mods []byte) int {
			marks := make([]byte, len(mods))
			return penaltyMarks(mods, m.Size, marks) + falseFinders(marks, m.Size)*falseFinderPenalty
		}
		best := score(m.Mods)
		v := m.Version
		set, err := e.planSet(coding.Version(v), LevelM.coding())
		if err != nil {
			t.Fatal(err)
		}
		for mask := 0; mask < 8; mask++ {
			alt := make([]byte, len(m.Mods))
			for i := range alt {
				alt[i] = m.Mods[i] ^ set.diff[m.Mask][i] ^ set.diff[mask][i]
			}
			if p := score(alt); p < best {
				t.Errorf("%q: mask %d scores %d, below the chosen mask %d's %d", content, mask, p, m.Mask, best)
			}
		}
	}
}

// TestDecodeImage reads codes the way the server-side scanner does: a
// photo-like JPEG of a code shrunk onto a grey background, and refuses
// what is not a readable image.
func TestDecodeImage(t *testing.T) {
	r := NewRenderer(RendererConfig{})
	content := "https://mini.example.com/s/Frame123"
	b, err := r.Render(context.Background(), content, RenderOptions{Size: 300})
	if err != nil {
		t.Fatal(err)
	}
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(frame, frame.Bounds(), image.NewUniform(color.RGBA{120, 120, 110, 255}), image.Point{}, draw.Src)
	draw.Draw(frame, image.Rect(200, 100, 500, 400), decodePNG(t, b), image.Point{}, draw.Src)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, frame, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeImage(bytes.NewReader(jpg.Bytes()))
	if err != nil || got != content {
		t.Fatalf("DecodeImage(JPEG frame) = %q, %v", got, err)
	}
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	var blankPNG bytes.Buffer
	png.Encode(&blankPNG, blank)
	huge := image.NewGray(image.Rect(0, 0, MaxFramePixels+1, 1))
	var hugePNG bytes.Buffer
	png.Encode(&hugePNG, huge)
	for _, tc := range []struct {
		name string
		in   []byte
		code string
	}{
		{"not an image", []byte("hello"), openmini.EINVALID},
		{"no code", blankPNG.Bytes(), openmini.ENOTFOUND},
		{"too wide", hugePNG.Bytes(), openmini.ETOOLARGE},
		{"too many bytes", make([]byte, MaxFrameBytes+1), openmini.ETOOLARGE},
	} {
		if _, err := DecodeImage(bytes.NewReader(tc.in)); openmini.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}
