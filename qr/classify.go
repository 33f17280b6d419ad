package qr

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/openmini/openmini"
)

// Class says what a string decoded by the scanner is.
type Class string

const (
	// ClassShortLink is one of our short links ({base}/s/{slug}); resolve
	// Scanned.Slug with Service.Resolve.
	ClassShortLink Class = "short_link"
	// ClassLaunch is one of our launch links ({base}/app/{appID}/...);
	// Scanned.Target holds where it leads.
	ClassLaunch Class = "launch"
	// ClassAddressing is a W3C MiniApp Addressing URI
	// (openmini://miniapp/...); Scanned.Target holds where it leads.
	ClassAddressing Class = "addressing"
	// ClassElsewhere is anything else: a foreign URL, plain text, or a link
	// of ours that does not parse. The host shows it as text or as a link
	// the user may choose to follow, never opens it by itself.
	ClassElsewhere Class = "elsewhere"
)

// Scanned is the classification of a decoded string.
type Scanned struct {
	Class  Class  `json:"class"`
	Raw    string `json:"raw"`              // the decoded string as given
	Slug   string `json:"slug,omitempty"`   // ClassShortLink
	Target Target `json:"target,omitzero"`  // ClassLaunch, ClassAddressing
	Link   bool   `json:"link,omitempty"`   // ClassElsewhere: Raw is an http(s) URL the user may follow
	Reason string `json:"reason,omitempty"` // ClassElsewhere: why one of ours was not accepted, safe to show
}

// Classify sorts a string decoded from a QR code. base is the platform's
// public base URL (scheme, host and optional path prefix, e.g.
// "https://mini.example.com"); only links on exactly that scheme and host
// (case-insensitive host, default ports ignored) count as ours. Classify
// never fails: anything it cannot accept is ClassElsewhere.
func Classify(decoded string, base *url.URL) Scanned {
	s := strings.TrimSpace(decoded)
	out := Scanned{Class: ClassElsewhere, Raw: decoded}
	if !utf8.ValidString(s) || len(s) > MaxQueryBytes+2048 {
		out.Reason = "not a link"
		return out
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok && strings.EqualFold(scheme, AddressingScheme) {
		t, err := ParseAddressingURI(s)
		if err != nil {
			out.Reason = openmini.ErrorMessage(err)
			return out
		}
		out.Class, out.Target = ClassAddressing, t
		return out
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return out
	}
	out.Link = true
	if base == nil || !sameOrigin(u, base) {
		return out
	}
	prefix := strings.TrimSuffix(base.EscapedPath(), "/")
	path, ok := strings.CutPrefix(u.EscapedPath(), prefix)
	if !ok {
		return out
	}
	if slug, ok := strings.CutPrefix(path, "/s/"); ok {
		slug = strings.TrimSuffix(slug, "/")
		if !ValidSlug(slug) {
			out.Reason = "malformed short link"
			return out
		}
		out.Class, out.Slug = ClassShortLink, slug
		return out
	}
	if strings.HasPrefix(path, "/app/") {
		t, err := ParseLaunchPath(path, u.RawQuery)
		if err != nil {
			out.Reason = openmini.ErrorMessage(err)
			return out
		}
		out.Class, out.Target = ClassLaunch, t
		return out
	}
	return out
}

// sameOrigin compares scheme and host (case-insensitively, default ports
// dropped).
func sameOrigin(u, base *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) && hostPort(u) == hostPort(base)
}

func hostPort(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case strings.EqualFold(u.Scheme, "http"):
		h = strings.TrimSuffix(h, ":80")
	case strings.EqualFold(u.Scheme, "https"):
		h = strings.TrimSuffix(h, ":443")
	}
	return h
}
