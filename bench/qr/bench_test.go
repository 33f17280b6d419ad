package qrbench

import (
	"context"
	"image"
	"image/png"
	"io"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/openmini/openmini/qr"
)

// codesPerSecond reports the rate for benchmarks that draw one code per
// iteration.
func codesPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "codes/s")
}

func benchRender(b *testing.B, opts qr.RenderOptions) {
	links := ShortLinks(1000)
	r := qr.NewRenderer(qr.RendererConfig{CacheBytes: -1})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.RenderUncached(links[i%len(links)], opts); err != nil {
			b.Fatal(err)
		}
		i++
	}
	codesPerSecond(b)
}

// BenchmarkPNG draws distinct short links as PNG without any cache: the
// figure behind "1,000 PNG codes/s on one core" (run with GOMAXPROCS=1).
func BenchmarkPNG(b *testing.B) {
	for _, size := range []int{128, 512, 1024} {
		b.Run(strconv.Itoa(size)+"px", func(b *testing.B) {
			benchRender(b, qr.RenderOptions{Size: size})
		})
	}
}

// BenchmarkReferenceGozxingPNG is the in-process reference: the same links
// through gozxing's QR writer (a port of ZXing's) and the standard library's
// PNG encoder at best speed, the usual way to draw a code with a Go
// library.
func BenchmarkReferenceGozxingPNG(b *testing.B) {
	links := ShortLinks(1000)
	w := qrcode.NewQRCodeWriter()
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: "M", gozxing.EncodeHintType_MARGIN: 4}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bm, err := w.Encode(links[i%len(links)], gozxing.BarcodeFormat_QR_CODE, 512, 512, hints)
		if err != nil {
			b.Fatal(err)
		}
		img := image.NewGray(image.Rect(0, 0, bm.GetWidth(), bm.GetHeight()))
		for y := 0; y < bm.GetHeight(); y++ {
			for x := 0; x < bm.GetWidth(); x++ {
				if !bm.Get(x, y) {
					img.Pix[y*img.Stride+x] = 0xff
				}
			}
		}
		if err := enc.Encode(io.Discard, img); err != nil {
			b.Fatal(err)
		}
		i++
	}
	codesPerSecond(b)
}

// BenchmarkPNGLevelH is the same at the highest error correction.
func BenchmarkPNGLevelH(b *testing.B) {
	benchRender(b, qr.RenderOptions{Size: 512, Level: qr.LevelH})
}

// BenchmarkSVG draws distinct short links as SVG without any cache.
func BenchmarkSVG(b *testing.B) {
	benchRender(b, qr.RenderOptions{Size: 512, Format: qr.FormatSVG})
}

// BenchmarkPNGCached serves the same 1,000 codes again and again from the
// in-memory cache.
func BenchmarkPNGCached(b *testing.B) {
	links := ShortLinks(1000)
	r := qr.NewRenderer(qr.RendererConfig{})
	ctx := context.Background()
	for _, l := range links {
		if _, err := r.Render(ctx, l, qr.RenderOptions{Size: 512}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Render(ctx, links[i%len(links)], qr.RenderOptions{Size: 512}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	codesPerSecond(b)
}

// BenchmarkEncode is the symbol alone (mode, version, Reed-Solomon, eight
// masks scored), no image.
func BenchmarkEncode(b *testing.B) {
	links := ShortLinks(1000)
	r := qr.NewRenderer(qr.RendererConfig{})
	i := 0
	for b.Loop() {
		if _, err := r.Encode(links[i%len(links)], qr.LevelM); err != nil {
			b.Fatal(err)
		}
		i++
	}
	codesPerSecond(b)
}

func kitItems() []qr.PrintItem {
	links := ShortLinks(200)
	items := make([]qr.PrintItem, len(links))
	for i, l := range links {
		n := strconv.Itoa(i + 1)
		items[i] = qr.PrintItem{Content: l, Label: "Table " + n + " · " + n + "号桌", Sublabel: "Store 88 · 八十八号店"}
	}
	return items
}

func newService(b *testing.B) *qr.Service {
	s, err := qr.NewService(nil, qr.Config{BaseURL: BaseURL})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPDFKit200 writes the 200-code A4 kit with Chinese captions, one
// and twelve codes a page, on a service whose fonts are already open.
func BenchmarkPDFKit200(b *testing.B) {
	items := kitItems()
	for _, per := range []int{1, 12} {
		b.Run(strconv.Itoa(per)+"-per-page", func(b *testing.B) {
			s := newService(b)
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WritePrintKit(context.Background(), io.Discard, items, qr.PDFOptions{PerPage: per}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPDFKit200Cold includes opening the 20 MB CJK font collection
// and shaping every glyph for the first time: a fresh replica's first kit.
func BenchmarkPDFKit200Cold(b *testing.B) {
	items := kitItems()
	b.ReportAllocs()
	for b.Loop() {
		s := newService(b)
		if err := s.WritePrintKit(context.Background(), io.Discard, items, qr.PDFOptions{PerPage: 1}); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkZIP200 is the 200-code ZIP of 512 px PNGs with an empty cache.
func BenchmarkZIP200(b *testing.B) {
	links := ShortLinks(200)
	codes := make([]*qr.Code, len(links))
	for i := range links {
		codes[i] = &qr.Code{Slug: links[i][len(BaseURL)+3:], Label: "Table " + strconv.Itoa(i+1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := qr.NewService(nil, qr.Config{BaseURL: BaseURL, RenderCacheBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.WriteZIP(context.Background(), io.Discard, codes, qr.RenderOptions{Size: 512}); err != nil {
			b.Fatal(err)
		}
	}
}
