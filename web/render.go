package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/miniapp"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

// Languages the pages speak. English is the fallback.
var supported = []language.Tag{language.English, language.MustParse("zh-Hans")}
var langMatcher = language.NewMatcher(supported)

// catalogs maps a language code to its English -> translation table.
var catalogs = map[string]map[string]string{}

func init() {
	// Each surface keeps its own catalog file, i18n/zh-Hans.<surface>.json;
	// they are merged here. A key defined twice must agree.
	zh := map[string]string{}
	files, _ := fs.Glob(i18nFS, "i18n/zh-Hans*.json")
	for _, f := range files {
		b, err := i18nFS.ReadFile(f)
		if err != nil {
			panic(err)
		}
		part := map[string]string{}
		if err := json.Unmarshal(b, &part); err != nil {
			panic(fmt.Sprintf("%s: %v", f, err))
		}
		for k, v := range part {
			if old, dup := zh[k]; dup && old != v {
				panic(fmt.Sprintf("%s: %q translated twice, as %q and %q", f, k, old, v))
			}
			zh[k] = v
		}
	}
	catalogs["zh-Hans"] = zh
}

// translate returns msg in lang, formatted with args; English when missing.
func translate(lang, msg string, args ...any) string {
	if c := catalogs[lang]; c != nil {
		if t, ok := c[msg]; ok && t != "" {
			msg = t
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// requestLang picks the page language: ?lang=, the lang cookie, then
// Accept-Language.
func requestLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "zh-Hans" {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "en" || c.Value == "zh-Hans") {
		return c.Value
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, conf := langMatcher.Match(tags...)
	if conf != language.No && i == 1 {
		return "zh-Hans"
	}
	return "en"
}

// assets maps a static file name to its content-hashed URL.
var assets = map[string]string{}

func init() {
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := staticFS.ReadFile(p)
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		assets[name] = "/static/" + hex.EncodeToString(sum[:6]) + "/" + name
		return nil
	})
}

// assetURL returns the immutable URL of a static file; it panics on an
// unknown name so a typo fails every test that renders the page.
func assetURL(name string) string {
	u, ok := assets[name]
	if !ok {
		panic("web: unknown static asset " + name)
	}
	return u
}

// serveStatic serves /static/{hash}/{name...}. Any hash serves the current
// file, but only the current hash is cached forever.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "..") {
		http.NotFound(w, r)
		return
	}
	if assets[name] == r.URL.Path {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// view is what every page template receives.
type view struct {
	Lang    string
	Title   string
	Account *account.Account
	Path    string // the request path with query, for the language switch
	Flash   string
	Error   string
	Data    any
}

// T translates msg into the page's language.
func (v *view) T(msg string, args ...any) string { return translate(v.Lang, msg, args...) }

// LangURL is the current page in another language.
func (v *view) LangURL(lang string) string {
	u := v.Path
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return u + "?lang=" + lang
}

type templates struct {
	pages map[string]*template.Template
	entry map[string]string // the template to execute for each page
}

var funcs = template.FuncMap{
	"asset": assetURL,
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"json": func(v any) (template.JS, error) {
		b, err := json.Marshal(v)
		return template.JS(b), err
	},
}

// loadTemplates parses layout.html with each page. Pages named host*.html
// are whole documents of their own (the host web app has its own shell).
func loadTemplates() (*templates, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}, entry: map[string]string{}}
	for _, p := range pages {
		file := path.Base(p)
		name := strings.TrimSuffix(file, ".html")
		if name == "layout" {
			continue
		}
		var pt *template.Template
		if strings.HasPrefix(name, "host") {
			pt, err = template.New(file).Funcs(funcs).ParseFS(templateFS, p)
			t.entry[name] = file
		} else {
			pt, err = template.Must(base.Clone()).ParseFS(templateFS, p)
			t.entry[name] = "layout.html"
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", p, err)
		}
		t.pages[name] = pt
	}
	return t, nil
}

// newView starts a page's data with the request's language and account.
func (s *Server) newView(r *http.Request, title string, data any) *view {
	v := &view{Lang: requestLang(r), Path: r.URL.RequestURI(), Data: data}
	v.Title = v.T(title)
	if a, ok := accountFrom(r.Context()); ok {
		v.Account = &a
	}
	return v
}

// render writes a page. Rendering happens into a buffer first so a
// template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	t, ok := s.tmpl.pages[page]
	if !ok {
		s.renderError(w, r, fmt.Errorf("no template %q", page))
		return
	}
	if lang := r.URL.Query().Get("lang"); lang == "en" || lang == "zh-Hans" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, s.tmpl.entry[page], v); err != nil {
		s.renderError(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if w.Header().Get("Content-Security-Policy") == "" {
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'; object-src 'none'; base-uri 'self'")
	}
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

var errInternal = errors.New("internal error")

// httpStatus maps an error code to its HTTP status: the one place this
// mapping lives.
func httpStatus(code string) int {
	switch code {
	case openmini.EINVALID:
		return http.StatusBadRequest
	case openmini.ENOTFOUND:
		return http.StatusNotFound
	case openmini.ECONFLICT:
		return http.StatusConflict
	case openmini.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case openmini.EFORBIDDEN:
		return http.StatusForbidden
	case openmini.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case openmini.ERATELIMITED:
		return http.StatusTooManyRequests
	case openmini.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// wantsJSON reports whether the client should get a JSON error.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/oauth/") ||
		strings.Contains(r.Header.Get("Accept"), "application/json")
}

// APIError is the JSON body of every error response.
type APIError struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Problems  []miniapp.Problem `json:"problems,omitempty"` // every problem of a rejected package
		RequestID string            `json:"request_id,omitempty"`
	} `json:"error"`
}

// renderError writes err as JSON or an HTML page. Internal errors are
// logged with their cause and shown as a generic message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := openmini.ErrorCode(err)
	msg := openmini.ErrorMessage(err)
	status := httpStatus(code)
	if code == openmini.EINTERNAL || code == openmini.EUNAVAILABLE {
		s.log.ErrorContext(r.Context(), "request failed", "err", err)
	}
	var oe *openmini.Error
	if errors.As(err, &oe) && oe.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(oe.RetryAfter))
	}
	if wantsJSON(r) {
		var body APIError
		body.Error.Code, body.Error.Message, body.Error.RequestID = code, msg, RequestID(r.Context())
		body.Error.Problems = miniapp.Problems(err)
		writeJSON(w, status, body)
		return
	}
	v := s.newView(r, "Something went wrong", nil)
	v.Error = v.T(msg)
	if status == http.StatusNotFound {
		v.Title = v.T("Not found")
	}
	t, ok := s.tmpl.pages["error"]
	var buf bytes.Buffer
	if !ok || t.ExecuteTemplate(&buf, "layout.html", v) != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// noRoute answers requests that no route of mux takes: 405 with an Allow
// header when the path has routes for other methods (as ServeMux would),
// and otherwise the localized "no such page" (JSON for API clients)
// instead of ServeMux's plain-text 404.
func (s *Server) noRoute(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := *r
			probe.Method = m
			if _, p := mux.Handler(&probe); m != r.Method && p != "" && p != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "There is no such page."))
	}
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encode response"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// errMessage is the safe message of err.
func errMessage(err error) string { return openmini.ErrorMessage(err) }

// statusOf is the HTTP status for err.
func statusOf(err error) int { return httpStatus(openmini.ErrorCode(err)) }

// renderFormError re-renders a form page with err shown above it, with the
// status and Retry-After header err calls for.
func (s *Server) renderFormError(w http.ResponseWriter, r *http.Request, page string, v *view, err error) {
	code := openmini.ErrorCode(err)
	if code == openmini.EINTERNAL || code == openmini.EUNAVAILABLE {
		s.renderError(w, r, err)
		return
	}
	var oe *openmini.Error
	if errors.As(err, &oe) && oe.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(oe.RetryAfter))
	}
	v.Error = v.T(errMessage(err))
	s.render(w, r, httpStatus(code), page, v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func miniappKeySet(ks miniapp.KeySet) ([]byte, error) { return miniapp.MarshalKeySet(ks) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
