package qr

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	stddraw "image/draw"
	_ "image/gif" // icon formats
	_ "image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/draw"
	"golang.org/x/sync/singleflight"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob"
)

// Format is an output image format.
type Format string

const (
	FormatPNG Format = "png"
	FormatSVG Format = "svg"
)

// ContentType is the MIME type of f.
func (f Format) ContentType() string {
	if f == FormatSVG {
		return "image/svg+xml"
	}
	return "image/png"
}

// Rendering limits.
const (
	MinSize       = 128     // smallest PNG/SVG edge in pixels
	MaxSize       = 1024    // largest
	DefaultSize   = 512     // edge when RenderOptions.Size is 0
	DefaultMargin = 4       // quiet zone in modules, as the standard asks
	MaxIconBytes  = 1 << 20 // largest icon file
	MaxIconPixels = 4096    // largest icon edge in pixels
)

// RenderOptions choose how a code is drawn.
type RenderOptions struct {
	Format Format // png (default) or svg
	Size   int    // edge in pixels, MinSize..MaxSize; 0 means DefaultSize
	Level  Level  // error correction; "" means M (an icon raises it to at least Q)
	Margin int    // quiet zone in modules, 2..10; 0 means DefaultMargin
	// Icon is a PNG, JPEG or GIF drawn in the centre on a white pad, such as
	// the app's icon. It covers about a twentieth of the symbol, so the
	// level is raised to at least Q; prefer H for small printed codes.
	Icon []byte
}

// MinIconLevel is the lowest error-correction level used when an icon
// covers the centre.
const MinIconLevel = LevelQ

// normalize fills defaults and validates; errors are *openmini.Error.
func (o RenderOptions) normalize() (RenderOptions, error) {
	switch o.Format {
	case "":
		o.Format = FormatPNG
	case FormatPNG, FormatSVG:
	default:
		return o, invalid("format %q: want png or svg", truncate(string(o.Format)))
	}
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Size < MinSize || o.Size > MaxSize {
		return o, invalid("size %d px: want %d to %d", o.Size, MinSize, MaxSize)
	}
	lv, err := ParseLevel(string(o.Level))
	if err != nil {
		return o, err
	}
	o.Level = lv
	if o.Margin == 0 {
		o.Margin = DefaultMargin
	}
	if o.Margin < 2 || o.Margin > 10 {
		return o, invalid("margin %d modules: want 2 to 10", o.Margin)
	}
	if len(o.Icon) > 0 {
		if len(o.Icon) > MaxIconBytes {
			return o, openmini.Errorf(openmini.ETOOLARGE, "icon is %d bytes; at most %d are allowed", len(o.Icon), MaxIconBytes)
		}
		if o.Level.rank() < MinIconLevel.rank() {
			o.Level = MinIconLevel
		}
	}
	return o, nil
}

// cacheKey hashes every input that changes the output bytes.
func (o RenderOptions) cacheKey(content string) string {
	h := sha256.New()
	fmt.Fprintf(h, "qr-render-v1\x00%s\x00%d\x00%s\x00%d\x00%d\x00", o.Format, o.Size, o.Level, o.Margin, len(content))
	h.Write([]byte(content))
	if len(o.Icon) > 0 {
		ih := sha256.Sum256(o.Icon)
		h.Write(ih[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RendererConfig configures a Renderer.
type RendererConfig struct {
	// CacheBytes bounds the in-memory cache of rendered images; 0 means
	// 32 MiB, negative disables it.
	CacheBytes int64
	// Blob, when set, is a second cache level shared by replicas: rendered
	// images are stored under "qr/render/{hash}.{png|svg}".
	Blob   blob.Store
	Logger *slog.Logger
}

// Renderer draws QR codes as PNG or SVG and caches the results by the hash
// of their inputs. It is safe for concurrent use.
type Renderer struct {
	enc    *encoder
	cache  *lru
	blob   blob.Store
	log    *slog.Logger
	flight singleflight.Group
	zpool  sync.Pool
}

// NewRenderer returns a renderer.
func NewRenderer(cfg RendererConfig) *Renderer {
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Renderer{enc: newEncoder(), blob: cfg.Blob, log: cfg.Logger}
	if cfg.CacheBytes > 0 {
		r.cache = newLRU(cfg.CacheBytes)
	}
	return r
}

// Render returns content drawn as a QR code, from the cache when the same
// inputs were drawn before. The returned slice must not be modified. Errors
// are *openmini.Error: invalid options or icon, too_large content.
func (r *Renderer) Render(ctx context.Context, content string, opts RenderOptions) ([]byte, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	key := opts.cacheKey(content)
	if b, ok := r.cache.get(key); ok {
		return b, nil
	}
	v, err, _ := r.flight.Do(key, func() (any, error) {
		blobKey := "qr/render/" + key + "." + string(opts.Format)
		if r.blob != nil {
			if b, ok := r.fromBlob(ctx, blobKey); ok {
				r.cache.add(key, b)
				return b, nil
			}
		}
		b, err := r.RenderUncached(content, opts)
		if err != nil {
			return nil, err
		}
		r.cache.add(key, b)
		if r.blob != nil {
			if err := r.blob.Put(ctx, blobKey, bytes.NewReader(b), int64(len(b))); err != nil {
				r.log.Warn("qr: store rendered code", "key", blobKey, "err", err)
			}
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func (r *Renderer) fromBlob(ctx context.Context, key string) ([]byte, bool) {
	rc, _, err := r.blob.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, blob.ErrNotFound) {
			r.log.Warn("qr: read cached code", "key", key, "err", err)
		}
		return nil, false
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 8<<20))
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return b, true
}

// RenderUncached draws content without looking at or filling any cache
// (benchmarks and the bulk ZIP use it).
func (r *Renderer) RenderUncached(content string, opts RenderOptions) ([]byte, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	m, err := r.enc.encode(content, opts.Level)
	if err != nil {
		return nil, err
	}
	var icon image.Image
	if len(opts.Icon) > 0 {
		if icon, err = decodeIcon(opts.Icon); err != nil {
			return nil, err
		}
	}
	lay, err := layoutFor(m, opts)
	if err != nil {
		return nil, err
	}
	if opts.Format == FormatSVG {
		return r.svg(m, lay, opts, icon)
	}
	if icon != nil {
		return r.pngWithIcon(m, lay, icon)
	}
	return r.png(m, lay)
}

// Encode returns the module matrix of content at level l.
func (r *Renderer) Encode(content string, l Level) (*Matrix, error) {
	lv, err := ParseLevel(string(l))
	if err != nil {
		return nil, err
	}
	return r.enc.encode(content, lv)
}

// layout places the symbol in the image: each module is scale pixels, the
// symbol starts at offset pixels from the top-left corner (margin plus the
// leftover that integer scaling leaves, split evenly).
type layout struct {
	size, scale, offset int
	iconMods            int // modules covered by the icon pad (centred), 0 without icon
}

func layoutFor(m *Matrix, o RenderOptions) (layout, error) {
	total := m.Size + 2*o.Margin
	scale := o.Size / total
	if scale < 1 {
		return layout{}, openmini.Errorf(openmini.ETOOLARGE,
			"the code needs %d modules with its margin; %d px is too small, use at least %d px", total, o.Size, total)
	}
	lay := layout{size: o.Size, scale: scale, offset: (o.Size - scale*m.Size) / 2}
	if len(o.Icon) > 0 {
		// About 22% of the width: under 5% of the area, well inside what Q
		// recovers, and odd so it stays centred on a module grid.
		k := m.Size * 22 / 100
		if k%2 != m.Size%2 {
			k++
		}
		lay.iconMods = k
	}
	return lay, nil
}

// inIcon reports whether module (x, y) lies under the icon pad.
func (l layout) inIcon(m *Matrix, x, y int) bool {
	if l.iconMods == 0 {
		return false
	}
	lo := (m.Size - l.iconMods) / 2
	return x >= lo && x < lo+l.iconMods && y >= lo && y < lo+l.iconMods
}

func decodeIcon(b []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, invalid("icon is not a PNG, JPEG or GIF image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxIconPixels || cfg.Height > MaxIconPixels {
		return nil, invalid("icon is %d×%d px; at most %d×%d are allowed", cfg.Width, cfg.Height, MaxIconPixels, MaxIconPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, invalid("icon image is damaged: %v", err)
	}
	return img, nil
}

// png writes a 1-bit greyscale PNG directly: every pixel row inside a module
// row equals the one above, so those rows use the Up filter and deflate to
// almost nothing.
func (r *Renderer) png(m *Matrix, lay layout) ([]byte, error) {
	size := lay.size
	rowBytes := (size + 7) / 8
	var raw bytes.Buffer
	raw.Grow(64 + size*size/64)
	z, _ := r.zpool.Get().(*zlib.Writer)
	if z == nil {
		z, _ = zlib.NewWriterLevel(&raw, zlib.BestSpeed)
	} else {
		z.Reset(&raw)
	}
	defer r.zpool.Put(z)

	white := make([]byte, 1+rowBytes)
	for i := 1; i < len(white); i++ {
		white[i] = 0xff
	}
	if pad := size % 8; pad != 0 {
		white[rowBytes] = 0xff // padding bits are ignored by readers
	}
	up := make([]byte, 1+rowBytes) // filter Up, all zero: same as the row above
	up[0] = 2
	row := make([]byte, 1+rowBytes)
	writeRows := func(first []byte, n int) error {
		if n <= 0 {
			return nil
		}
		if _, err := z.Write(first); err != nil {
			return err
		}
		for i := 1; i < n; i++ {
			if _, err := z.Write(up); err != nil {
				return err
			}
		}
		return nil
	}
	// Top quiet zone.
	if err := writeRows(white, lay.offset); err != nil {
		return nil, err
	}
	for y := 0; y < m.Size; y++ {
		copy(row, white)
		px := lay.offset
		for x := 0; x < m.Size; x++ {
			if m.Mods[y*m.Size+x] != 0 {
				for i := px; i < px+lay.scale; i++ {
					row[1+i>>3] &^= 0x80 >> uint(i&7)
				}
			}
			px += lay.scale
		}
		if err := writeRows(row, lay.scale); err != nil {
			return nil, err
		}
	}
	if err := writeRows(white, size-lay.offset-m.Size*lay.scale); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}

	out := make([]byte, 0, raw.Len()+64)
	out = append(out, "\x89PNG\r\n\x1a\n"...)
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(size))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(size))
	ihdr[8] = 1 // bit depth
	ihdr[9] = 0 // greyscale
	out = pngChunk(out, "IHDR", ihdr[:])
	out = pngChunk(out, "IDAT", raw.Bytes())
	out = pngChunk(out, "IEND", nil)
	return out, nil
}

func pngChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// iconRect is the pixel rectangle of the icon pad.
func iconRect(m *Matrix, lay layout) image.Rectangle {
	lo := lay.offset + (m.Size-lay.iconMods)/2*lay.scale
	return image.Rect(lo, lo, lo+lay.iconMods*lay.scale, lo+lay.iconMods*lay.scale)
}

// scaledIcon fits the icon into the pad, keeping its aspect ratio and a
// one-module white border.
func scaledIcon(icon image.Image, pad image.Rectangle, border int) (*image.NRGBA, image.Rectangle) {
	inner := pad.Inset(border)
	b := icon.Bounds()
	w, h := inner.Dx(), inner.Dy()
	if b.Dx() > b.Dy() {
		h = w * b.Dy() / b.Dx()
	} else {
		w = h * b.Dx() / b.Dy()
	}
	dst := image.Rect(0, 0, max(w, 1), max(h, 1))
	out := image.NewNRGBA(dst)
	draw.CatmullRom.Scale(out, dst, icon, b, draw.Src, nil)
	at := image.Pt(inner.Min.X+(inner.Dx()-w)/2, inner.Min.Y+(inner.Dy()-h)/2)
	return out, dst.Add(at)
}

func (r *Renderer) pngWithIcon(m *Matrix, lay layout, icon image.Image) ([]byte, error) {
	img := image.NewNRGBA(image.Rect(0, 0, lay.size, lay.size))
	stddraw.Draw(img, img.Bounds(), image.White, image.Point{}, stddraw.Src)
	black := image.NewUniform(color.Black)
	for y := 0; y < m.Size; y++ {
		for x := 0; x < m.Size; x++ {
			if m.Mods[y*m.Size+x] != 0 && !lay.inIcon(m, x, y) {
				px, py := lay.offset+x*lay.scale, lay.offset+y*lay.scale
				stddraw.Draw(img, image.Rect(px, py, px+lay.scale, py+lay.scale), black, image.Point{}, stddraw.Src)
			}
		}
	}
	pad := iconRect(m, lay)
	scaled, at := scaledIcon(icon, pad, lay.scale)
	stddraw.Draw(img, at, scaled, image.Point{}, stddraw.Over)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// svg draws the symbol as one path of horizontal runs in module units, so
// it scales without blur.
func (r *Renderer) svg(m *Matrix, lay layout, o RenderOptions, icon image.Image) ([]byte, error) {
	total := m.Size + 2*o.Margin
	var b strings.Builder
	b.Grow(64 + m.Size*m.Size)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`,
		o.Size, o.Size, total, total)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, total, total)
	for y := 0; y < m.Size; y++ {
		x := 0
		for x < m.Size {
			if m.Mods[y*m.Size+x] == 0 || lay.inIcon(m, x, y) {
				x++
				continue
			}
			start := x
			for x < m.Size && m.Mods[y*m.Size+x] != 0 && !lay.inIcon(m, x, y) {
				x++
			}
			b.WriteByte('M')
			b.WriteString(strconv.Itoa(start + o.Margin))
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(y + o.Margin))
			b.WriteByte('h')
			b.WriteString(strconv.Itoa(x - start))
			b.WriteString("v1h-")
			b.WriteString(strconv.Itoa(x - start))
			b.WriteByte('z')
		}
	}
	b.WriteString(`"/>`)
	if icon != nil {
		// The icon is embedded as a PNG with as many pixels as it covers at
		// the requested size, placed in module units inside the pad with a
		// one-module border.
		pxPerMod := float64(o.Size) / float64(total)
		inner := lay.iconMods - 2
		bw := icon.Bounds().Dx()
		bh := icon.Bounds().Dy()
		w, h := float64(inner), float64(inner)
		if bw > bh {
			h = w * float64(bh) / float64(bw)
		} else {
			w = h * float64(bw) / float64(bh)
		}
		pw, ph := max(int(w*pxPerMod+0.5), 1), max(int(h*pxPerMod+0.5), 1)
		scaled := image.NewNRGBA(image.Rect(0, 0, pw, ph))
		draw.CatmullRom.Scale(scaled, scaled.Bounds(), icon, icon.Bounds(), draw.Src, nil)
		var ib bytes.Buffer
		if err := png.Encode(&ib, scaled); err != nil {
			return nil, fmt.Errorf("encode icon: %w", err)
		}
		c := float64(o.Margin) + float64(m.Size)/2
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
		fmt.Fprintf(&b, `<image x="%s" y="%s" width="%s" height="%s" preserveAspectRatio="none" href="data:image/png;base64,%s"/>`,
			f(c-w/2), f(c-h/2), f(w), f(h), base64.StdEncoding.EncodeToString(ib.Bytes()))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}
