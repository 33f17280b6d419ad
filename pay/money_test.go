package pay

import (
	"math"
	"strings"
	"testing"

	"github.com/openmini/openmini"
)

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		want     string
	}{
		{0, "CNY", "0.00"}, {1, "CNY", "0.01"}, {99, "CNY", "0.99"}, {100, "CNY", "1.00"}, {123456, "CNY", "1234.56"},
		{-1, "CNY", "-0.01"}, {-123456, "CNY", "-1234.56"}, {500, "JPY", "500"},
		{math.MinInt64, "CNY", "-92233720368547758.08"}, {math.MaxInt64, "USD", "92233720368547758.07"},
	}
	for _, tc := range tests {
		if got := FormatAmount(tc.amount, tc.currency); got != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		code string
	}{
		{"12", 1200, ""}, {"12.3", 1230, ""}, {"12.34", 1234, ""}, {"0.01", 1, ""}, {"007.50", 750, ""},
		{"12.345", 0, openmini.EINVALID}, {"-1", 0, openmini.EINVALID}, {"+1", 0, openmini.EINVALID}, {"1e3", 0, openmini.EINVALID},
		{"", 0, openmini.EINVALID}, {".5", 0, openmini.EINVALID}, {"5.", 0, openmini.EINVALID}, {"1,000", 0, openmini.EINVALID},
		{"0", 0, openmini.EINVALID}, {"0.00", 0, openmini.EINVALID}, {" 1", 0, openmini.EINVALID}, {"１２", 0, openmini.EINVALID},
		{"10000.01", 0, openmini.ETOOLARGE}, {"99999999999999999999", 0, openmini.EINVALID},
	}
	for _, tc := range tests {
		got, err := ParseAmount(tc.in, "CNY", 10000_00)
		if openmini.ErrorCode(err) != tc.code || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, code %q", tc.in, got, err, tc.want, tc.code)
		}
	}
	if v, err := ParseAmount("500", "JPY", 1000); err != nil || v != 500 {
		t.Errorf("JPY 500: %d, %v", v, err)
	}
	if _, err := ParseAmount("5.0", "JPY", 1000); openmini.ErrorCode(err) != openmini.EINVALID {
		t.Errorf("JPY with decimals accepted: %v", err)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.34", "0.01", "1e3", "-1", "99999999999999999999.99", ".", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseAmount(s, "CNY", 1_000_000_000)
		if err != nil {
			if openmini.ErrorCode(err) == openmini.EINTERNAL {
				t.Fatalf("ParseAmount(%q): untyped error %v", s, err)
			}
			return
		}
		if v <= 0 || v > 1_000_000_000 {
			t.Fatalf("ParseAmount(%q) = %d outside the limits", s, v)
		}
		// What was accepted formats back to the same number.
		back := FormatAmount(v, "CNY")
		norm := strings.TrimLeft(s, "0")
		if !strings.Contains(norm, ".") {
			norm += ".00"
		} else if i := strings.Index(norm, "."); len(norm)-i == 2 {
			norm += "0"
		}
		if strings.HasPrefix(norm, ".") {
			norm = "0" + norm
		}
		if back != norm {
			t.Fatalf("ParseAmount(%q) = %d, formats as %q, want %q", s, v, back, norm)
		}
	})
}

func TestFeeRounding(t *testing.T) {
	tests := []struct {
		amount int64
		bp     int
		want   int64
	}{
		{10000, 60, 60}, // 100.00 at 0.6% = 0.60
		{83, 60, 0},     // 0.498 fen rounds down
		{84, 60, 1},     // 0.504 fen rounds up
		{250, 20, 1},    // exactly 0.5 fen rounds up (half up)
		{249, 20, 0},    // 0.498
		{3850, 60, 23},  // 23.1
		{1, 10000, 1},   // 100%
		{12345, 0, 0},   // waived
		{1_000_000_000_000, 10000, 1_000_000_000_000},
	}
	for _, tc := range tests {
		if got := feeFor(tc.amount, tc.bp); got != tc.want {
			t.Errorf("feeFor(%d, %d) = %d, want %d", tc.amount, tc.bp, got, tc.want)
		}
	}
	// mulDiv stays exact where a*b overflows int64.
	if got := mulDiv(1_000_000_000_000, 999_999_999_999, 1_000_000_000_000); got != 999_999_999_999 {
		t.Errorf("mulDiv overflowed: %d", got)
	}
}
