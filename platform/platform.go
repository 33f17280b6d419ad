// Package platform wires the whole server together: configuration, the
// database, the blob store, the job queue, the domain services and the HTTP
// surface. `openmini serve` and end-to-end tests both start a Platform;
// tests use Addr "127.0.0.1:0".
package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/blob/blobopen"
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
	"github.com/openmini/openmini/web"
)

// Config is every setting of `openmini serve`. Each field is a flag and an
// OPENMINI_* environment variable (see cmd/openmini and docs/configuration.md).
type Config struct {
	Addr            string        // listen address, default 127.0.0.1:8080
	DataDir         string        // SQLite database and blob folder, default ./openmini-data
	DatabaseURL     string        // empty = SQLite in DataDir; postgres://... to scale out
	BlobURL         string        // empty = folder in DataDir; s3://BUCKET?endpoint=...
	PublicURL       string        // external URL of the host; default from Addr
	AppsDomain      string        // parent domain of per-app origins; default apps.localhost
	TrustProxy      bool          // believe X-Forwarded-For / X-Forwarded-Proto
	LogFormat       string        // text or json
	LogLevel        string        // debug, info, warn, error
	Demo            bool          // fill an empty platform with demo data
	Workers         int           // background job workers on this replica
	DBMaxConns      int           // database pool size (0 = default)
	ShutdownTimeout time.Duration // how long in-flight requests may take at shutdown
	Currency        string        // ISO 4217 code of wallets and orders, default CNY
	TimeZone        string        // IANA zone where settlement and analytics days start, default UTC
	Version         string
	// Dev is the project `openmini dev` serves from disk (nil for serve).
	Dev *web.DevProject
}

// Defaults returns the configuration a fresh machine starts with.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./openmini-data",
		AppsDomain:      "apps.localhost",
		LogFormat:       "text",
		LogLevel:        "info",
		Workers:         4,
		ShutdownTimeout: 20 * time.Second,
		Currency:        "CNY",
		TimeZone:        "UTC",
		Version:         "dev",
	}
}

// Platform is a running server's parts.
type Platform struct {
	cfg      Config
	Log      *slog.Logger
	DB       *sqldb.DB
	Blob     blob.Store
	Queue    *jobs.Queue
	Limits   *ratelimit.Limiter
	Accounts *account.Service
	Policy   *policy.Service
	Orgs     *org.Service
	Apps     *app.Service
	Identity *identity.Service
	QR       *qr.Service
	Pay      *pay.Service
	// Discovery is traffic distribution: search, channels, recommendations,
	// launch records, analytics, the directory feed (discovery.go).
	Discovery *discovery.Service
	Web       *web.Server

	ln  net.Listener
	srv *http.Server
	out io.Writer
	// URL is the host's base URL (PublicURL, or derived from the bound
	// address), without a trailing slash.
	URL string
	// SetupURL is the one-time operator setup link, when no operator exists.
	SetupURL string
	// demoLines are what --demo seeded, for the banner (shown once).
	demoLines []string
}

// NewLogger builds the platform's logger: text or JSON on w, every record
// carrying the request ID of its context.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format: %q is not text or json", format)
	}
	return slog.New(web.LogHandler{Handler: h}), nil
}

// Open checks the configuration, binds the listen address, opens the
// database (applying migrations) and blob store, and builds the services.
// Every error names the setting at fault; on error nothing is left open.
// out receives the lines meant for the operator (URLs, the setup link).
func Open(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (_ *Platform, err error) {
	if out == nil {
		out = io.Discard
	}
	p := &Platform{cfg: cfg, Log: log, out: out}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	p.ln, err = listen(cfg.Addr)
	if err != nil {
		return nil, err
	}
	p.URL, err = publicURL(cfg.PublicURL, p.ln.Addr().(*net.TCPAddr))
	if err != nil {
		return nil, err
	}
	// An S3 store is checked before the database so a bad --blob-url
	// leaves no SQLite file behind; the default folder store lives in the
	// data directory that opening the database creates and checks.
	if cfg.BlobURL != "" && cfg.BlobURL != "file:" {
		if p.Blob, err = blobopen.Open(ctx, cfg.BlobURL, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	p.DB, err = sqldb.Open(ctx, sqldb.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxConns: cfg.DBMaxConns})
	if err != nil {
		return nil, err
	}
	if p.Blob == nil {
		if p.Blob, err = blobopen.Open(ctx, cfg.BlobURL, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	p.Queue = jobs.New(p.DB, jobs.Options{Workers: cfg.Workers, Logger: log})
	p.Limits = ratelimit.New(p.DB, nil)
	p.Accounts = account.New(p.DB, p.Limits, nil)
	p.Policy = policy.New(p.DB)
	p.Orgs = org.New(p.DB, p.Accounts, p.Policy)
	keys, err := app.LoadKeys(ctx, p.DB)
	if err != nil {
		return nil, err
	}
	p.Apps = app.New(p.DB, p.Blob, p.Orgs, p.Policy, keys, log)
	p.registerHousekeeping()
	if err := p.openIdentity(); err != nil {
		return nil, err
	}
	// Payments: webhooks may go to http:// and loopback addresses only in
	// the demo (its restaurant server is on this machine).
	loc, _ := time.LoadLocation(cfg.TimeZone) // checked in checkConfig
	if p.Pay, err = pay.New(p.DB, pay.Config{Logger: log, WebhookInsecure: cfg.Demo, Currency: cfg.Currency, Location: loc}); err != nil {
		return nil, fmt.Errorf("pay: %w", err)
	}
	p.Pay.Register(p.Queue)
	if p.QR, err = qr.NewService(p.DB, qr.Config{BaseURL: p.URL, Blob: p.Blob, Logger: log}); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	p.openDiscovery()

	p.Web, err = web.New(web.Config{PublicURL: p.URL, AppsDomain: cfg.AppsDomain, TrustProxy: cfg.TrustProxy, Version: cfg.Version, Dev: cfg.Dev},
		web.Deps{Logger: log, DB: p.DB, Blob: p.Blob, Queue: p.Queue, Accounts: p.Accounts, Policy: p.Policy, Orgs: p.Orgs, Apps: p.Apps, Limits: p.Limits,
			Storage: host.NewStorage(p.DB), Consents: host.NewConsents(p.DB),
			Identity: p.Identity, DevMailbox: true, QR: p.QR,
			Pay: p.Pay, PayOptions: web.PayOptions{Sandbox: true, Location: loc},
			Discovery: p.Discovery})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if err := p.indexAtStart(ctx); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	p.srv = &http.Server{
		Handler:           p.withDemoServer(p.Web.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if cfg.Demo {
		if err := p.seedDemo(ctx); err != nil {
			return nil, fmt.Errorf("--demo: %w", err)
		}
	}
	token, err := p.Accounts.NewSetupToken(ctx)
	if err != nil {
		return nil, err
	}
	if token != "" {
		p.SetupURL = p.URL + "/setup?token=" + token
	}
	return p, nil
}

func checkConfig(cfg *Config) error {
	if cfg.AppsDomain == "" {
		return errors.New("--apps-domain: must not be empty (default apps.localhost)")
	}
	for _, label := range strings.Split(cfg.AppsDomain, ".") {
		if label == "" || strings.Trim(strings.ToLower(label), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return fmt.Errorf("--apps-domain: %q is not a domain name", cfg.AppsDomain)
		}
	}
	if cfg.ShutdownTimeout <= 0 {
		return errors.New("--shutdown-timeout: must be positive")
	}
	if cfg.Workers < 0 {
		return errors.New("--workers: must not be negative")
	}
	if cfg.Currency != "" && (len(cfg.Currency) != 3 || strings.ToUpper(cfg.Currency) != cfg.Currency || strings.Trim(cfg.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return fmt.Errorf("--currency: %q is not an ISO 4217 code like CNY or EUR", cfg.Currency)
	}
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		return fmt.Errorf("--timezone: %q is not an IANA time zone like Asia/Shanghai", cfg.TimeZone)
	}
	return nil
}

// listen binds addr, turning the common failures into one clear line.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("--addr: %s is already in use by another program", addr)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("--addr: no permission to listen on %s (ports below 1024 need privileges)", addr)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return nil, fmt.Errorf("--addr: cannot listen on %q: %v", addr, oe.Err)
	}
	return nil, fmt.Errorf("--addr: cannot listen on %q: %v", addr, err)
}

// publicURL is the configured public URL, or one derived from the bound
// address: loopback and unspecified addresses become localhost.
func publicURL(raw string, bound *net.TCPAddr) (string, error) {
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", fmt.Errorf("--public-url: %q is not an http(s) base URL like https://super.example.com", raw)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	host := "localhost"
	if !bound.IP.IsLoopback() && !bound.IP.IsUnspecified() {
		host = bound.IP.String()
		if bound.IP.To4() == nil {
			host = "[" + host + "]"
		}
	}
	return fmt.Sprintf("http://%s:%d", host, bound.Port), nil
}

// Addr is the address the server listens on.
func (p *Platform) Addr() string { return p.ln.Addr().String() }

// Handler is the root HTTP handler (for in-process tests).
func (p *Platform) Handler() http.Handler { return p.srv.Handler }

// PrintBanner writes the URLs the server answers on, and the setup link
// when no operator exists yet.
func (p *Platform) PrintBanner() {
	w := p.out
	fmt.Fprintf(w, "OpenMini %s is running.\n", p.cfg.Version)
	fmt.Fprintf(w, "  Host (users):        %s/\n", p.URL)
	fmt.Fprintf(w, "  Developer console:   %s/console\n", p.URL)
	fmt.Fprintf(w, "  Operator console:    %s/admin\n", p.URL)
	fmt.Fprintf(w, "  Mini program origins: %s\n", p.Web.AppOrigin("{appID}"))
	fmt.Fprintf(w, "  Health:              %s/healthz  %s/readyz  %s/metrics\n", p.URL, p.URL, p.URL)
	fmt.Fprintf(w, "  Database:            %s\n", p.DB)
	if len(p.demoLines) > 0 {
		fmt.Fprintln(w)
		for _, l := range p.demoLines {
			fmt.Fprintln(w, l)
		}
	}
	if p.SetupURL != "" {
		fmt.Fprintf(w, "\nNo operator account exists yet. Open this one-time link to create it (valid for 24 hours):\n  %s\n", p.SetupURL)
	}
}

// Run serves HTTP and runs background jobs until ctx ends, then shuts down
// gracefully: it stops accepting connections, lets in-flight requests
// finish (up to ShutdownTimeout), stops the job workers after their
// current jobs, and returns. Call Close afterwards.
func (p *Platform) Run(ctx context.Context) error {
	qctx, stopQueue := context.WithCancel(context.WithoutCancel(ctx))
	defer stopQueue()
	qdone := make(chan error, 1)
	go func() { qdone <- p.Queue.Run(qctx) }()

	sdone := make(chan error, 1)
	go func() { sdone <- p.srv.Serve(p.ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-sdone:
	}
	p.Log.Info("shutting down", "timeout", p.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	if err := p.srv.Shutdown(sctx); err != nil {
		p.Log.Warn("shutdown: requests still running were cut off", "err", err)
	}
	stopQueue()
	<-qdone
	p.Log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// Close releases the listener, database and blob store.
func (p *Platform) Close() error {
	var errs []error
	if p.ln != nil {
		p.ln.Close()
	}
	if p.QR != nil {
		errs = append(errs, p.QR.Close())
	}
	if p.DB != nil {
		errs = append(errs, p.DB.Close())
	}
	if p.Blob != nil {
		errs = append(errs, p.Blob.Close())
	}
	return errors.Join(errs...)
}

// registerHousekeeping schedules the clean-ups every platform runs.
func (p *Platform) registerHousekeeping() {
	p.Queue.Register("housekeeping", jobs.Kind{Handler: func(ctx context.Context, j jobs.Job) error {
		if _, err := p.Accounts.PurgeSessions(ctx); err != nil {
			return err
		}
		if _, err := p.Limits.Purge(ctx); err != nil {
			return err
		}
		_, err := jobs.PurgeFinished(ctx, p.DB, time.Now().Add(-7*24*time.Hour))
		return err
	}})
	p.Queue.Every("housekeeping", time.Hour)
}
