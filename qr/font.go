package qr

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/openmini/openmini"
)

// DefaultFontPaths are the caption fonts tried when Config.FontPaths is
// empty: Debian's fonts-noto-cjk (Simplified Chinese face of the
// collection), then DejaVu Sans. The Go font, compiled in, is always the
// last resort for Latin text.
var DefaultFontPaths = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
}

// fontSet turns caption text into glyph outlines, picking for each
// character the first font that has it. Fonts open on first use; files
// that are missing or unreadable are skipped.
type fontSet struct {
	paths []string

	mu     sync.Mutex
	loaded bool
	fonts  []*sfnt.Font
	files  []*os.File
	buf    sfnt.Buffer
	glyphs map[rune]*glyph
	ascent float64 // of the first font, in em
}

// glyph is a glyph outline as PDF path operators in thousandths of an em,
// y up, origin on the baseline, and its advance.
type glyph struct {
	path    string
	advance float64 // thousandths of an em
}

func newFontSet(paths []string) *fontSet {
	return &fontSet{paths: paths, glyphs: map[rune]*glyph{}}
}

func (fs *fontSet) close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.files {
		f.Close()
	}
	fs.files, fs.fonts, fs.loaded = nil, nil, false
	fs.glyphs = map[rune]*glyph{}
	return nil
}

// load opens the fonts; the caller holds mu.
func (fs *fontSet) load() {
	if fs.loaded {
		return
	}
	fs.loaded = true
	for _, p := range fs.paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var picked *sfnt.Font
		if c, err := sfnt.ParseCollectionReaderAt(f); err == nil {
			picked = fs.pickFace(c)
		} else if one, err := sfnt.ParseReaderAt(f); err == nil {
			picked = one
		}
		if picked == nil {
			f.Close()
			continue
		}
		fs.files = append(fs.files, f)
		fs.fonts = append(fs.fonts, picked)
	}
	if gof, err := sfnt.Parse(goregular.TTF); err == nil {
		fs.fonts = append(fs.fonts, gof)
	}
	if len(fs.fonts) > 0 {
		if m, err := fs.fonts[0].Metrics(&fs.buf, fixed.I(1000), font.HintingNone); err == nil {
			fs.ascent = float64(m.Ascent) / 64
		}
	}
}

// pickFace takes the Simplified Chinese face of a CJK collection, else its
// first face.
func (fs *fontSet) pickFace(c *sfnt.Collection) *sfnt.Font {
	var first *sfnt.Font
	for i := 0; i < c.NumFonts(); i++ {
		f, err := c.Font(i)
		if err != nil {
			continue
		}
		if first == nil {
			first = f
		}
		name, _ := f.Name(&fs.buf, sfnt.NameIDFamily)
		if strings.HasSuffix(name, " SC") {
			return f
		}
	}
	return first
}

// glyphs returns the glyphs of s in order, or an invalid error naming the
// first character no font has.
func (fs *fontSet) shape(s string) ([]*glyph, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.load()
	out := make([]*glyph, 0, len(s))
	for _, r := range s {
		g, err := fs.glyph(r)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func (fs *fontSet) glyph(r rune) (*glyph, error) {
	if g, ok := fs.glyphs[r]; ok {
		return g, nil
	}
	for _, f := range fs.fonts {
		gi, err := f.GlyphIndex(&fs.buf, r)
		if err != nil || gi == 0 {
			continue
		}
		ppem := fixed.I(1000)
		adv, err := f.GlyphAdvance(&fs.buf, gi, ppem, font.HintingNone)
		if err != nil {
			continue
		}
		segs, err := f.LoadGlyph(&fs.buf, gi, ppem, nil)
		if err != nil {
			continue
		}
		g := &glyph{path: segmentsToPDF(segs), advance: float64(adv) / 64}
		fs.glyphs[r] = g
		return g, nil
	}
	return nil, openmini.Errorf(openmini.EINVALID,
		"caption character %q (%U) is in none of the installed fonts; install fonts-noto-cjk or set the font paths", r, r)
}

// segmentsToPDF writes outlines as PDF path operators, flipping y and
// turning quadratic curves into cubic ones.
func segmentsToPDF(segs sfnt.Segments) string {
	var b strings.Builder
	var cx, cy float64 // current point
	open := false
	pt := func(p fixed.Point26_6) (float64, float64) { return float64(p.X) / 64, -float64(p.Y) / 64 }
	num := func(v float64) {
		b.WriteString(strconv.FormatFloat(v, 'f', 1, 64))
		b.WriteByte(' ')
	}
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			if open {
				b.WriteString("h ")
			}
			cx, cy = pt(s.Args[0])
			num(cx)
			num(cy)
			b.WriteString("m ")
			open = true
		case sfnt.SegmentOpLineTo:
			cx, cy = pt(s.Args[0])
			num(cx)
			num(cy)
			b.WriteString("l ")
		case sfnt.SegmentOpQuadTo:
			qx, qy := pt(s.Args[0])
			x, y := pt(s.Args[1])
			num(cx + 2.0/3*(qx-cx))
			num(cy + 2.0/3*(qy-cy))
			num(x + 2.0/3*(qx-x))
			num(y + 2.0/3*(qy-y))
			num(x)
			num(y)
			b.WriteString("c ")
			cx, cy = x, y
		case sfnt.SegmentOpCubeTo:
			for i := 0; i < 3; i++ {
				x, y := pt(s.Args[i])
				num(x)
				num(y)
			}
			cx, cy = pt(s.Args[2])
			b.WriteString("c ")
		}
	}
	if open {
		b.WriteString("h ")
	}
	return b.String()
}

// measure returns the width of s in thousandths of an em.
func measure(gs []*glyph) float64 {
	w := 0.0
	for _, g := range gs {
		w += g.advance
	}
	return w
}
