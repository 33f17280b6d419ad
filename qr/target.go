// Package qr holds QR codes and short links: what a code points at (a
// Target), the codes themselves stored behind random short-link slugs, their
// rendering to PNG, SVG, ZIP and printable PDF kits, scan statistics, W3C
// MiniApp Addressing URIs, and the classification of whatever a scanner
// decoded.
//
// The web layer mounts thin handlers on the Service: /s/{slug} calls
// Resolve, the launch route calls ParseLaunchPath, the scanner calls
// Classify.
package qr

import (
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/openmini/openmini"
)

// Kind says what a code does when scanned.
type Kind string

const (
	// KindPage opens a page of an app's released version (or of the version
	// named in Target.Version) with query parameters.
	KindPage Kind = "page"
	// KindTrial opens a page of an app's trial version (testers only; the
	// host enforces that).
	KindTrial Kind = "trial"
	// KindCollect is a merchant collection code: pay this merchant an amount
	// the payer types.
	KindCollect Kind = "collect"
	// KindOrder is an order code: pay this order (a bill) created by a
	// merchant's server.
	KindOrder Kind = "order"
)

// TrialVersion is the Target.Version of a trial target, and the W3C
// addressing ";version=" value that selects it.
const TrialVersion = "trial"

// Limits on targets. Parameters live on the server, so they are generous;
// the limits only stop abuse.
const (
	MaxPageLen    = 256  // bytes of a page path
	MaxParams     = 64   // query parameters
	MaxParamKey   = 64   // bytes of one parameter name
	MaxQueryBytes = 8192 // bytes of the encoded query
	MaxRefLen     = 128  // bytes of a merchant or order id
	MaxVersionLen = 64   // bytes of a version
)

// Target is what a code points at. Exactly the fields of its Kind are set:
// AppID, Page, Query and Version for page and trial codes; MerchantID for
// collection codes; OrderID for order codes.
type Target struct {
	Kind       Kind              `json:"kind"`
	AppID      string            `json:"app_id,omitempty"`
	Page       string            `json:"page,omitempty"` // "pages/menu/index", no leading slash; "" is the app's home page
	Query      map[string]string `json:"query,omitempty"`
	Version    string            `json:"version,omitempty"` // "" the released version; "trial" for KindTrial; a version code otherwise
	MerchantID string            `json:"merchant_id,omitempty"`
	OrderID    string            `json:"order_id,omitempty"`
}

func invalid(format string, args ...any) error {
	return openmini.Errorf(openmini.EINVALID, format, args...)
}

// Validate reports the first problem with t as an *openmini.Error with code
// invalid (or too_large), naming the field. A valid target has only the
// fields of its kind set.
func (t Target) Validate() error {
	switch t.Kind {
	case KindPage, KindTrial:
		if err := CheckAppID(t.AppID); err != nil {
			return err
		}
		if err := CheckPage(t.Page); err != nil {
			return err
		}
		if err := checkQuery(t.Query); err != nil {
			return err
		}
		if t.Kind == KindTrial && t.Version != "" && t.Version != TrialVersion {
			return invalid("target version: a trial code opens the trial version; leave version empty")
		}
		if t.Kind == KindPage {
			if t.Version == TrialVersion {
				return invalid("target version: use kind %q for the trial version", KindTrial)
			}
			if err := checkVersion(t.Version); err != nil {
				return err
			}
		}
		if t.MerchantID != "" || t.OrderID != "" {
			return invalid("target: a %s code has no merchant or order id", t.Kind)
		}
	case KindCollect:
		if err := checkRef("merchant id", t.MerchantID); err != nil {
			return err
		}
		if t.OrderID != "" || t.Page != "" || len(t.Query) > 0 || t.Version != "" {
			return invalid("target: a collection code has only a merchant id (and optionally an app id)")
		}
		if t.AppID != "" {
			if err := CheckAppID(t.AppID); err != nil {
				return err
			}
		}
	case KindOrder:
		if err := checkRef("order id", t.OrderID); err != nil {
			return err
		}
		if t.MerchantID != "" || t.Page != "" || len(t.Query) > 0 || t.Version != "" {
			return invalid("target: an order code has only an order id (and optionally an app id)")
		}
		if t.AppID != "" {
			if err := CheckAppID(t.AppID); err != nil {
				return err
			}
		}
	case "":
		return invalid("target kind is missing: want page, trial, collect or order")
	default:
		return invalid("target kind %q is unknown: want page, trial, collect or order", t.Kind)
	}
	return nil
}

// normalize returns t with the trial version filled in and an empty query
// map dropped, so equal targets compare equal.
func (t Target) normalize() Target {
	if t.Kind == KindTrial {
		t.Version = TrialVersion
	}
	if len(t.Query) == 0 {
		t.Query = nil
	}
	t.Page = strings.TrimPrefix(t.Page, "/")
	return t
}

// CheckAppID reports whether id is a valid app id: a DNS label of 1 to 63
// lower-case letters, digits and hyphens, not starting or ending with a
// hyphen (it becomes the app's origin).
func CheckAppID(id string) error {
	if id == "" {
		return invalid("app id is missing")
	}
	if len(id) > 63 {
		return invalid("app id %q is longer than 63 characters", truncate(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return invalid("app id %q: only lower-case letters, digits and hyphens are allowed", truncate(id))
		}
	}
	if id[0] == '-' || id[len(id)-1] == '-' {
		return invalid("app id %q must not start or end with a hyphen", id)
	}
	return nil
}

// CheckPage reports whether p is a valid page path: "" (the home page) or
// slash-separated segments of letters, digits, '_', '-' and '.', without
// empty, "." or ".." segments, at most MaxPageLen bytes. A leading slash is
// tolerated.
func CheckPage(p string) error {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	if len(p) > MaxPageLen {
		return openmini.Errorf(openmini.ETOOLARGE, "page path is longer than %d bytes", MaxPageLen)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return invalid("page path %q has an empty, \".\" or \"..\" segment", truncate(p))
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
				return invalid("page path %q: only letters, digits, '_', '-', '.' and '/' are allowed", truncate(p))
			}
		}
	}
	return nil
}

func checkQuery(q map[string]string) error {
	if len(q) > MaxParams {
		return openmini.Errorf(openmini.ETOOLARGE, "query has %d parameters; at most %d are allowed", len(q), MaxParams)
	}
	for k, v := range q {
		switch {
		case k == "":
			return invalid("query has a parameter with an empty name")
		case len(k) > MaxParamKey:
			return invalid("query parameter name %q is longer than %d bytes", truncate(k), MaxParamKey)
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return invalid("query parameter %q is not valid UTF-8", truncate(k))
		case hasControl(k) || hasControl(v):
			return invalid("query parameter %q contains a control character", truncate(k))
		}
	}
	if n := len(encodeQuery(q)); n > MaxQueryBytes {
		return openmini.Errorf(openmini.ETOOLARGE, "query is %d bytes encoded; at most %d are allowed", n, MaxQueryBytes)
	}
	return nil
}

func checkRef(what, ref string) error {
	if ref == "" {
		return invalid("target %s is missing", what)
	}
	if len(ref) > MaxRefLen {
		return invalid("target %s is longer than %d bytes", what, MaxRefLen)
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return invalid("target %s %q: only letters, digits, '_', '-' and '.' are allowed", what, truncate(ref))
		}
	}
	return nil
}

func checkVersion(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > MaxVersionLen {
		return invalid("version is longer than %d bytes", MaxVersionLen)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '+') {
			return invalid("version %q: only letters, digits, '_', '-', '.' and '+' are allowed", truncate(v))
		}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func truncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// encodeQuery encodes q as a URL query with keys sorted, spaces as %20, so
// the same map always gives the same string.
func encodeQuery(q map[string]string) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(queryEscape(k))
		b.WriteByte('=')
		b.WriteString(queryEscape(q[k]))
	}
	return b.String()
}

// queryEscape escapes a query value; url.QueryEscape with %20 for spaces and
// '&', '=', '+' and '#' escaped.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// decodeQuery parses a raw query into a map. A key given twice is refused,
// as are malformed escapes, so a parsed link never silently loses a value.
func decodeQuery(raw string) (map[string]string, error) {
	if raw == "" {
		return nil, nil
	}
	q := map[string]string{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, invalid("query parameter %q: bad escape", truncate(k))
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, invalid("query parameter %q: bad escape in its value", truncate(key))
		}
		if _, dup := q[key]; dup {
			return nil, invalid("query parameter %q is given twice", truncate(key))
		}
		q[key] = val
	}
	if len(q) == 0 {
		return nil, nil
	}
	if err := checkQuery(q); err != nil {
		return nil, err
	}
	return q, nil
}

// Path is the host-relative URL a scanned code leads to:
//
//	page/trial  /app/{appID}[;version={v}]/{page}?{query}  (see LaunchPath)
//	collect     /pay/merchant/{merchantID}
//	order       /pay/order/{orderID}
//
// The web layer mounts these routes; the payments layer serves the last two.
func (t Target) Path() string {
	switch t.Kind {
	case KindCollect:
		return "/pay/merchant/" + url.PathEscape(t.MerchantID)
	case KindOrder:
		return "/pay/order/" + url.PathEscape(t.OrderID)
	}
	return t.LaunchPath()
}

// LaunchPath returns the launch link of a page or trial target:
// "/app/{appID}/{page}?{query}", with ";version={v}" after the app id when
// a version is chosen (";version=trial" for trial targets), the same shape
// as a W3C MiniApp Addressing URI. ParseLaunchPath reverses it.
func (t Target) LaunchPath() string {
	t = t.normalize()
	var b strings.Builder
	b.WriteString("/app/")
	b.WriteString(t.AppID)
	if t.Version != "" {
		b.WriteString(";version=")
		b.WriteString(t.Version)
	}
	b.WriteByte('/')
	b.WriteString(t.Page)
	if q := encodeQuery(t.Query); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// ParseLaunchPath parses the path and raw query of a launch link (as
// produced by LaunchPath, e.g. from r.URL.EscapedPath() and r.URL.RawQuery)
// into a page or trial target. Errors are *openmini.Error with code invalid
// and say what is wrong.
func ParseLaunchPath(escapedPath, rawQuery string) (Target, error) {
	rest, ok := strings.CutPrefix(escapedPath, "/app/")
	if !ok {
		return Target{}, invalid("launch link %q does not start with /app/", truncate(escapedPath))
	}
	return parseAppPath(rest, rawQuery, "launch link")
}

// parseAppPath parses "{appID}[;version=v][/{page}]" plus a raw query.
func parseAppPath(rest, rawQuery, what string) (Target, error) {
	head, page, _ := strings.Cut(rest, "/")
	appID, params, hasParams := strings.Cut(head, ";")
	t := Target{Kind: KindPage, AppID: appID}
	if err := CheckAppID(appID); err != nil {
		return Target{}, invalid("%s: %s", what, openmini.ErrorMessage(err))
	}
	if hasParams {
		for _, p := range strings.Split(params, ";") {
			name, val, _ := strings.Cut(p, "=")
			if name != "version" {
				return Target{}, invalid("%s: unknown parameter %q after the app id (only version is known)", what, truncate(name))
			}
			v, err := url.PathUnescape(val)
			if err != nil || v == "" {
				return Target{}, invalid("%s: the version parameter is empty or badly escaped", what)
			}
			if t.Version != "" {
				return Target{}, invalid("%s: version is given twice", what)
			}
			if err := checkVersion(v); err != nil {
				return Target{}, invalid("%s: %s", what, openmini.ErrorMessage(err))
			}
			t.Version = v
		}
	}
	if t.Version == TrialVersion {
		t.Kind = KindTrial
	}
	p, err := url.PathUnescape(page)
	if err != nil {
		return Target{}, invalid("%s: the page path is badly escaped", what)
	}
	p = strings.TrimSuffix(p, "/")
	if err := CheckPage(p); err != nil {
		return Target{}, invalid("%s: %s", what, openmini.ErrorMessage(err))
	}
	t.Page = p
	q, err := decodeQuery(rawQuery)
	if err != nil {
		return Target{}, invalid("%s: %s", what, openmini.ErrorMessage(err))
	}
	t.Query = q
	return t.normalize(), nil
}

// AddressingScheme and AddressingHost make up the prefix of the W3C MiniApp
// Addressing URIs this platform reads and writes:
// "openmini://miniapp/{appID};version={v}/{page}?{query}".
const (
	AddressingScheme = "openmini"
	AddressingHost   = "miniapp"
)

// AddressingURI returns t, a page or trial target, as a W3C MiniApp
// Addressing URI: openmini://miniapp/{appID}[;version={v}]/{page}?{query}.
// ParseAddressingURI reverses it.
func (t Target) AddressingURI() string {
	return AddressingScheme + "://" + AddressingHost + strings.TrimPrefix(t.LaunchPath(), "/app")
}

// ParseAddressingURI parses a W3C MiniApp Addressing URI of this platform,
// openmini://miniapp/{appID}[;version={v}][/{page}][?{query}][#{fragment}],
// into the same page or trial target its launch link gives (the fragment is
// ignored). Scheme and host match case-insensitively; everything else is
// case-sensitive. Errors are *openmini.Error with code invalid.
func ParseAddressingURI(s string) (Target, error) {
	if len(s) > MaxQueryBytes+1024 {
		return Target{}, openmini.Errorf(openmini.ETOOLARGE, "addressing URI is longer than %d bytes", MaxQueryBytes+1024)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !strings.EqualFold(scheme, AddressingScheme) {
		return Target{}, invalid("addressing URI %q: want the %s:// scheme", truncate(s), AddressingScheme)
	}
	host, rest, ok := strings.Cut(rest, "/")
	if !strings.EqualFold(host, AddressingHost) {
		return Target{}, invalid("addressing URI %q: want host %q", truncate(s), AddressingHost)
	}
	if !ok || rest == "" {
		return Target{}, invalid("addressing URI %q has no app id", truncate(s))
	}
	rest, _, _ = strings.Cut(rest, "#")
	path, rawQuery, _ := strings.Cut(rest, "?")
	return parseAppPath(path, rawQuery, "addressing URI")
}
