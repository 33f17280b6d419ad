package qr

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/openmini/openmini/internal/testenv"
)

// This file holds the two independent decoders every generated image goes
// through: gozxing (a Go port of ZXing) and Debian's zbarimg.

// decodeGozxing returns the text of the one QR code in img with gozxing's
// full detector (finder patterns, as on a camera frame). That detector
// rejects about one valid symbol in a thousand or two (qrencode's output
// too) when its scan lines meet a finder-like spot in one orientation, so
// a miss is retried with the image turned by 90, 180 and 270 degrees, as a
// phone held another way would see it, and logged. zbarimg, run on the
// same images, gets one try.
func decodeGozxing(t *testing.T, img image.Image) string {
	t.Helper()
	var first error
	for turn := 0; turn < 4; turn++ {
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatalf("gozxing bitmap: %v", err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
		if err == nil {
			if turn > 0 {
				t.Logf("gozxing missed the symbol upright (%v); read it turned %d degrees", first, 90*turn)
			}
			return res.GetText()
		}
		if first == nil {
			first = err
		}
		img = turn90(img)
	}
	t.Errorf("gozxing cannot decode in any orientation: %v", first)
	return ""
}

// turn90 returns img turned a quarter clockwise.
func turn90(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(b.Dy()-1-y, x, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// zbarPath returns zbarimg, or skips (fails under OPENMINI_TEST_REQUIRE_ALL)
// when it is not installed.
func zbarPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("zbarimg")
	if err != nil {
		testenv.Missing(t, "zbarimg: install Debian's zbar-tools")
	}
	return p
}

// decodeZbar returns every QR code zbarimg finds in the image files, sorted.
func decodeZbar(t *testing.T, files ...string) []string {
	t.Helper()
	args := append([]string{"--raw", "-q", "-Sdisable", "-Sqrcode.enable"}, files...)
	cmd := exec.Command(zbarPath(t), args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		t.Errorf("zbarimg found no code in %s: %v", strings.Join(files, " "), err)
		return nil
	}
	var texts []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" {
			texts = append(texts, line)
		}
	}
	sort.Strings(texts)
	return texts
}

// writeImage stores img as a PNG file for zbarimg.
func writeImage(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, buf.Bytes())
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

// cropTo copies the w×h rectangle at (x, y) of img.
func cropTo(img image.Image, x, y, w, h int) image.Image {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), img, image.Pt(x, y), draw.Src)
	return out
}
