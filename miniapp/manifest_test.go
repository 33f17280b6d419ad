package miniapp

import (
	"strings"
	"testing"
)

func TestParseManifestFull(t *testing.T) {
	m, errs, warns := ParseManifest([]byte("\xef\xbb\xbf" + `{
  "app_id": "org.example.miniapp", "name": "Example", "short_name": "Ex", "description": "d",
  "icons": [{"src": "common/icon.png", "sizes": "48x48", "label": "icon"}],
  "version": {"code": 2, "name": "1.1"},
  "platform_version": {"min_code": 1, "target_code": 3, "release_type": "Beta1"},
  "pages": ["pages/index"],
  "window": {"background_color": "#fff", "fullscreen": true, "orientation": "landscape", "design_width": 720,
             "navigation_bar_title_text": "Ex", "navigation_bar_text_style": "black"},
  "req_permissions": [{"name": "system.location", "reason": "maps"}],
  "dir": "rtl", "lang": "zh-Hans", "color_scheme": "dark", "device_type": ["phone", "tv"],
  "widgets": [{"name": "w", "path": "widgets/w", "min_code": 2}],
  "x_openmini": {"sdk_version": "1", "category": "tools"}
}`))
	if len(errs) > 0 || len(warns) > 0 {
		t.Fatalf("errs %v warns %v", errs, warns)
	}
	if m.Window.DesignWidth != 720 || !m.Window.Fullscreen || m.PlatformVersion.TargetCode != 3 ||
		m.ReqPermissions[0].Reason != "maps" || m.OpenMini.Category != "tools" || m.Widgets[0].MinCode != 2 {
		t.Errorf("parsed %+v", m)
	}
}

func TestParseManifestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "line 1, column 1: invalid JSON: unexpected end"},
		{`{"a":1} {}`, "unexpected data after the JSON object"},
		{`null`, "must be a JSON object, not null"},
		{`{}`, `required member "app_id" is missing`},
		{`{"app_id": "", "name": "n", "icons": [], "version": {"code": 1, "name": "1"}, "pages": ["p"]}`, "app_id must not be empty"},
		{`{"app_id": "a", "name": "n", "icons": [], "version": {"code": 1, "name": "1"}, "pages": []}`, "pages must list at least one page"},
		{`{"app_id": "a", "name": "n", "icons": [], "version": {"code": 1, "name": "1"}, "pages": ["p"], "lang": "??"}`, "not a BCP 47"},
		{`{"app_id": "a", "name": "n", "icons": [{}], "version": {"code": 1, "name": "1"}, "pages": ["p"]}`, `"icons[0].src" is missing`},
		{`{"app_id": "a", "name": "n", "icons": [], "version": {"code": 1e3, "name": "1"}, "pages": ["p"]}`, `must be an integer, not 1e3`},
		{`{"app_id": "a", "name": "n", "icons": [], "version": {"code": 99999999999999999999, "name": "1"}, "pages": ["p"]}`, `must be an integer`},
		{`{"app_id": "a", "name": "n", "icons": [], "version": {"code": 1, "name": "1"}, "pages": ["p"], "window": {"fullscreen": "yes"}}`, `"window.fullscreen" must be true or false, not a string`},
		{`{"app_id": "a", "name": "n", "icons": [], "version": {"code": 1, "name": "1"}, "pages": ["p"], "x_openmini": []}`, `"x_openmini" must be an object`},
	}
	for _, tt := range tests {
		m, errs, _ := ParseManifest([]byte(tt.in))
		if m != nil {
			t.Errorf("%s: accepted", tt.in)
			continue
		}
		if !hasProblem(errs, "manifest.json", tt.want) {
			t.Errorf("%s: errors %q, want %q", tt.in, errs, tt.want)
		}
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for off, want := range map[int64][2]int{0: {1, 1}, 1: {1, 2}, 3: {2, 1}, 4: {2, 2}, 7: {4, 1}, 100: {4, 3}, -1: {1, 1}} {
		l, c := lineCol(data, off)
		if l != want[0] || c != want[1] {
			t.Errorf("lineCol(%d) = %d,%d want %v", off, l, c, want)
		}
	}
	if s := jsonErrorAt([]byte("{\n\"a\": tru }"), nil); !strings.Contains(s, "invalid JSON") {
		t.Error(s)
	}
}
