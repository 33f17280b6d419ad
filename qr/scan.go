package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/openmini/openmini"
)

// Limits on frames uploaded to DecodeImage.
const (
	MaxFrameBytes  = 8 << 20 // bytes of an uploaded frame
	MaxFramePixels = 4096    // longest edge in pixels
)

// DecodeImage reads one QR code from an uploaded camera frame or picture
// (PNG, JPEG or GIF), for browsers without the Barcode Detection API and
// for "scan from an image". Pass the result to Classify. Errors are
// *openmini.Error: too_large for a frame over MaxFrameBytes or
// MaxFramePixels, invalid for something that is not an image, not_found
// when the image holds no readable QR code.
func DecodeImage(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFrameBytes+1))
	if err != nil {
		return "", fmt.Errorf("read frame: %w", err)
	}
	if len(b) > MaxFrameBytes {
		return "", openmini.Errorf(openmini.ETOOLARGE, "the image is larger than %d MB", MaxFrameBytes>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", invalid("the upload is not a PNG, JPEG or GIF image")
	}
	if cfg.Width > MaxFramePixels || cfg.Height > MaxFramePixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", openmini.Errorf(openmini.ETOOLARGE, "the image is %d×%d px; at most %d px on a side", cfg.Width, cfg.Height, MaxFramePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", invalid("the image is damaged")
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", invalid("the image cannot be read")
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		var nf gozxing.NotFoundException
		if errors.As(err, &nf) {
			return "", openmini.Errorf(openmini.ENOTFOUND, "no QR code found in the image")
		}
		return "", &openmini.Error{Code: openmini.ENOTFOUND, Message: "the QR code in the image cannot be read", Err: err}
	}
	return res.GetText(), nil
}
