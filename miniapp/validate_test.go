package miniapp

import (
	"context"
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	lim := DefaultLimits()
	lim.WarnImageBytes = 100
	tests := []struct {
		name    string
		entries []entry
		file    string
		message string
	}{
		{"missing app.css", without("app.css"), "app.css", "missing"},
		{"missing app.js", without("app.js"), "app.js", "missing"},
		{"large image", with(entry{name: "common/icon.png", data: strings.Repeat("x", 101)}), "common/icon.png", "image is 101 bytes"},
		{"unused file", with(entry{name: "common/old.js", data: "x"}), "common/old.js", "nothing in the package refers to this file"},
		{"unlinked page", with(entry{name: "pages/index.html", data: `<p>no links</p><img src="../common/icon.png"><link href="index.css">`}),
			"pages/about.html", "no other file links to this page"},
		{"unknown manifest member", with(entry{name: "manifest.json", data: strings.Replace(testManifest, `"name"`, `"colour": "red", "x_mine": 1, "name"`, 1)}),
			"manifest.json", `unknown member "colour"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := OpenBytes(context.Background(), buildZip(t, tt.entries...), lim)
			if err != nil {
				t.Fatalf("OpenBytes: %v", err)
			}
			if !hasProblem(p.Warnings, tt.file, tt.message) {
				t.Fatalf("warnings = %q; want %q containing %q", p.Warnings, tt.file, tt.message)
			}
			for _, w := range p.Warnings {
				if strings.Contains(w.Message, "x_mine") {
					t.Errorf("namespaced member warned about: %v", w)
				}
			}
		})
	}
}

func TestReferencesFound(t *testing.T) {
	// Each of these ways of referring to a file or page counts as a use.
	es := with(
		entry{name: "pages/index.html", data: `<link href="./index.css"><script src="/common/lib/a.js?v=2"></script><a href="about.html#top">x</a><img src="../common/icon.png">`},
		entry{name: "common/lib/a.js", data: `openmini.navigateTo({url: '/pages/about'}); load("fonts/f.woff2")`},
		entry{name: "common/fonts/f.woff2", data: "font"},
		entry{name: "i18n/zh-Hans.json", data: `{"title": "首页"}`},
	)
	p, err := OpenBytes(context.Background(), buildZip(t, es...), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 {
		t.Fatalf("warnings: %v", p.Warnings)
	}
}

func TestPageRoutes(t *testing.T) {
	for route, want := range map[string]string{
		"pages/index": "pages/index.html", "/pages/index": "pages/index.html", "index.html": "index.html",
		"game/play.htm": "game/play.htm", "../x": "", "https://evil.example/x": "", "": "",
	} {
		if got := pageFile(route); got != want {
			t.Errorf("pageFile(%q) = %q, want %q", route, got, want)
		}
	}
}

// A plain web app: the entry page sits at the root with its own scripts.
func TestPlainWebApp(t *testing.T) {
	es := []entry{
		{name: "manifest.json", data: `{"app_id": "com.example.game", "name": "Game", "icons": [{"src": "/icon.png"}],
			"version": {"code": 3, "name": "3"}, "pages": ["index.html"]}`},
		{name: "index.html", data: `<!doctype html><html><head><link rel="stylesheet" href="css/game.css"></head><body><canvas></canvas><script src="js/game.js"></script></body></html>`},
		{name: "css/game.css", data: "canvas{width:100%}"},
		{name: "js/game.js", data: "requestAnimationFrame(()=>{})"},
		{name: "icon.png", data: "png"},
		{name: "app.js", data: ""},
		{name: "app.css", data: ""},
	}
	p, err := OpenBytes(context.Background(), buildZip(t, es...), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %v", p.Warnings)
	}
}
