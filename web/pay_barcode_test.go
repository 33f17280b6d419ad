package web

import (
	"image"
	"image/color"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
)

// TestBarcodeSVGDecodes draws payment codes as the wallet shows them, paints
// the SVG's bars into an image and reads it back with a Code 128 reader.
func TestBarcodeSVGDecodes(t *testing.T) {
	bar := regexp.MustCompile(`M(\d+) 0h(\d+)v`)
	width := regexp.MustCompile(`viewBox="0 0 (\d+) `)
	for _, code := range []string{"280000000000000000", "289876543210123456", "281234567890987654"} {
		svg, err := barcodeSVG(code, 60)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := strconv.Atoi(width.FindStringSubmatch(svg)[1])
		const scale, h = 3, 40
		img := image.NewGray(image.Rect(0, 0, w*scale, h))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		for _, m := range bar.FindAllStringSubmatch(svg, -1) {
			x, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			for px := x * scale; px < (x+n)*scale; px++ {
				for y := 0; y < h; y++ {
					img.SetGray(px, y, color.Gray{})
				}
			}
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		res, err := oned.NewCode128Reader().Decode(bmp, nil)
		if err != nil {
			t.Fatalf("%s: the barcode does not decode: %v", code, err)
		}
		if res.GetText() != code {
			t.Fatalf("barcode of %s reads %s", code, res.GetText())
		}
	}
	if got := groupDigits("281234567890987654"); got != "2812 3456 7890 9876 54" {
		t.Fatalf("grouped digits: %q", got)
	}
}
