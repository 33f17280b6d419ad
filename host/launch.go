package host

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/org"
)

// Scenes say where a launch came from (WeChat calls them scene values).
// A launch link names one with ?om_scene=; anything else is "link".
var Scenes = []string{"link", "qr", "search", "recommendation", "channel", "share", "recent", "favourite",
	"miniprogram", "trial", "preview", "dev"}

// HostParams are the query parameters the host reads from a launch link
// and does not pass on to the mini program.
var HostParams = []string{"preview", "trial", "om_scene", "om_ref"}

// Viewer is the person opening a mini program.
type Viewer struct {
	AccountID int64  // 0 for an anonymous browser
	Staff     bool   // operator staff (may preview any version)
	Key       string // stable per person: picks their side of a gradual rollout
}

// LaunchRequest is a launch link taken apart: /app/{AppID}/{Page}?{Query}.
type LaunchRequest struct {
	AppID string
	Page  string     // a page route ("pages/cart") or file; "" is the entry page
	Query url.Values // the page's query plus the host's own HostParams
	Lang  string     // the host's language, passed to the mini program
}

// Launch is everything the host needs to open a mini program: which
// version this viewer gets, where its files are, and the launch options
// the SDK hands the mini program.
type Launch struct {
	AppID       string               `json:"appId"`
	Name        string               `json:"name"`
	Developer   string               `json:"developer"`
	Origin      string               `json:"origin"` // the app's own origin
	Base        string               `json:"base"`   // origin + /_v/{package sha256}/
	Version     string               `json:"version"`
	VersionKind string               `json:"versionKind"` // release, trial or preview
	Icon        string               `json:"icon,omitempty"`
	Pages       []string             `json:"pages"`
	Path        string               `json:"path"` // the page route opened
	Query       map[string]string    `json:"query"`
	Scene       string               `json:"scene"`
	Referrer    string               `json:"referrer,omitempty"` // the app that opened this one
	Window      *miniapp.Window      `json:"window,omitempty"`
	Permissions []miniapp.Permission `json:"permissions"`
	Lang        string               `json:"lang"`
	// LaunchID is the launch's record in discovery (0 when none was
	// recorded): the shell reports the foreground time of this launch
	// under it. The mini program never sees it.
	LaunchID int64 `json:"launchId,omitempty"`
}

// Launcher decides which version of a mini program a viewer gets and
// checks that version's platform signature before anything of it runs.
type Launcher struct {
	apps   *app.Service
	orgs   *org.Service
	blob   blob.Store
	log    *slog.Logger
	origin func(appID string) string

	verified sync.Map // package sha256 -> struct{} once its signature checked out
}

// NewLauncher returns a launcher; origin gives an app's own origin
// (e.g. http://{appID}.apps.localhost:8080).
func NewLauncher(apps *app.Service, orgs *org.Service, st blob.Store, log *slog.Logger, origin func(appID string) string) *Launcher {
	return &Launcher{apps: apps, orgs: orgs, blob: st, log: log, origin: origin}
}

// Resolve answers a launch link for v:
//   - ?preview=VERSION_ID opens any version of the app, for operator staff
//     and members of the app's organisation (unauthorized when anonymous,
//     forbidden otherwise);
//   - ?trial=1 opens the trial version, for members and testers;
//   - otherwise the released version, on v's side of a gradual rollout
//     (not_found while nothing is released).
//
// The page must be one of the version's pages (not_found names it). A
// version whose package fails its signature check is never returned
// (unavailable).
func (l *Launcher) Resolve(ctx context.Context, v Viewer, req LaunchRequest) (*Launch, error) {
	if !app.ValidID(req.AppID) {
		return nil, openmini.Errorf(openmini.ENOTFOUND, "there is no mini program %q", req.AppID)
	}
	a, err := l.apps.Get(ctx, req.AppID)
	if err != nil {
		return nil, err
	}
	q := req.Query
	if q == nil {
		q = url.Values{}
	}
	var ver app.Version
	kind := "release"
	switch {
	case q.Get("preview") != "":
		if v.AccountID == 0 {
			return nil, openmini.Errorf(openmini.EUNAUTHORIZED, "sign in to preview versions")
		}
		if !v.Staff {
			role, err := l.orgs.RoleOf(ctx, openmini.Actor{AccountID: v.AccountID}, a.OrgID)
			if err != nil {
				return nil, err
			}
			if role == "" {
				return nil, openmini.Errorf(openmini.EFORBIDDEN, "previews are for reviewers and the app's developers")
			}
		}
		id, _ := strconv.ParseInt(q.Get("preview"), 10, 64)
		if ver, err = l.apps.VersionByID(ctx, id); err != nil || ver.AppID != a.ID {
			return nil, openmini.Errorf(openmini.ENOTFOUND, "%s has no version %s to preview", a.ID, q.Get("preview"))
		}
		kind = "preview"
	case q.Get("trial") == "1":
		if v.AccountID == 0 {
			return nil, openmini.Errorf(openmini.EUNAUTHORIZED, "sign in to open the trial version")
		}
		if ver, err = l.apps.TrialFor(ctx, a.ID, v.AccountID); err != nil {
			return nil, err
		}
		kind = "trial"
	default:
		if ver, err = l.apps.VersionFor(ctx, a.ID, v.Key); err != nil {
			if openmini.ErrorCode(err) == openmini.ENOTFOUND {
				return nil, openmini.Errorf(openmini.ENOTFOUND, "%s is not available yet", a.Name)
			}
			return nil, err
		}
	}
	if err := l.verify(ctx, &ver); err != nil {
		return nil, err
	}
	page, ok := findPage(ver.Manifest.Pages, req.Page)
	if !ok {
		return nil, openmini.Errorf(openmini.ENOTFOUND, "%s has no page %q", a.Name, req.Page)
	}
	out := &Launch{
		AppID: a.ID, Name: a.Name, Developer: a.OrgName, Origin: l.origin(a.ID), Version: ver.Version, VersionKind: kind,
		Pages: ver.Manifest.Pages, Path: page, Query: map[string]string{}, Window: ver.Manifest.Window,
		Permissions: ver.Manifest.ReqPermissions, Lang: req.Lang, Scene: "link",
	}
	if out.Permissions == nil {
		out.Permissions = []miniapp.Permission{}
	}
	out.Base = out.Origin + "/_v/" + ver.SHA256 + "/"
	if len(ver.Manifest.Icons) > 0 {
		out.Icon = out.Base + ver.Manifest.Icons[0].Src
	}
	switch sc := q.Get("om_scene"); {
	case validScene(sc):
		out.Scene = sc
	case kind != "release":
		out.Scene = kind
	}
	if ref := q.Get("om_ref"); app.ValidID(ref) {
		out.Referrer = ref
	}
	for k, vs := range q {
		if isHostParam(k) || len(vs) == 0 {
			continue
		}
		out.Query[k] = vs[0]
	}
	return out, nil
}

// findPage matches a requested page ("pages/cart", "/pages/cart/",
// "pages/cart.html") to the manifest's route; "" is the entry page.
func findPage(pages []string, want string) (string, bool) {
	if len(pages) == 0 {
		return "", false
	}
	want = strings.TrimSuffix(strings.TrimPrefix(want, "/"), "/")
	if want == "" {
		return pages[0], true
	}
	for _, p := range pages {
		if p == want || PageFile(p) == want {
			return p, true
		}
	}
	return "", false
}

// PageFile is the file of a page route: "pages/cart" -> "pages/cart.html".
func PageFile(route string) string {
	route = strings.TrimPrefix(route, "/")
	if strings.HasSuffix(route, ".html") || strings.HasSuffix(route, ".htm") {
		return route
	}
	return route + ".html"
}

func validScene(s string) bool {
	for _, sc := range Scenes {
		if s == sc {
			return true
		}
	}
	return false
}

func isHostParam(k string) bool {
	for _, p := range HostParams {
		if k == p {
			return true
		}
	}
	return false
}

// verify checks the platform's signature over the stored package, once
// per package digest per process (stored packages never change).
func (l *Launcher) verify(ctx context.Context, v *app.Version) error {
	if _, ok := l.verified.Load(v.SHA256); ok {
		return nil
	}
	rc, _, err := l.blob.Get(ctx, v.PackageKey)
	if err != nil {
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "the mini program's package is unavailable", Err: err}
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "the mini program's package is unavailable", Err: err}
	}
	if err := checkPackage(ctx, raw, v, l.apps.Keys().Set()); err != nil {
		l.log.ErrorContext(ctx, "package integrity check failed", "app", v.AppID, "version", v.Version, "err", err)
		return openmini.Errorf(openmini.EUNAVAILABLE, "this version of the mini program failed its integrity check and cannot be opened")
	}
	l.verified.Store(v.SHA256, struct{}{})
	return nil
}

// unlimited opens stored packages, which passed the operator's limits
// when they were uploaded (limits may have tightened since).
var unlimited = miniapp.Limits{MaxPackageBytes: 1 << 40, MaxUncompressedBytes: 1 << 40, MaxFileBytes: 1 << 40,
	MaxFiles: 1 << 30, MaxPages: 1 << 30, WarnImageBytes: 1 << 40}

// checkPackage proves the chain the app origin serves from: the
// platform's signature covers the package bytes, whose digest is the
// version's, and the version's file list (name and digest of each file,
// which the app origin checks every served blob against) is exactly the
// package's.
func checkPackage(ctx context.Context, raw []byte, v *app.Version, keys miniapp.KeySet) error {
	if app.HashHex(raw) != v.SHA256 {
		return fmt.Errorf("package digest is not the version's %s", v.SHA256)
	}
	if _, err := miniapp.Verify(raw, v.Signature, keys); err != nil {
		return err
	}
	pkg, err := miniapp.OpenBytes(ctx, raw, unlimited)
	if err != nil {
		return err
	}
	if len(pkg.Files) != len(v.Files) {
		return fmt.Errorf("version lists %d files, the package has %d", len(v.Files), len(pkg.Files))
	}
	for _, f := range v.Files {
		pf, ok := pkg.File(f.Name)
		if !ok || hex.EncodeToString(pf.SHA256[:]) != f.SHA256 {
			return fmt.Errorf("file %s differs from the signed package", f.Name)
		}
	}
	return nil
}
