package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/host"
)

// The per-app origin, {appID}.{apps domain}, serves only that app's files:
//
//	/_v/{package sha256}/{file}  a file of one version, immutable; pages
//	                             get the openmini SDK injected, so they
//	                             are revalidated (ETag) instead: the SDK
//	                             changes when the server is upgraded
//	/_sdk/{hash}/openmini.js      the JS SDK, configured for this host
//	/_sdk/openmini.mjs            the SDK as an ES module (re-exports the global)
//	/_sdk/openmini.d.ts           the SDK's TypeScript types
//
// Every response carries the app's Content-Security-Policy: frames only
// inside the host, network only to the app's allowed domains.

// appOrigin caches file bytes and assembled pages of stored versions (both
// immutable: keyed by digest), and holds the host runtime's services.
type appOrigin struct {
	files    *lru[[]byte]
	versions *lru[*app.Version]
	host     hostRuntime

	cspMu sync.Mutex
	csp   map[string]cspEntry // app ID -> policy, kept briefly

	assetCSP []string // the Content-Security-Policy header of files that run nothing
}

type cspEntry struct {
	policy string
	at     time.Time
}

// cspTTL bounds how long a changed network allow-list takes to reach every
// replica's responses.
const cspTTL = 2 * time.Second

func newAppOrigin() *appOrigin {
	return &appOrigin{
		files:    newLRU(64<<20, func(b []byte) int64 { return int64(len(b)) + 64 }),
		versions: newLRU(16<<20, func(v *app.Version) int64 { return int64(len(v.Files))*200 + 1024 }),
		csp:      map[string]cspEntry{},
	}
}

// appCSP is the Content-Security-Policy of an app's origin.
func (s *Server) appCSP(ctx context.Context, appID string, extraConnect ...string) (string, error) {
	if s.isDevApp(appID) {
		return s.devCSP(), nil // openmini dev: the project's allow-list
	}
	s.origin.cspMu.Lock()
	e, ok := s.origin.csp[appID]
	s.origin.cspMu.Unlock()
	if ok && time.Since(e.at) < cspTTL && len(extraConnect) == 0 {
		return e.policy, nil
	}
	a, err := s.apps.Get(ctx, appID)
	if err != nil {
		return "", err
	}
	policy := buildCSP(s.HostOrigin(), append(a.AllowedDomains, extraConnect...))
	if len(extraConnect) == 0 {
		s.origin.cspMu.Lock()
		s.origin.csp[appID] = cspEntry{policy: policy, at: time.Now()}
		s.origin.cspMu.Unlock()
	}
	return policy, nil
}

// buildCSP: the app's own files and inline code may run; fetch, XHR,
// WebSocket, images and media reach only the app itself and its allowed
// domains; only the host may frame it; no nested frames, plugins or
// <base>; forms post only to the app or its domains. Allowed domains are
// https origins and, for local development, loopback http origins
// (app.CheckDomains) while the platform itself runs on this machine (a
// platform on a public address never lets a mini program reach services
// on its users' own computers); anything else, and the host's own origin,
// is left out, so a developer cannot open the host's endpoints to their
// app.
func buildCSP(hostOrigin string, allowed []string) string {
	net := "'self'"
	localHost := loopbackHTTP(hostOrigin)
	for _, d := range allowed {
		// "https://*.example.com" is a CSP wildcard; no other * may pass.
		if !(strings.HasPrefix(d, "https://") || localHost && loopbackHTTP(d)) || strings.ContainsAny(strings.Replace(d, "://*.", "://", 1), " ;,'*\\\n\r\t") || d == hostOrigin {
			continue
		}
		net += " " + d
	}
	return "default-src 'self'; " +
		"script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; " +
		"style-src 'self' 'unsafe-inline'; " +
		"img-src " + net + " data: blob:; " +
		"media-src " + net + " data: blob:; " +
		"font-src 'self' data:; " +
		"connect-src " + net + "; " +
		"worker-src 'self' blob:; " +
		"frame-src 'none'; " +
		"object-src 'none'; " +
		"base-uri 'self'; " +
		"form-action " + net + "; " +
		"frame-ancestors " + hostOrigin
}

// assetCSP is the policy of an app origin's files that are neither a
// document nor a script: nothing may load or run (SVG keeps its inline
// styles and its own images), framed only by the host.
func assetCSP(hostOrigin string) string {
	return "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors " + hostOrigin
}

// runsAsDocument reports whether a package file runs under the app's own
// policy: HTML documents, and scripts (a worker runs under its script's
// policy).
func runsAsDocument(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".js", ".mjs":
		return true
	}
	return false
}

// loopbackHTTP reports whether d is a loopback http origin that
// app.CheckDomains lets a developer allow for their own server during
// local development: http://localhost, http://127.0.0.1 or http://[::1],
// with an optional port.
func loopbackHTTP(d string) bool {
	for _, h := range []string{"http://localhost", "http://127.0.0.1", "http://[::1]"} {
		if rest, ok := strings.CutPrefix(d, h); ok && (rest == "" || rest[0] == ':') {
			return true
		}
	}
	return false
}

func (s *Server) serveAppOrigin(w http.ResponseWriter, r *http.Request, appID string) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Content-Security-Policy", buildCSP(s.HostOrigin(), nil))
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "mini program origins serve files only"))
		return
	}
	csp, err := s.appCSP(r.Context(), appID)
	if err != nil {
		h.Set("Content-Security-Policy", buildCSP(s.HostOrigin(), nil))
		s.renderError(w, r, err)
		return
	}
	h.Set("Content-Security-Policy", csp)
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_sdk/"):
		s.serveSDK(w, r)
	case strings.HasPrefix(p, "/_v/"):
		rest := strings.TrimPrefix(p, "/_v/")
		sha, file, ok := strings.Cut(rest, "/")
		if ok && sha == devDigest && s.isDevApp(appID) {
			s.serveDevFile(w, r, file) // openmini dev: the project on disk
			return
		}
		if !ok || len(sha) != 64 {
			s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no such file in mini program %s", appID))
			return
		}
		s.serveVersionFile(w, r, appID, sha, file)
	default:
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no such file in mini program %s", appID))
	}
}

// storedVersion returns the version of appID with package digest sha.
func (s *Server) storedVersion(ctx context.Context, appID, sha string) (*app.Version, error) {
	key := appID + "/" + sha
	if v, ok := s.origin.versions.Get(key); ok {
		return v, nil
	}
	v, err := s.apps.VersionBySHA(ctx, appID, sha)
	if err != nil {
		return nil, err
	}
	s.origin.versions.Add(key, &v)
	return &v, nil
}

func (s *Server) serveVersionFile(w http.ResponseWriter, r *http.Request, appID, sha, name string) {
	ctx := r.Context()
	v, err := s.storedVersion(ctx, appID, sha)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if name == "" {
		name = host.PageFile(v.Manifest.Pages[0])
	}
	fv, ok := v.File(name)
	f := &fv
	if !ok {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no file %s in version %s of %s", name, v.Version, appID))
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(name))
	if !runsAsDocument(name) {
		// Nothing in this file can run with the app's policy (an image, a
		// stylesheet, data): a short policy that lets it run nothing at
		// all, should it be opened on its own, and no opener policy.
		h["Content-Security-Policy"] = s.origin.assetCSP
		h.Del("Cross-Origin-Opener-Policy")
	}
	if isPage(v, name) {
		h.Set("Cache-Control", "no-cache")
		body, err := s.cachedBlob(ctx, "page:"+f.Key, func() ([]byte, error) {
			raw, err := s.readFileBlob(ctx, f, f.Key)
			if err != nil {
				return nil, err
			}
			return assemblePage(raw, s.sdk().body), nil
		})
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		sum := sha256.Sum256(body)
		h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
		serveBytes(w, r, body)
		return
	}
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+f.SHA256+`"`)
	h.Add("Vary", "Accept-Encoding")
	key := f.Key
	if f.GzipKey != "" && r.Header.Get("Range") == "" && acceptsGzip(r) {
		key = f.GzipKey
		h.Set("Content-Encoding", "gzip")
		h.Set("ETag", `"`+f.SHA256+`-gz"`)
	}
	body, err := s.cachedBlob(ctx, key, func() ([]byte, error) { return s.readFileBlob(ctx, f, key) })
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	serveBytes(w, r, body)
}

// serveBytes answers with body. Plain GETs (the common case for immutable
// files) are written in one call; conditional and Range requests go
// through http.ServeContent.
func serveBytes(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get("Range") != "" || r.Header.Get("If-Range") != "" || r.Header.Get("If-Modified-Since") != "" {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		etag := w.Header().Get("ETag")
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/")); t == etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

func (s *Server) cachedBlob(ctx context.Context, key string, load func() ([]byte, error)) ([]byte, error) {
	if b, ok := s.origin.files.Get(key); ok {
		return b, nil
	}
	b, err := load()
	if err != nil {
		return nil, err
	}
	s.origin.files.Add(key, b)
	return b, nil
}

func (s *Server) readBlob(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := s.blob.Get(ctx, key)
	if err != nil {
		code := openmini.EUNAVAILABLE
		if errorsIs(err, blob.ErrNotFound) {
			code = openmini.EINTERNAL
		}
		return nil, &openmini.Error{Code: code, Message: "package file unavailable", Err: err}
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// readFileBlob reads a file of a version from the blob store (key is the
// file's or its gzip copy's) and checks it against the file's digest in
// the version's file list, which the launcher checked against the signed
// package: a blob changed in storage is never served.
func (s *Server) readFileBlob(ctx context.Context, f *app.File, key string) ([]byte, error) {
	b, err := s.readBlob(ctx, key)
	if err != nil {
		return nil, err
	}
	plain := b
	if key != f.Key {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err == nil {
			plain, err = io.ReadAll(io.LimitReader(zr, f.Size+1))
		}
		if err != nil {
			return nil, &openmini.Error{Code: openmini.EINTERNAL, Message: "package file damaged", Err: err}
		}
	}
	if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, &openmini.Error{Code: openmini.EINTERNAL, Message: "package file damaged", Err: fmt.Errorf("blob %s does not match %s's digest", key, f.Name)}
	}
	return b, nil
}

func isPage(v *app.Version, name string) bool {
	for _, p := range v.Manifest.Pages {
		if host.PageFile(p) == name {
			return true
		}
	}
	return false
}

func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".wasm":
		return "application/wasm"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// assemblePage makes a page ready to run in the host: the SDK goes first
// in <head>, inline (one request less on a cold launch, where a script
// in <head> would hold up the page); a page whose <body> holds only a
// <template> (the W3C MiniApp form) gets that template's content as its
// body.
func assemblePage(raw []byte, sdk []byte) []byte {
	doc, err := html.Parse(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	var head, body *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "head":
				if head == nil {
					head = n
				}
			case "body":
				if body == nil {
					body = n
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if head == nil || body == nil {
		return raw
	}
	script := &html.Node{Type: html.ElementNode, Data: "script", Attr: []html.Attribute{{Key: "data-openmini-sdk", Val: "1"}}}
	script.AppendChild(&html.Node{Type: html.RawNode, Data: string(sdk)})
	head.InsertBefore(script, head.FirstChild)
	if tmpl := onlyTemplate(body); tmpl != nil {
		body.RemoveChild(tmpl)
		content := tmpl.FirstChild
		// html.Parse keeps a template's children under the template node.
		for c := content; c != nil; {
			next := c.NextSibling
			tmpl.RemoveChild(c)
			body.AppendChild(c)
			c = next
		}
	}
	var buf bytes.Buffer
	if err := html.Render(&buf, doc); err != nil {
		return raw
	}
	return buf.Bytes()
}

// onlyTemplate returns body's one <template> child when nothing else but
// whitespace and comments sits beside it (scripts are allowed after it).
func onlyTemplate(body *html.Node) *html.Node {
	var tmpl *html.Node
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode && strings.TrimSpace(c.Data) == "", c.Type == html.CommentNode:
		case c.Type == html.ElementNode && c.Data == "template" && tmpl == nil:
			tmpl = c
		case c.Type == html.ElementNode && c.Data == "script":
		default:
			return nil
		}
	}
	return tmpl
}

// SDKTypes returns the SDK's TypeScript types, the openmini.d.ts that app
// origins serve at /_sdk/openmini.d.ts (openmini init writes it into new
// projects for editors).
func SDKTypes() []byte {
	b, err := staticFS.ReadFile("static/sdk/openmini.d.ts")
	if err != nil {
		panic(err) // embedded: a build-time fact
	}
	return b
}

// sdkScript is the SDK as served on app origins: the static file with the
// host's exact origin baked in, so the bridge can name its target.
type sdkScript struct {
	once   sync.Once
	body   []byte // openmini.js with the host's origin
	url    string // /_sdk/{hash}/openmini.js
	module []byte // openmini.mjs, importing this host's openmini.js
	types  []byte // openmini.d.ts
}

func (s *Server) sdk() *sdkScript {
	s.sdkJS.once.Do(func() {
		src, err := staticFS.ReadFile("static/sdk/openmini.js")
		if err != nil {
			panic(err)
		}
		cfg := "var __OPENMINI_HOST__ = " + strconv.Quote(s.HostOrigin()) + ";\n"
		if bytes.Contains(src, []byte("</script")) || strings.ContainsAny(s.HostOrigin(), "<>") {
			panic("the SDK cannot be inlined into pages") // a build-time fact, checked by every page test
		}
		s.sdkJS.body = append([]byte(cfg), src...)
		sum := sha256.Sum256(s.sdkJS.body)
		s.sdkJS.url = "/_sdk/" + hex.EncodeToString(sum[:6]) + "/openmini.js"
		mod, err := staticFS.ReadFile("static/sdk/openmini.mjs")
		if err != nil {
			panic(err)
		}
		s.sdkJS.module = bytes.ReplaceAll(mod, []byte("/_sdk/openmini.js"), []byte(s.sdkJS.url))
		s.sdkJS.types = SDKTypes()
	})
	return &s.sdkJS
}

// serveSDK serves the SDK files of app origins: the script pages load
// (under its content hash, cached for ever), the ES module and the
// TypeScript types (revalidated with their ETag).
func (s *Server) serveSDK(w http.ResponseWriter, r *http.Request) {
	sd := s.sdk()
	h := w.Header()
	var body []byte
	switch r.URL.Path {
	case sd.url:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		body = sd.body
	case "/_sdk/openmini.js":
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		body = sd.body
	case "/_sdk/openmini.mjs":
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		body = sd.module
	case "/_sdk/openmini.d.ts":
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "application/typescript; charset=utf-8")
		body = sd.types
	default:
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no SDK file %s (openmini.js, openmini.mjs, openmini.d.ts)", r.URL.Path))
		return
	}
	sum := sha256.Sum256(body)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
