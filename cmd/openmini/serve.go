package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openmini/openmini/platform"
)

// envFlags registers flags whose defaults come from OPENMINI_* environment
// variables, and remembers which variable feeds which flag so help and
// errors can name both.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []string
}

// EnvName is the environment variable of a flag: --blob-url -> OPENMINI_BLOB_URL.
func EnvName(flagName string) string {
	return "OPENMINI_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (e *envFlags) usage(name, usage string) string {
	return usage + " (env " + EnvName(name) + ")"
}

func (e *envFlags) String(p *string, name, def, usage string) {
	if v := e.getenv(EnvName(name)); v != "" {
		def = v
	}
	e.fs.StringVar(p, name, def, e.usage(name, usage))
}

func (e *envFlags) Bool(p *bool, name string, def bool, usage string) {
	if v := e.getenv(EnvName(name)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s: %q is not true or false", EnvName(name), v))
		}
		def = b
	}
	e.fs.BoolVar(p, name, def, e.usage(name, usage))
}

func (e *envFlags) Int(p *int, name string, def int, usage string) {
	if v := e.getenv(EnvName(name)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s: %q is not a whole number", EnvName(name), v))
		}
		def = n
	}
	e.fs.IntVar(p, name, def, e.usage(name, usage))
}

func (e *envFlags) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v := e.getenv(EnvName(name)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s: %q is not a duration like 20s", EnvName(name), v))
		}
		def = d
	}
	e.fs.DurationVar(p, name, def, e.usage(name, usage))
}

// serveFlags declares every server setting.
func serveFlags(c *cli, cfg *platform.Config) (*flag.FlagSet, *envFlags) {
	fs := newFlags(c, "serve", "serve [flags]\n\nRuns the whole platform: host, consoles, API, mini program origins and background jobs.\nEvery flag can also be set with the environment variable named after it.")
	e := &envFlags{fs: fs, getenv: c.getenv}
	d := platform.Defaults()
	e.String(&cfg.Addr, "addr", d.Addr, "address to listen on")
	e.String(&cfg.DataDir, "data", d.DataDir, "data directory for the SQLite database and the blob folder")
	e.String(&cfg.DatabaseURL, "database-url", "", "database: empty for SQLite in the data directory, or postgres://user:pass@host:5432/db")
	e.String(&cfg.BlobURL, "blob-url", "", "blob store: empty for a folder in the data directory, or s3://BUCKET[/PREFIX]?endpoint=https://...&region=...")
	e.String(&cfg.PublicURL, "public-url", "", "external base URL of the host, e.g. https://super.example.com (default http://localhost:PORT)")
	e.String(&cfg.AppsDomain, "apps-domain", d.AppsDomain, "parent domain of the per-app origins ({appID}.DOMAIN)")
	e.Bool(&cfg.TrustProxy, "trust-proxy", false, "trust X-Forwarded-For and X-Forwarded-Proto from a reverse proxy")
	e.String(&cfg.LogFormat, "log-format", d.LogFormat, "log format: text or json")
	e.String(&cfg.LogLevel, "log-level", d.LogLevel, "log level: debug, info, warn or error")
	e.Bool(&cfg.Demo, "demo", false, "fill an empty platform with demo organisations, mini programs, merchants and users")
	e.Int(&cfg.Workers, "workers", d.Workers, "background job workers on this replica")
	e.Int(&cfg.DBMaxConns, "db-max-conns", 0, "database connection pool size (0 = default: 20 for PostgreSQL, 8 readers for SQLite)")
	e.Duration(&cfg.ShutdownTimeout, "shutdown-timeout", d.ShutdownTimeout, "how long in-flight requests may run after SIGTERM")
	e.String(&cfg.Currency, "currency", d.Currency, "ISO 4217 currency of wallets, orders and fees")
	e.String(&cfg.TimeZone, "timezone", d.TimeZone, "IANA time zone in which settlement and analytics days start, e.g. Asia/Shanghai")
	return fs, e
}

func cmdServe(ctx context.Context, c *cli, args []string) error {
	var cfg platform.Config
	fs, e := serveFlags(c, &cfg)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(e.errs) > 0 {
		fmt.Fprintf(c.stderr, "openmini serve: %s\n", e.errs[0])
		return exitError{2}
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "openmini serve: unexpected argument %q\n", pos[0])
		return exitError{2}
	}
	cfg.Version = Version
	log, err := platform.NewLogger(c.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		fmt.Fprintf(c.stderr, "openmini serve: %v\n", err)
		return exitError{2}
	}
	p, err := platform.Open(ctx, cfg, log, c.stdout)
	if err != nil {
		fmt.Fprintf(c.stderr, "openmini serve: %v\n", err)
		return exitError{1}
	}
	defer p.Close()
	p.PrintBanner()
	return p.Run(ctx)
}
