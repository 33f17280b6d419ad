// Package qrtest reads QR codes in tests with two independent decoders:
// gozxing (a Go port of ZXing) and Debian's zbarimg. Every image the
// platform makes is read by both.
package qrtest

import (
	"bytes"
	"image"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/openmini/openmini/internal/testenv"
)

// Gozxing returns the text of the one QR code in img with gozxing's full
// detector (finder patterns, as on a camera frame). That detector rejects
// about one valid symbol in a thousand or two (qrencode's output too) when
// its scan lines meet a finder-like spot in one orientation, so a miss is
// retried with the image turned by 90, 180 and 270 degrees, as a phone
// held another way would see it, and logged. A code it cannot read in any
// orientation fails the test and gives "".
func Gozxing(t testing.TB, img image.Image) string {
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

// Zbar returns every QR code zbarimg finds in the image files, sorted. It
// skips the test (fails it under OPENMINI_TEST_REQUIRE_ALL) when zbarimg
// is not installed, and fails it when zbarimg finds no code at all.
func Zbar(t testing.TB, files ...string) []string {
	t.Helper()
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		testenv.Missing(t, "zbarimg: install Debian's zbar-tools")
	}
	args := append([]string{"--raw", "-q", "-Sdisable", "-Sqrcode.enable"}, files...)
	cmd := exec.Command(bin, args...)
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
