// Package qrbench holds the QR code benchmarks (PNG and SVG codes per second
// on one core, uncached and cached; a 200-code PDF kit; a 200-code ZIP) and
// the fixture they share with bench/qr.sh, which times Debian's qrencode
// drawing the same codes and zbarimg reading them, for reference. See
// BENCHMARKS.md.
package qrbench

import "fmt"

// BaseURL is the platform URL the benchmark codes live under.
const BaseURL = "https://mini.example.com"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ShortLinks returns n distinct short links shaped like real ones
// ({BaseURL}/s/{8 base62 characters}); the same n gives the same links.
func ShortLinks(n int) []string {
	out := make([]string, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range out {
		slug := make([]byte, 8)
		for j := range slug {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			slug[j] = base62[x%62]
		}
		out[i] = fmt.Sprintf("%s/s/%s", BaseURL, slug)
	}
	return out
}
