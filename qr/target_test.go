package qr

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/openmini/openmini"
)

func TestTargetValidate(t *testing.T) {
	page := func(mod func(*Target)) Target {
		t := Target{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"table": "12"}}
		if mod != nil {
			mod(&t)
		}
		return t
	}
	for _, tc := range []struct {
		name string
		t    Target
		code string // "" means valid
		msg  string
	}{
		{"page", page(nil), "", ""},
		{"home page", page(func(t *Target) { t.Page = "" }), "", ""},
		{"leading slash tolerated", page(func(t *Target) { t.Page = "/pages/x" }), "", ""},
		{"trial", Target{Kind: KindTrial, AppID: "menu"}, "", ""},
		{"specific version", page(func(t *Target) { t.Version = "1.2.0" }), "", ""},
		{"collect", Target{Kind: KindCollect, MerchantID: "m_88"}, "", ""},
		{"collect with app", Target{Kind: KindCollect, MerchantID: "m_88", AppID: "menu"}, "", ""},
		{"order", Target{Kind: KindOrder, OrderID: "ord-2026-0001"}, "", ""},
		{"long parameters are fine", page(func(t *Target) { t.Query = map[string]string{"note": strings.Repeat("桌", 500)} }), "", ""},

		{"no kind", Target{AppID: "menu"}, openmini.EINVALID, "kind is missing"},
		{"unknown kind", Target{Kind: "open"}, openmini.EINVALID, `kind "open"`},
		{"no app", page(func(t *Target) { t.AppID = "" }), openmini.EINVALID, "app id is missing"},
		{"upper-case app", page(func(t *Target) { t.AppID = "Menu" }), openmini.EINVALID, "lower-case"},
		{"hyphen app", page(func(t *Target) { t.AppID = "-menu" }), openmini.EINVALID, "hyphen"},
		{"dot-dot page", page(func(t *Target) { t.Page = "pages/../admin" }), openmini.EINVALID, `".."`},
		{"page with query", page(func(t *Target) { t.Page = "pages/x?y=1" }), openmini.EINVALID, "page path"},
		{"empty param name", page(func(t *Target) { t.Query = map[string]string{"": "1"} }), openmini.EINVALID, "empty name"},
		{"control char", page(func(t *Target) { t.Query = map[string]string{"a": "x\ny"} }), openmini.EINVALID, "control"},
		{"query too big", page(func(t *Target) { t.Query = map[string]string{"a": strings.Repeat("x", MaxQueryBytes)} }), openmini.ETOOLARGE, "bytes encoded"},
		{"trial version on page", page(func(t *Target) { t.Version = "trial" }), openmini.EINVALID, "kind \"trial\""},
		{"bad version", page(func(t *Target) { t.Version = "1 2" }), openmini.EINVALID, "version"},
		{"page with merchant", page(func(t *Target) { t.MerchantID = "m" }), openmini.EINVALID, "no merchant"},
		{"collect without merchant", Target{Kind: KindCollect}, openmini.EINVALID, "merchant id is missing"},
		{"collect with page", Target{Kind: KindCollect, MerchantID: "m", Page: "p"}, openmini.EINVALID, "only a merchant id"},
		{"order with bad id", Target{Kind: KindOrder, OrderID: "a/b"}, openmini.EINVALID, "order id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.t.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if openmini.ErrorCode(err) != tc.code || !strings.Contains(openmini.ErrorMessage(err), tc.msg) {
				t.Fatalf("got %v, want %s mentioning %q", err, tc.code, tc.msg)
			}
		})
	}
}

// roundTripTargets are targets whose launch link and addressing URI must
// parse back to themselves.
var roundTripTargets = []Target{
	{Kind: KindPage, AppID: "menu"},
	{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"store": "88", "table": "12"}},
	{Kind: KindPage, AppID: "a1-b2", Page: "pages/deep/er/page.v2", Version: "42"},
	{Kind: KindTrial, AppID: "menu", Page: "pages/index", Version: TrialVersion, Query: map[string]string{"debug": "1"}},
	{Kind: KindPage, AppID: "shop", Page: "pages/item", Query: map[string]string{
		"name": "宫保鸡丁 & 米饭", "q": "a=b&c?d#e f+g%h", "emoji": "🍜", "empty": "", "slash": "x/y",
	}},
}

func TestLaunchPathRoundTrip(t *testing.T) {
	for _, want := range roundTripTargets {
		p := want.LaunchPath()
		u, err := url.Parse("https://mini.example.com" + p)
		if err != nil {
			t.Fatalf("%s: not a URL: %v", p, err)
		}
		got, err := ParseLaunchPath(u.EscapedPath(), u.RawQuery)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", p, got, want)
		}
	}
}

func TestAddressingRoundTrip(t *testing.T) {
	for _, want := range roundTripTargets {
		s := want.AddressingURI()
		if !strings.HasPrefix(s, "openmini://miniapp/"+want.AppID) {
			t.Fatalf("addressing URI %q has the wrong prefix", s)
		}
		got, err := ParseAddressingURI(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, want)
		}
		// The addressing URI and the launch link lead to the same place.
		if got.LaunchPath() != want.LaunchPath() {
			t.Errorf("%s leads to %s, want %s", s, got.LaunchPath(), want.LaunchPath())
		}
	}
}

func TestParseAddressingURI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  string
	}{
		{in: "openmini://miniapp/menu;version=trial/pages/x?k=v",
			want: Target{Kind: KindTrial, AppID: "menu", Page: "pages/x", Version: "trial", Query: map[string]string{"k": "v"}}},
		{in: "OpenMini://MiniApp/menu/pages/x/#frag",
			want: Target{Kind: KindPage, AppID: "menu", Page: "pages/x"}},
		{in: "openmini://miniapp/menu;version=3?a=%E6%A1%8C&b=1+2",
			want: Target{Kind: KindPage, AppID: "menu", Version: "3", Query: map[string]string{"a": "桌", "b": "1 2"}}},
		{in: "openmini://miniapp/menu/pages/%E6%A1%8C", err: "page path"},
		{in: "https://miniapp/menu", err: "scheme"},
		{in: "openmini://other/menu", err: "host"},
		{in: "openmini://miniapp/", err: "no app id"},
		{in: "openmini://miniapp/Menu", err: "lower-case"},
		{in: "openmini://miniapp/menu;lang=en", err: "unknown parameter"},
		{in: "openmini://miniapp/menu;version=", err: "version parameter is empty"},
		{in: "openmini://miniapp/menu;version=1;version=2", err: "twice"},
		{in: "openmini://miniapp/menu/pages/../x", err: `".."`},
		{in: "openmini://miniapp/menu?a=1&a=2", err: "given twice"},
		{in: "openmini://miniapp/menu?a=%zz", err: "bad escape"},
	} {
		got, err := ParseAddressingURI(tc.in)
		if tc.err != "" {
			if openmini.ErrorCode(err) != openmini.EINVALID || !strings.Contains(openmini.ErrorMessage(err), tc.err) {
				t.Errorf("%s: got %v, want invalid mentioning %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestTargetPath(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{Kind: KindPage, AppID: "menu", Page: "pages/order", Query: map[string]string{"table": "12", "store": "88"}}, "/app/menu/pages/order?store=88&table=12"},
		{Target{Kind: KindTrial, AppID: "menu"}, "/app/menu;version=trial/"},
		{Target{Kind: KindCollect, MerchantID: "m_88"}, "/pay/merchant/m_88"},
		{Target{Kind: KindOrder, OrderID: "o-1"}, "/pay/order/o-1"},
	} {
		if got := tc.t.Path(); got != tc.want {
			t.Errorf("%+v: path %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	base, _ := url.Parse("https://mini.example.com")
	prefixed, _ := url.Parse("https://example.com/openmini")
	for _, tc := range []struct {
		in    string
		base  *url.URL
		class Class
		slug  string
		app   string
		link  bool
	}{
		{"https://mini.example.com/s/Ab3kX9Zq", base, ClassShortLink, "Ab3kX9Zq", "", true},
		{"  https://MINI.example.com:443/s/Ab3kX9Zq/  ", base, ClassShortLink, "Ab3kX9Zq", "", true},
		{"https://mini.example.com/app/menu/pages/order?table=12", base, ClassLaunch, "", "menu", true},
		{"https://mini.example.com/app/menu;version=trial/", base, ClassLaunch, "", "menu", true},
		{"openmini://miniapp/menu/pages/x?k=v", base, ClassAddressing, "", "menu", false},
		{"https://example.com/openmini/s/Ab3kX9Zq", prefixed, ClassShortLink, "Ab3kX9Zq", "", true},
		// Ours in shape but not on our origin: elsewhere, shown as a link.
		{"http://mini.example.com/s/Ab3kX9Zq", base, ClassElsewhere, "", "", true},
		{"https://mini.example.com.evil.test/s/Ab3kX9Zq", base, ClassElsewhere, "", "", true},
		{"https://evil.test/s/Ab3kX9Zq", base, ClassElsewhere, "", "", true},
		{"https://example.com/s/Ab3kX9Zq", prefixed, ClassElsewhere, "", "", true},
		// Ours but malformed: elsewhere, with a reason.
		{"https://mini.example.com/s/Ab3k-X9", base, ClassElsewhere, "", "", true},
		{"https://mini.example.com/app/Menu/", base, ClassElsewhere, "", "", true},
		{"openmini://miniapp/", base, ClassElsewhere, "", "", false},
		// Not links at all.
		{"WIFI:S:cafe;T:WPA;P:secret;;", base, ClassElsewhere, "", "", false},
		{"javascript:alert(1)", base, ClassElsewhere, "", "", false},
		{"Table 12", base, ClassElsewhere, "", "", false},
		{"\xff\xfe", base, ClassElsewhere, "", "", false},
	} {
		got := Classify(tc.in, tc.base)
		if got.Class != tc.class || got.Slug != tc.slug || got.Target.AppID != tc.app || got.Link != tc.link {
			t.Errorf("Classify(%q) = %+v, want class %s slug %q app %q link %v", tc.in, got, tc.class, tc.slug, tc.app, tc.link)
		}
		if got.Raw != tc.in {
			t.Errorf("Classify(%q) lost the raw text: %q", tc.in, got.Raw)
		}
	}
	if got := Classify("https://mini.example.com/app/Menu/", base); got.Reason == "" {
		t.Error("a malformed launch link of ours gives no reason")
	}
}
