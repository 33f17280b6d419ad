package qr

import (
	"crypto/rand"
	"math/big"
)

// SlugLen is the length of a new short-link slug: 8 case-sensitive base62
// characters, about 47.6 bits, so guessing a live code among a million
// takes some 200 million tries (and the web layer rate-limits /s/).
const SlugLen = 8

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newSlug returns a random slug from crypto/rand.
func newSlug() (string, error) {
	b := make([]byte, SlugLen)
	max := big.NewInt(int64(len(base62)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = base62[n.Int64()]
	}
	return string(b), nil
}

// ValidSlug reports whether s looks like a slug: 4 to 32 base62 characters
// (so slugs of another length issued later still resolve).
func ValidSlug(s string) bool {
	if len(s) < 4 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
