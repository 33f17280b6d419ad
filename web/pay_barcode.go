package web

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"github.com/openmini/openmini/qr"
)

// The user's payment code is shown twice: as a QR code (package qr) and as
// a Code 128 barcode for the many shop scanners that read only linear
// codes. Both are drawn here, never stored: a payment code is as good as
// money for a minute.

// barcodeSVG draws digits as a Code 128 barcode (set C: two digits a
// symbol) in an SVG of height units, with a 10-module quiet zone on each
// side. Each module is one unit wide; the image scales to its box.
func barcodeSVG(digits string, height int) (string, error) {
	m, err := oned.NewCode128Writer().Encode(digits, gozxing.BarcodeFormat_CODE_128, 0, 1,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 0})
	if err != nil {
		return "", fmt.Errorf("barcode: %w", err)
	}
	const quiet = 10
	w := m.GetWidth()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" preserveAspectRatio="none" shape-rendering="crispEdges">`, w+2*quiet, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, w+2*quiet, height)
	for x := 0; x < w; {
		if !m.Get(x, 0) {
			x++
			continue
		}
		run := 1
		for x+run < w && m.Get(x+run, 0) {
			run++
		}
		fmt.Fprintf(&b, "M%d 0h%dv%dh-%dz", x+quiet, run, height, run)
		x += run
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

// dataURL is b as a data: URL of the media type.
func dataURL(mediaType string, b []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(b)
}

// PaymentCodeView is a payment code ready to show: its digits, grouped
// for reading aloud, and both images as data: URLs.
type PaymentCodeView struct {
	Code      string `json:"code"`
	Grouped   string `json:"grouped"` // "2812 3456 7890 1234 56"
	ExpiresAt string `json:"expires_at"`
	TTL       int    `json:"ttl"` // seconds the code stays valid
	// QR and Barcode are data: URLs (image/png, image/svg+xml) that we
	// drew, so templates may put them in src attributes.
	QR      template.URL `json:"qr"`
	Barcode template.URL `json:"barcode"`
}

// paymentCodeImages draws a code for the wallet.
func (s *Server) paymentCodeImages(code string) (qrURL, barURL template.URL, err error) {
	if s.qr != nil {
		png, err := s.qr.Renderer().RenderUncached(code, qr.RenderOptions{Format: qr.FormatPNG, Size: 480, Level: qr.LevelM})
		if err != nil {
			return "", "", err
		}
		qrURL = template.URL(dataURL("image/png", png))
	}
	svg, err := barcodeSVG(code, 60)
	if err != nil {
		return "", "", err
	}
	return qrURL, template.URL(dataURL("image/svg+xml", []byte(svg))), nil
}

// groupDigits writes a code in groups of four.
func groupDigits(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(code[i])
	}
	return b.String()
}
