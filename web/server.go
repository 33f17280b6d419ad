// Package web is the platform's HTTP surface: the host web app users open,
// the developer and operator consoles, the REST API, the per-app origins
// that serve mini program files, and the operational endpoints (/healthz,
// /readyz, /metrics). Handlers decode the request, authorise, call one
// service method and render; the rules live in the domain packages.
//
// Requests are dispatched on the Host header: {appID}.{apps domain} goes to
// the app-origin handler, everything else to the main mux, whose routes
// are listed by surface in routes.go.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/discovery"
	"github.com/openmini/openmini/host"
	"github.com/openmini/openmini/identity"
	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/qr"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// Config is what the web layer needs to know about where it is served.
type Config struct {
	// PublicURL is the host's external base URL, e.g. https://super.example.com
	// or http://localhost:8080, without a trailing slash.
	PublicURL string
	// AppsDomain is the parent domain of the per-app origins, e.g.
	// apps.example.com (apps are served at {appID}.apps.example.com).
	AppsDomain string
	// TrustProxy makes the server believe X-Forwarded-For/-Proto from the
	// reverse proxy in front of it.
	TrustProxy bool
	// Version is the build's version string.
	Version string
	// Dev is the project `openmini dev` serves from disk (nil otherwise):
	// its app's launches, files and CSP come from it, and the simulator
	// routes exist (dev_http.go).
	Dev *DevProject
}

// Deps are the services the handlers call.
type Deps struct {
	Logger   *slog.Logger
	DB       *sqldb.DB
	Blob     blob.Store
	Queue    *jobs.Queue
	Accounts *account.Service
	Policy   *policy.Service
	Orgs     *org.Service
	Apps     *app.Service
	Limits   *ratelimit.Limiter
	Storage  *host.Storage
	Consents *host.Consents
	// Identity serves host users, consent and OpenID Connect (nil: none
	// of the identity routes exist); DevMailbox says it sends codes
	// through its development sender (see routesIdentity).
	Identity   *identity.Service
	DevMailbox bool
	// QR serves short links, code images, the scanner and the QR API and
	// console pages (nil: none of them exist; see routesQR).
	QR *qr.Service
	// Pay serves payments: the merchant API, the merchant and operator
	// console pages, tradePay, the wallet and the checkout pages (nil: none
	// of them exist; see routesPay).
	Pay        *pay.Service
	PayOptions PayOptions
	// Discovery serves the host's home (search, channels, recommendations),
	// "my mini programs", launch and session records, developer analytics,
	// the operator's discovery pages and the directory feed (nil: none of
	// them exist; see routesDiscovery).
	Discovery *discovery.Service
}

// Server serves every HTTP surface of the platform.
type Server struct {
	cfg      Config
	public   *url.URL
	log      *slog.Logger
	db       *sqldb.DB
	blob     blob.Store
	queue    *jobs.Queue
	acct     *account.Service
	policy   *policy.Service
	orgs     *org.Service
	apps     *app.Service
	limits   *ratelimit.Limiter
	storage  *host.Storage
	consents *host.Consents
	identity *identity.Service
	qr       *qr.Service
	pay      *pay.Service
	// discovery: see Deps.Discovery.
	discovery *discovery.Service
	// paySandbox and payLocation: see PayOptions.
	paySandbox  bool
	payLocation *time.Location
	// devMailbox: codes go to the development mailbox (identity.DevSender).
	devMailbox bool
	// hostScripts are extra scripts every host page loads (scanner,
	// identity, payments); hostTabs the host's bottom bar besides Home.
	hostScripts []string
	hostTabs    []hostTab
	// apiRoutes lists every /api/ pattern registered, for the OpenAPI check.
	apiRoutes []string
	metrics   *metrics
	tmpl      *templates
	mux       *http.ServeMux
	started   time.Time
	origin    *appOrigin
	sdkJS     sdkScript
}

// New builds the server and its routes.
func New(cfg Config, d Deps) (*Server, error) {
	pub, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		public:   pub,
		log:      d.Logger,
		db:       d.DB,
		blob:     d.Blob,
		queue:    d.Queue,
		acct:     d.Accounts,
		policy:   d.Policy,
		orgs:     d.Orgs,
		apps:     d.Apps,
		limits:   d.Limits,
		storage:  d.Storage,
		consents: d.Consents,
		started:  time.Now(),
		origin:   newAppOrigin(),
	}
	s.identity, s.devMailbox = d.Identity, d.DevMailbox
	s.qr = d.QR
	s.discovery = d.Discovery
	s.pay, s.paySandbox, s.payLocation = d.Pay, d.PayOptions.Sandbox, d.PayOptions.Location
	if s.payLocation == nil {
		s.payLocation = time.UTC
	}
	s.metrics = newMetrics(d.DB, d.Queue)
	s.origin.assetCSP = []string{assetCSP(s.HostOrigin())}
	s.tmpl, err = loadTemplates()
	if err != nil {
		return nil, err
	}
	s.mux = s.routes()
	return s, nil
}

// Handler returns the root handler with its middleware.
func (s *Server) Handler() http.Handler {
	main := http.NewCrossOriginProtection().Handler(s.authenticate(s.mux))
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if appID, ok := s.appIDFromHost(r.Host); ok {
			s.serveAppOrigin(w, r, appID)
			return
		}
		main.ServeHTTP(w, r)
	})
	h = s.observe(h)
	return h
}

// appIDFromHost returns the app ID when host is {appID}.{apps domain}[:port].
func (s *Server) appIDFromHost(host string) (string, bool) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	suffix := "." + strings.ToLower(s.cfg.AppsDomain)
	if s.cfg.AppsDomain == "" || !strings.HasSuffix(host, suffix) {
		return "", false
	}
	id := strings.TrimSuffix(host, suffix)
	if id == "" || strings.Contains(id, ".") {
		return "", false
	}
	return id, true
}

// AppOrigin is the origin a mini program is served from.
func (s *Server) AppOrigin(appID string) string {
	port := s.public.Port()
	o := s.public.Scheme + "://" + appID + "." + s.cfg.AppsDomain
	if port != "" {
		o += ":" + port
	}
	return o
}

// HostOrigin is the origin of the host web app and consoles.
func (s *Server) HostOrigin() string { return s.public.Scheme + "://" + s.public.Host }

// Ready reports whether the database and the blob store answer.
func (s *Server) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		return err
	}
	return s.blob.Ping(ctx)
}
