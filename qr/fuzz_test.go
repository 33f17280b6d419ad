package qr

import (
	"net/url"
	"reflect"
	"testing"
)

// FuzzParseAddressingURI feeds the parser arbitrary strings (seeded from
// testdata/fuzz/FuzzParseAddressingURI). Whatever it accepts must be a
// valid target whose addressing URI and launch link both parse back to the
// same target; nothing may panic.
func FuzzParseAddressingURI(f *testing.F) {
	for _, t := range roundTripTargets {
		f.Add(t.AddressingURI())
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAddressingURI(s)
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("%q parsed to an invalid target %+v: %v", s, got, err)
		}
		again, err := ParseAddressingURI(got.AddressingURI())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, got.AddressingURI(), err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("%q: round trip changed the target:\n%+v\n%+v", s, got, again)
		}
		u, err := url.Parse("https://h" + got.LaunchPath())
		if err != nil {
			t.Fatalf("launch path %q is not a URL: %v", got.LaunchPath(), err)
		}
		viaLaunch, err := ParseLaunchPath(u.EscapedPath(), u.RawQuery)
		if err != nil || !reflect.DeepEqual(viaLaunch, got) {
			t.Fatalf("launch path %q gives %+v, %v; want %+v", got.LaunchPath(), viaLaunch, err, got)
		}
	})
}

// FuzzClassify proves the scanner's classifier never panics and only calls
// a string ours when its parts are valid.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"https://mini.example.com/s/Ab3kX9Zq", "https://mini.example.com/app/menu/pages/x?a=1",
		"openmini://miniapp/menu;version=trial/pages/x?k=v", "WIFI:S:x;;", "https://evil.test/",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://mini.example.com")
	f.Fuzz(func(t *testing.T, s string) {
		got := Classify(s, base)
		switch got.Class {
		case ClassShortLink:
			if !ValidSlug(got.Slug) {
				t.Fatalf("%q: short link with bad slug %q", s, got.Slug)
			}
		case ClassLaunch, ClassAddressing:
			if err := got.Target.Validate(); err != nil {
				t.Fatalf("%q: %s with invalid target: %v", s, got.Class, err)
			}
		case ClassElsewhere:
		default:
			t.Fatalf("%q: unknown class %q", s, got.Class)
		}
	})
}
