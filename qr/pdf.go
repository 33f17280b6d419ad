package qr

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/openmini/openmini"
)

// PDFOptions choose the layout of a printable kit.
type PDFOptions struct {
	// PerPage is how many codes go on one A4 page: 1, 2, 4, 6, 8, 9, 12 or
	// 20; 0 means 1. With more than one, dashed cut lines separate them.
	PerPage int
	// Level is the error correction of the printed codes; "" means Q, which
	// survives the wear of a restaurant table.
	Level Level
	// Title is the document title shown by PDF viewers.
	Title string
}

// grids maps PerPage to columns × rows on a portrait A4 page.
var grids = map[int][2]int{1: {1, 1}, 2: {1, 2}, 4: {2, 2}, 6: {2, 3}, 8: {2, 4}, 9: {3, 3}, 12: {3, 4}, 20: {4, 5}}

// PrintItem is one code on a print kit: the text its symbol encodes and
// its two caption lines.
type PrintItem struct {
	Content  string
	Label    string
	Sublabel string
}

// A4 in PostScript points, and the page margin. Objects 1 to 7 are the
// catalog, page tree, info and the text font; pages follow.
const (
	firstPageObj = 8

	a4W, a4H   = 595.276, 841.890
	pageMargin = 28.0
)

// WritePDF writes a printable A4 PDF kit of the codes (their short links)
// with their labels as captions. Errors: invalid options, or a caption
// character no installed font has (named in the message).
func (s *Service) WritePDF(ctx context.Context, w io.Writer, codes []*Code, opts PDFOptions) error {
	items := make([]PrintItem, len(codes))
	for i, c := range codes {
		items[i] = PrintItem{Content: s.ShortURL(c), Label: c.Label, Sublabel: c.Sublabel}
	}
	return s.WritePrintKit(ctx, w, items, opts)
}

// WritePrintKit writes a printable A4 PDF of arbitrary items. Symbols are
// vector rectangles and captions are glyph outlines (with the text attached
// as ActualText for search and copy), so the kit prints sharp at any size
// and needs no embedded font.
func (s *Service) WritePrintKit(ctx context.Context, w io.Writer, items []PrintItem, opts PDFOptions) error {
	if opts.PerPage == 0 {
		opts.PerPage = 1
	}
	grid, ok := grids[opts.PerPage]
	if !ok {
		return invalid("%d codes per page: want 1, 2, 4, 6, 8, 9, 12 or 20", opts.PerPage)
	}
	if opts.Level == "" {
		opts.Level = LevelQ
	}
	lv, err := ParseLevel(string(opts.Level))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return invalid("nothing to print: no codes")
	}
	if len(items) > MaxBatch {
		return openmini.Errorf(openmini.ETOOLARGE, "%d codes: at most %d in one kit", len(items), MaxBatch)
	}
	// Shape every caption first, so a missing glyph fails before any byte
	// is written.
	type shaped struct {
		m            *Matrix
		label, sub   []*glyph
		labelS, subS string
	}
	cells := make([]shaped, len(items))
	for i, it := range items {
		if err := checkLabel("label", it.Label); err != nil {
			return err
		}
		if err := checkLabel("sublabel", it.Sublabel); err != nil {
			return err
		}
		m, err := s.renderer.enc.encode(it.Content, lv)
		if err != nil {
			return err
		}
		ls, err := s.fonts.shape(it.Label)
		if err != nil {
			return err
		}
		ss, err := s.fonts.shape(it.Sublabel)
		if err != nil {
			return err
		}
		cells[i] = shaped{m: m, label: ls, sub: ss, labelS: it.Label, subS: it.Sublabel}
	}

	cols, rows := grid[0], grid[1]
	pages := (len(items) + opts.PerPage - 1) / opts.PerPage
	pw := &pdfWriter{w: bufio.NewWriterSize(w, 64<<10)}
	nObj := firstPageObj - 1 + 2*pages
	pw.offsets = make([]int64, nObj+1)
	pw.raw("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

	pw.begin(1)
	pw.raw("<< /Type /Catalog /Pages 2 0 R /ViewerPreferences << /PrintScaling /None >> >>\n")
	pw.end()
	pw.begin(2)
	var kids strings.Builder
	for p := 0; p < pages; p++ {
		fmt.Fprintf(&kids, "%d 0 R ", firstPageObj+2*p)
	}
	pw.raw(fmt.Sprintf("<< /Type /Pages /Count %d /Kids [ %s] /MediaBox [0 0 %.3f %.3f] >>\n", pages, kids.String(), a4W, a4H))
	pw.end()
	pw.begin(3)
	pw.raw(fmt.Sprintf("<< /Producer (OpenMini) /CreationDate (D:%s) /Title %s >>\n",
		time.Now().UTC().Format("20060102150405Z"), pdfTextString(opts.Title)))
	pw.end()
	pw.writeTextFont()

	cellW := (a4W - 2*pageMargin) / float64(cols)
	cellH := (a4H - 2*pageMargin) / float64(rows)
	var content bytes.Buffer
	var zbuf bytes.Buffer
	z, _ := zlib.NewWriterLevel(&zbuf, zlib.BestSpeed)
	for p := 0; p < pages; p++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		content.Reset()
		for k := 0; k < opts.PerPage; k++ {
			i := p*opts.PerPage + k
			if i >= len(cells) {
				break
			}
			col, row := k%cols, k/cols
			x := pageMargin + float64(col)*cellW
			y := a4H - pageMargin - float64(row+1)*cellH
			if opts.PerPage > 1 {
				fmt.Fprintf(&content, "q 0.75 G 0.4 w [4 3] 0 d %s %s %s %s re S Q\n", f2(x), f2(y), f2(cellW), f2(cellH))
			}
			c := cells[i]
			drawCell(&content, x, y, cellW, cellH, c.m, c.label, c.sub, c.labelS, c.subS)
		}
		zbuf.Reset()
		z.Reset(&zbuf)
		z.Write(content.Bytes())
		if err := z.Close(); err != nil {
			return err
		}
		pw.begin(firstPageObj + 2*p)
		pw.raw(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Contents %d 0 R /Resources << /Font << /T 4 0 R >> >> >>\n", firstPageObj+1+2*p))
		pw.end()
		pw.begin(firstPageObj + 1 + 2*p)
		pw.raw(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n", zbuf.Len()))
		pw.bytes(zbuf.Bytes())
		pw.raw("\nendstream\n")
		pw.end()
	}
	return pw.finish(nObj)
}

// cellGeom places a symbol and its caption in a cell: the symbol's square
// (quiet zone included) has its top-left corner at (x0, top) and the given
// side; mod is one module; ts and ss are the caption sizes.
type cellGeom struct {
	x0, top, side, mod, pad, ts, ss float64
}

// cellLayout sizes the caption from the cell, then gives the symbol the
// largest square left above it, centred.
func cellLayout(x, y, w, h float64, modules int, hasLabel, hasSub bool) cellGeom {
	pad := min(w, h) * 0.06
	side := min(w-2*pad, h-2*pad)
	ts := clamp(side*0.075, 8, 30)
	ss := ts * 0.7
	capH := 0.0
	if hasLabel {
		capH += ts * 1.3
	}
	if hasSub {
		capH += ss * 1.45
	}
	side = min(w-2*pad, h-2*pad-capH)
	return cellGeom{
		x0: x + (w-side)/2, top: y + h - pad - (h-2*pad-capH-side)/2, side: side,
		mod: side / float64(modules+2*DefaultMargin), pad: pad, ts: ts, ss: ss,
	}
}

// drawCell draws one code and its caption centred in the cell whose
// bottom-left corner is (x, y).
func drawCell(b *bytes.Buffer, x, y, w, h float64, m *Matrix, label, sub []*glyph, labelS, subS string) {
	l := cellLayout(x, y, w, h, m.Size, len(label) > 0, len(sub) > 0)
	x0, top, side, mod, pad, ts, ss := l.x0, l.top, l.side, l.mod, l.pad, l.ts, l.ss
	// Dark runs as rectangles, quiet zone left white.
	b.WriteString("q 0 g\n")
	for r := 0; r < m.Size; r++ {
		ry := top - float64(DefaultMargin+r+1)*mod
		c := 0
		for c < m.Size {
			if m.Mods[r*m.Size+c] == 0 {
				c++
				continue
			}
			start := c
			for c < m.Size && m.Mods[r*m.Size+c] != 0 {
				c++
			}
			fmt.Fprintf(b, "%s %s %s %s re\n", f3(x0+float64(DefaultMargin+start)*mod), f3(ry), f3(float64(c-start)*mod), f3(mod))
		}
	}
	b.WriteString("f Q\n")
	baseline := top - side
	maxW := w - 2*pad
	if len(label) > 0 {
		baseline -= ts * 1.0
		drawText(b, label, labelS, x+w/2, baseline, ts, maxW)
		baseline -= ts * 0.3
	}
	if len(sub) > 0 {
		baseline -= ss * 1.1
		drawText(b, sub, subS, x+w/2, baseline, ss, maxW)
	}
}

// drawText draws glyph outlines centred on cx at baseline y, shrinking the
// size to fit maxW, and lays the same text invisibly (render mode 3) over
// them so viewers and pdftotext can search and copy it.
func drawText(b *bytes.Buffer, gs []*glyph, text string, cx, y, size, maxW float64) {
	width := measure(gs) / 1000 * size
	if width > maxW {
		size *= maxW / width
		width = maxW
	}
	x := cx - width/2
	units := utf16.Encode([]rune(text))
	if len(units) > 0 && width > 0 {
		// Every code of the text font is 1000 units wide; horizontal scaling
		// stretches the invisible run over the drawn one.
		tz := 100 * width / (float64(len(units)) * size)
		fmt.Fprintf(b, "BT 3 Tr /T %s Tf %s Tz 1 0 0 1 %s %s Tm <", f2(size), f2(tz), f3(x), f3(y))
		for _, u := range units {
			fmt.Fprintf(b, "%04x", u)
		}
		b.WriteString("> Tj ET\n")
	}
	s := size / 1000
	fmt.Fprintf(b, "q 0 g 1 0 0 1 %s %s cm %s 0 0 %s 0 0 cm\n", f3(x), f3(y), f5(s), f5(s))
	for _, g := range gs {
		if g.path != "" {
			b.WriteString(g.path)
			b.WriteString("f\n")
		}
		fmt.Fprintf(b, "1 0 0 1 %s 0 cm\n", f2(g.advance))
	}
	b.WriteString("Q\n")
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func f5(v float64) string { return strconv.FormatFloat(v, 'f', 5, 64) }

// pdfTextString encodes s as a UTF-16BE hex string with a byte-order mark,
// which any PDF reader accepts for text outside Latin-1.
func pdfTextString(s string) string {
	u := utf16.Encode([]rune(s))
	buf := make([]byte, 2, 2+2*len(u))
	buf[0], buf[1] = 0xfe, 0xff
	for _, c := range u {
		buf = append(buf, byte(c>>8), byte(c))
	}
	return "<" + hex.EncodeToString(buf) + ">"
}

// pdfWriter writes numbered objects and remembers their offsets for the
// cross-reference table.
type pdfWriter struct {
	w       *bufio.Writer
	n       int64
	offsets []int64
	err     error
}

func (p *pdfWriter) raw(s string) {
	if p.err != nil {
		return
	}
	k, err := p.w.WriteString(s)
	p.n += int64(k)
	p.err = err
}

func (p *pdfWriter) bytes(b []byte) {
	if p.err != nil {
		return
	}
	k, err := p.w.Write(b)
	p.n += int64(k)
	p.err = err
}

func (p *pdfWriter) begin(id int) {
	p.offsets[id] = p.n
	p.raw(strconv.Itoa(id) + " 0 obj\n")
}

func (p *pdfWriter) end() { p.raw("endobj\n") }

// writeTextFont writes objects 4 to 7: a font for the invisible text layer
// whose two-byte codes are UTF-16 code units, mapped to Unicode one to one
// by its ToUnicode CMap. It has no glyphs to draw (the text is never
// painted), so nothing is embedded.
func (p *pdfWriter) writeTextFont() {
	p.begin(4)
	p.raw("<< /Type /Font /Subtype /Type0 /BaseFont /OpenMiniText /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 5 0 R >>\n")
	p.end()
	cmap := "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /OpenMini-UTF16 def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" +
		"2 beginbfrange\n<0000> <D7FF> <0000>\n<E000> <FFFF> <E000>\nendbfrange\n" +
		"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
	p.begin(5)
	p.raw(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream\n", len(cmap), cmap))
	p.end()
	p.begin(6)
	p.raw("<< /Type /FontDescriptor /FontName /OpenMiniText /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>\n")
	p.end()
	p.begin(7)
	p.raw("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /OpenMiniText /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 6 0 R /DW 1000 /CIDToGIDMap /Identity >>\n")
	p.end()
}

func (p *pdfWriter) finish(nObj int) error {
	xref := p.n
	p.raw(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f \n", nObj+1))
	for id := 1; id <= nObj; id++ {
		p.raw(fmt.Sprintf("%010d 00000 n \n", p.offsets[id]))
	}
	p.raw(fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", nObj+1, xref))
	if p.err != nil {
		return fmt.Errorf("write pdf: %w", p.err)
	}
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	return nil
}
