package pay

import (
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openmini/openmini"
)

// exponents are the ISO 4217 minor-unit digits of the currencies a Service
// may be configured with.
var exponents = map[string]int{
	"CNY": 2, "HKD": 2, "MOP": 2, "TWD": 2, "SGD": 2, "MYR": 2, "THB": 2, "PHP": 2,
	"USD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "CAD": 2, "CHF": 2, "INR": 2,
	"JPY": 0, "KRW": 0, "VND": 0, "IDR": 2,
}

// CurrencyExponent reports how many decimal digits the currency's minor
// unit has (2 for CNY: 1 yuan = 100 fen) and whether the currency is known.
func CurrencyExponent(currency string) (int, bool) {
	e, ok := exponents[currency]
	return e, ok
}

// FormatAmount renders minor units as a decimal string in major units:
// FormatAmount(-1234, "CNY") = "-12.34". Unknown currencies use 2 digits.
func FormatAmount(amount int64, currency string) string {
	exp, ok := exponents[currency]
	if !ok {
		exp = 2
	}
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseAmount reads a positive decimal amount in major units ("12", "12.3",
// "12.34") as minor units, without floating point. It refuses signs,
// exponents, separators, more decimals than the currency has and amounts
// above max, with an invalid error naming the problem.
func ParseAmount(s, currency string, max int64) (int64, error) {
	exp, ok := exponents[currency]
	if !ok {
		return 0, invalid("unknown currency %q", currency)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, invalid("amount %q is not a number like 12.34", clip(s, 32))
	}
	if len(frac) > exp {
		return 0, invalid("amount %q has more than %d decimals", clip(s, 32), exp)
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, invalid("amount %q is not a number like 12.34", clip(s, 32))
			}
		}
	}
	if len(whole) > 15 {
		return 0, invalid("amount %q is too large", clip(s, 32))
	}
	digits := whole + frac + strings.Repeat("0", exp-len(frac))
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, invalid("amount %q is too large", clip(s, 32))
	}
	if v <= 0 {
		return 0, invalid("amount must be greater than zero")
	}
	if v > max {
		return 0, &openmini.Error{Code: openmini.ETOOLARGE, Message: "amount " + FormatAmount(v, currency) + " is above the limit of " + FormatAmount(max, currency)}
	}
	return v, nil
}

// mulDiv returns floor(a*b/c) for non-negative a, b and positive c with
// a*b/c < 2^63, computed exactly in 128 bits.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// feeFor is the platform fee on amount at bp basis points, rounded half up
// to the minor unit: fee = floor((amount*bp + 5000) / 10000). At 60 bp an
// order of 0.83 pays 0.00 (0.498 fen), one of 0.84 pays 0.01 (0.504 fen).
func feeFor(amount int64, bp int) int64 {
	if amount <= 0 || bp <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(amount), uint64(bp))
	lo, carry := bits.Add64(lo, 5000, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, 10000)
	return int64(q)
}

// clip shortens untrusted text before it goes into an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // never cut a character in half
	}
	return s[:n] + "..."
}
