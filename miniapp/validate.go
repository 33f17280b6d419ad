package miniapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"golang.org/x/text/language"
)

// resolvePath turns a reference from the manifest (a page route, an icon
// src, a widget path) into a file name inside the package, or "" when it
// cannot name one.
func resolvePath(ref string) string {
	ref = strings.TrimPrefix(strings.TrimPrefix(ref, "./"), "/")
	if ref == "" || strings.Contains(ref, "://") || strings.HasPrefix(ref, "data:") || checkName(ref) != "" {
		return ""
	}
	return ref
}

// pageFile is the HTML file of a page route: "pages/index" is
// "pages/index.html"; a route that already ends in .html or .htm is the
// file itself.
func pageFile(route string) string {
	f := resolvePath(route)
	if f == "" || strings.HasSuffix(f, ".html") || strings.HasSuffix(f, ".htm") {
		return f
	}
	return f + ".html"
}

// checkContent checks the manifest and the files it names, and records
// warnings in p.Warnings.
func checkContent(p *Package, lim Limits, ps *problems) {
	mf, ok := p.File("manifest.json")
	if !ok {
		ps.add("manifest.json", "missing; every package needs a manifest.json at its root")
		return
	}
	m, errs, warns := ParseManifest(mf.Data)
	p.Warnings = append(p.Warnings, warns...)
	if len(errs) > 0 {
		for _, e := range errs {
			ps.add(e.File, "%s", e.Message)
		}
		return
	}
	p.Manifest = m
	if len(m.Pages) > lim.MaxPages {
		ps.tooBig("manifest.json", "lists %d pages; the limit is %d", len(m.Pages), lim.MaxPages)
	}
	used := map[string]bool{"manifest.json": true, "app.js": true, "app.css": true}
	listed := make(map[string]bool)
	for i, route := range m.Pages {
		f := pageFile(route)
		switch {
		case f == "":
			ps.add("manifest.json", "pages[%d] %q is not a path inside the package", i, route)
			continue
		case listed[f]:
			ps.add("manifest.json", "pages[%d] %q is listed twice", i, route)
			continue
		}
		listed[f] = true
		if _, ok := p.File(f); !ok {
			ps.add(f, "listed in manifest.json pages but not in the package")
		}
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".html"), ".htm")
		used[f], used[base+".css"], used[base+".js"] = true, true, true
	}
	for i, icon := range m.Icons {
		f := resolvePath(icon.Src)
		if f == "" {
			ps.add("manifest.json", "icons[%d].src %q must be a file inside the package", i, icon.Src)
			continue
		}
		if _, ok := p.File(f); !ok {
			ps.add(f, "listed in manifest.json icons but not in the package")
		}
		used[f] = true
	}
	for i, w := range m.Widgets {
		f := pageFile(w.Path)
		if f == "" {
			ps.add("manifest.json", "widgets[%d].path %q must be a file inside the package", i, w.Path)
			continue
		}
		if _, ok := p.File(f); !ok {
			ps.add(f, "listed in manifest.json widgets but not in the package")
		}
		used[f] = true
	}
	for _, f := range p.Files {
		if !strings.HasPrefix(f.Name, "i18n/") {
			continue
		}
		used[f.Name] = true
		tag, isJSON := strings.CutSuffix(strings.TrimPrefix(f.Name, "i18n/"), ".json")
		if !isJSON || strings.Contains(tag, "/") {
			continue // other resources may sit beside the translations
		}
		if _, err := language.Parse(tag); err != nil {
			ps.add(f.Name, "%q is not a BCP 47 language tag; name translations like i18n/en-US.json", tag)
		}
		var v map[string]any
		if err := json.Unmarshal(f.Data, &v); err != nil {
			ps.add(f.Name, "must be a JSON object: %s", jsonErrorAt(f.Data, err))
		}
	}
	if ps.any() {
		return
	}
	warnings(p, lim, used)
}

// warnings records what hurts users without blocking the package: a
// missing app.js or app.css, large images, files nothing refers to, and
// pages nothing links to. The last two are heuristics over the text of the
// package's HTML, CSS, JS and JSON files.
func warnings(p *Package, lim Limits, used map[string]bool) {
	warn := func(file, format string, args ...any) {
		p.Warnings = append(p.Warnings, Problem{File: file, Message: fmt.Sprintf(format, args...)})
	}
	if _, ok := p.File("app.js"); !ok {
		warn("app.js", "missing; W3C MiniApp Packaging expects one (it may be empty)")
	}
	if _, ok := p.File("app.css"); !ok {
		warn("app.css", "missing; W3C MiniApp Packaging expects one (it may be empty)")
	}
	refs := collectRefs(p.Files)
	for _, f := range p.Files {
		if isImage(f.Name) && f.Size > lim.WarnImageBytes {
			warn(f.Name, "image is %s; images over %s slow down the first launch: compress or resize it",
				humanBytes(f.Size), humanBytes(lim.WarnImageBytes))
		}
		if !used[f.Name] && !refs.has(f.Name) {
			warn(f.Name, "nothing in the package refers to this file; remove it to make the package smaller")
		}
	}
	for i, route := range p.Manifest.Pages {
		if i == 0 {
			continue // the entry page is opened by the host
		}
		f := pageFile(route)
		if !refs.has(f) && !refs.has(strings.TrimSuffix(strings.TrimSuffix(f, ".html"), ".htm")) {
			warn(f, "no other file links to this page (e.g. openmini.navigateTo({url: '/%s'}) or <a href>)",
				strings.TrimSuffix(f, ".html"))
		}
	}
}

func isImage(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp", ".svg", ".ico":
		return true
	}
	return false
}

func isText(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".css", ".js", ".mjs", ".json", ".svg", ".xml", ".txt", ".webmanifest":
		return true
	}
	return false
}

// refSet holds path-like tokens found in a package's text files.
type refSet struct {
	paths map[string]bool // tokens with leading "/", "./" and "../" removed
	bases map[string]bool // their last path element
}

// has reports whether name (a file, or a page route without extension)
// looks referred to.
func (r refSet) has(name string) bool {
	return r.paths[name] || r.bases[path.Base(name)] && strings.Contains(path.Base(name), ".")
}

// collectRefs scans text files for runs of path characters. It is a
// linear pass over the bytes, fast enough for packages at the limits.
func collectRefs(files []File) refSet {
	r := refSet{paths: make(map[string]bool), bases: make(map[string]bool)}
	for _, f := range files {
		if !isText(f.Name) || f.Name == "manifest.json" {
			continue // the manifest lists pages; that is not a link to them
		}
		data := f.Data
		for i := 0; i < len(data); {
			if !isPathByte(data[i]) {
				i++
				continue
			}
			j := i
			for j < len(data) && isPathByte(data[j]) {
				j++
			}
			tok := data[i:j]
			i = j
			if bytes.IndexByte(tok, '.') < 0 && bytes.IndexByte(tok, '/') < 0 {
				continue
			}
			for {
				switch {
				case bytes.HasPrefix(tok, []byte("../")):
					tok = tok[3:]
					continue
				case bytes.HasPrefix(tok, []byte("./")):
					tok = tok[2:]
					continue
				case bytes.HasPrefix(tok, []byte("/")):
					tok = tok[1:]
					continue
				}
				break
			}
			if len(tok) == 0 {
				continue
			}
			r.paths[string(tok)] = true
			if k := bytes.LastIndexByte(tok, '/'); k >= 0 {
				r.bases[string(tok[k+1:])] = true
			} else {
				r.bases[string(tok)] = true
			}
		}
	}
	return r
}

func isPathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '/' || c == '@' || c == '~' || c == '+' || c == '%' || c >= 0x80
}
