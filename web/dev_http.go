package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/miniapp"
)

// The HTTP side of `openmini dev` (Config.Dev set):
//
//	GET  /_dev/              the simulator: the host shell in a device frame
//	GET  /_dev/events        server-sent events: the project's state on
//	                         connect ("state") and after each change ("change")
//	GET  /_dev/api/state     the same state as JSON
//	POST /_dev/api/console   console output and uncaught errors of the mini
//	                         program, posted by host-dev.js, printed for the developer
//
// The project's app runs at /app/{appID}/ like any other (devLaunch
// answers its launches) and its origin serves the project's files under
// the reserved digest "dev": /_v/dev/{file} (serveDevFile).

// devDigest stands for the package digest in the project's file URLs.
const devDigest = "dev"

// DevDevice is a device preset of the simulator.
type DevDevice struct {
	ID     string  `json:"id"`
	Label  string  `json:"label"`
	Width  int     `json:"width"`  // CSS pixels
	Height int     `json:"height"` // CSS pixels
	Ratio  float64 `json:"ratio"`  // device pixels per CSS pixel
	Mobile bool    `json:"mobile"`
}

var devDevices = []DevDevice{
	{ID: "iphone-13", Label: "iPhone 13", Width: 390, Height: 844, Ratio: 3, Mobile: true},
	{ID: "pixel-7", Label: "Pixel 7", Width: 412, Height: 915, Ratio: 2.625, Mobile: true},
	{ID: "ipad", Label: "iPad", Width: 820, Height: 1180, Ratio: 2, Mobile: true},
	{ID: "desktop", Label: "Desktop", Width: 1280, Height: 800, Ratio: 1},
}

// DevDeviceIDs lists the simulator's device presets, the default first.
func DevDeviceIDs() []string {
	out := make([]string, len(devDevices))
	for i, d := range devDevices {
		out[i] = d.ID
	}
	return out
}

// isDevApp reports whether appID is the project `openmini dev` serves.
func (s *Server) isDevApp(appID string) bool {
	return s.cfg.Dev != nil && appID == s.cfg.Dev.appID
}

// DevURL is the simulator's URL for device (a DevDeviceIDs entry, or ""
// for the default).
func (s *Server) DevURL(device string) string {
	u := s.HostOrigin() + "/_dev/"
	if device != "" {
		u += "?device=" + url.QueryEscape(device)
	}
	return u
}

// routesDev: the simulator and its endpoints, only under `openmini dev`.
func (s *Server) routesDev(mux *http.ServeMux) {
	if s.cfg.Dev == nil {
		return
	}
	s.hostScripts = append(s.hostScripts, "host-dev.js")
	mux.HandleFunc("GET /_dev", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/_dev/", http.StatusFound)
	})
	mux.HandleFunc("GET /_dev/{$}", s.handleDevSimulator)
	mux.HandleFunc("GET /_dev/events", s.handleDevEvents)
	mux.HandleFunc("GET /_dev/api/state", s.handleDevState)
	mux.HandleFunc("POST /_dev/api/console", s.handleDevConsole)
}

// devPage is what host_dev.html renders.
type devPage struct {
	AppID   string
	Dir     string
	Device  DevDevice
	Devices []DevDevice
	Frame   string // the host shell's URL for the project's entry page
	State   *devState
}

func (s *Server) handleDevSimulator(w http.ResponseWriter, r *http.Request) {
	d := s.cfg.Dev
	dev := devDevices[0]
	if id := r.URL.Query().Get("device"); id != "" {
		i := slices.IndexFunc(devDevices, func(x DevDevice) bool { return x.ID == id })
		if i < 0 {
			s.renderError(w, r, openmini.Errorf(openmini.EINVALID, "device: %q is not one of %s", id, strings.Join(DevDeviceIDs(), ", ")))
			return
		}
		dev = devDevices[i]
	}
	st := d.current()
	title := st.Name
	if title == "" {
		title = d.appID
	}
	v := s.newView(r, "Simulator", &devPage{AppID: d.appID, Dir: d.dir, Device: dev, Devices: devDevices,
		Frame: "/app/" + d.appID + "/", State: st})
	v.Title = v.T("Simulator") + " · " + title
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "+
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "host_dev", v)
}

func (s *Server) handleDevState(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.cfg.Dev.current())
}

// devKeepAlive is how often an idle event stream gets a comment line, so
// proxies and browsers keep it open.
const devKeepAlive = 20 * time.Second

// handleDevEvents streams the project's state: once on connect, then
// after every change, until the page goes away or `openmini dev` stops.
func (s *Server) handleDevEvents(w http.ResponseWriter, r *http.Request) {
	d := s.cfg.Dev
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	h.Set("X-Content-Type-Options", "nosniff")
	rc := http.NewResponseController(w)
	ch := d.subscribe()
	defer d.unsubscribe(ch)
	send := func(event string) error {
		st := d.current()
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %s-%d\nevent: %s\ndata: %s\n\n", st.Boot, st.Seq, event, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	w.WriteHeader(http.StatusOK)
	if send("state") != nil {
		return
	}
	tick := time.NewTicker(devKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.stopped:
			return
		case <-ch:
			if send("change") != nil {
				return
			}
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func (s *Server) handleDevConsole(w http.ResponseWriter, r *http.Request) {
	var l ConsoleLine
	if !s.decodeLimited(w, r, &l, 64<<10) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.respond(w, r, http.StatusOK, map[string]any{}, s.cfg.Dev.PrintConsole(l))
}

// devCSP is the dev app origin's Content-Security-Policy (appCSP asks
// here for the project's app).
func (s *Server) devCSP() string {
	return devCSP(s.HostOrigin(), s.cfg.Dev.current().Allowed)
}

// serveDevFile serves a file of the project's latest valid state on its
// app origin (/_v/dev/{name}); pages get the SDK like a stored version's.
// Responses are revalidated on every use (no-cache, with the file's
// digest as ETag), so a reload always shows what is on disk.
func (s *Server) serveDevFile(w http.ResponseWriter, r *http.Request, name string) {
	st := s.cfg.Dev.current()
	if !st.Valid {
		s.renderError(w, r, devProblemsError(st))
		return
	}
	pkg := st.pkg
	if name == "" {
		name = host.PageFile(pkg.Manifest.Pages[0])
	}
	f, ok := pkg.File(name)
	if !ok {
		s.renderError(w, r, openmini.Errorf(openmini.ENOTFOUND, "no file %s in the project %s", name, s.cfg.Dev.label))
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", contentType(name))
	body := f.Data
	if slices.ContainsFunc(pkg.Manifest.Pages, func(p string) bool { return host.PageFile(p) == name }) {
		body = assemblePage(f.Data, s.sdk().body)
	}
	h.Set("ETag", fmt.Sprintf(`"dev-%x"`, f.SHA256[:12]))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// devProblemsError is what opening the project says while it is invalid.
func devProblemsError(st *devState) error {
	first := "unknown problem"
	if len(st.Errors) > 0 {
		first = st.Errors[0].String()
	}
	if len(st.Errors) > 1 {
		return openmini.Errorf(openmini.EINVALID, "The project has %d problems; fix them and the simulator reloads. The first: %s", len(st.Errors), first)
	}
	return openmini.Errorf(openmini.EINVALID, "The project has a problem; fix it and the simulator reloads: %s", first)
}

// devLaunch answers a launch of the project's app: its latest valid
// state, opened at page (a route or file of the manifest, "" for the
// entry page) with the query's parameters, as version kind "dev".
func (s *Server) devLaunch(r *http.Request, page string, q url.Values) (*host.Launch, error) {
	st := s.cfg.Dev.current()
	if !st.Valid {
		return nil, devProblemsError(st)
	}
	m := st.pkg.Manifest
	route, ok := devFindPage(m.Pages, page)
	if !ok {
		return nil, openmini.Errorf(openmini.ENOTFOUND, "%s has no page %q; the manifest lists %s", m.Name, page, strings.Join(m.Pages, ", "))
	}
	l := &host.Launch{
		AppID: s.cfg.Dev.appID, Name: m.Name, Developer: "openmini dev", Origin: s.AppOrigin(s.cfg.Dev.appID),
		Version: m.Version.Name, VersionKind: "dev", Pages: m.Pages, Path: route, Query: map[string]string{},
		Scene: "dev", Window: m.Window, Permissions: m.ReqPermissions, Lang: requestLang(r),
	}
	if l.Permissions == nil {
		l.Permissions = []miniapp.Permission{}
	}
	l.Base = l.Origin + "/_v/" + devDigest + "/"
	if len(m.Icons) > 0 {
		l.Icon = l.Base + m.Icons[0].Src
	}
	if sc := q.Get("om_scene"); sc != "" && slices.Contains(host.Scenes, sc) {
		l.Scene = sc
	}
	if ref := q.Get("om_ref"); app.ValidID(ref) {
		l.Referrer = ref
	}
	for k, vs := range q {
		if slices.Contains(host.HostParams, k) || len(vs) == 0 {
			continue
		}
		l.Query[k] = vs[0]
	}
	return l, nil
}

// devFindPage matches a requested page ("pages/cart", "/pages/cart/",
// "pages/cart.html") to the manifest's route; "" is the entry page.
func devFindPage(pages []string, want string) (string, bool) {
	if len(pages) == 0 {
		return "", false
	}
	want = strings.TrimSuffix(strings.TrimPrefix(want, "/"), "/")
	if want == "" {
		return pages[0], true
	}
	for _, p := range pages {
		if p == want || host.PageFile(p) == want {
			return p, true
		}
	}
	return "", false
}
