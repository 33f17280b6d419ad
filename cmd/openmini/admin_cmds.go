package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/policy"
	"github.com/openmini/openmini/ratelimit"
	"github.com/openmini/openmini/sqldb"
)

// `openmini admin ...`: the operator's tasks, run directly against the
// server's database (the same --data / --database-url settings and
// OPENMINI_* variables as `openmini serve`), with no server needed. They
// act as adminActor, which the audit log records.

// adminActor is who the admin commands act as.
var adminActor = openmini.Actor{Label: "admin CLI", StaffRole: account.RoleAdmin} // never changed

type adminCommand struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func adminCommands() []adminCommand {
	return []adminCommand{
		{"create-operator", "create an operator staff account (admin or reviewer)", cmdAdminCreateOperator},
		{"invite", "make an invitation that admits a new developer organisation", cmdAdminInvite},
		{"invitations", "list the admission invitations", cmdAdminInvitations},
		{"reviews", "list the versions waiting for review", cmdAdminReviews},
		{"approve", "approve a version in review", cmdAdminApprove},
		{"reject", "reject a version in review, with a reason", cmdAdminReject},
		{"policy", "show or change the platform policy", cmdAdminPolicy},
	}
}

func adminUsage(c *cli) {
	w := c.stderr
	fmt.Fprintln(w, "Usage: openmini admin <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The operator's tasks, run against the server's database (--data or")
	fmt.Fprintln(w, "--database-url, as for `openmini serve`); no server needs to run.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, s := range adminCommands() {
		fmt.Fprintf(w, "  %-16s %s\n", s.name, s.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `openmini admin <command> --help` for a command's flags.")
}

func cmdAdmin(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		adminUsage(c)
		if len(args) == 0 {
			return exitError{2}
		}
		return exitError{0}
	}
	for _, s := range adminCommands() {
		if s.name != args[0] {
			continue
		}
		err := s.run(ctx, c, args[1:])
		var ee exitError
		if err != nil && !errors.As(err, &ee) {
			fmt.Fprintf(c.stderr, "openmini admin %s: %s\n", s.name, messageOf(err))
			return exitError{1}
		}
		return err
	}
	fmt.Fprintf(c.stderr, "openmini admin: unknown command %q (run `openmini admin help`)\n", args[0])
	return exitError{2}
}

// adminConfig is the part of the server's configuration the admin
// commands need.
type adminConfig struct {
	DataDir     string
	DatabaseURL string
	PublicURL   string
	Addr        string
}

// adminFlags declares --data and --database-url exactly as `serve` does
// (same names, defaults and environment variables), plus --public-url and
// --addr when links are printed.
func adminFlags(c *cli, name, usage string, cfg *adminConfig, links bool) (*flag.FlagSet, *envFlags) {
	fs := newFlags(c, "admin "+name, "admin "+usage)
	e := &envFlags{fs: fs, getenv: c.getenv}
	d := platform.Defaults()
	e.String(&cfg.DataDir, "data", d.DataDir, "data directory of the server (its SQLite database)")
	e.String(&cfg.DatabaseURL, "database-url", "", "the server's database: empty for SQLite in the data directory, or postgres://user:pass@host:5432/db")
	if links {
		e.String(&cfg.PublicURL, "public-url", "", "external base URL of the host, for links (default http://localhost:PORT from --addr)")
		e.String(&cfg.Addr, "addr", d.Addr, "the server's listen address (for the default --public-url)")
	}
	return fs, e
}

// adminParse parses an admin command's flags and returns its positional
// arguments, ending with status 2 on bad flags or environment variables.
func adminParse(c *cli, fs *flag.FlagSet, e *envFlags, name string, args []string, npos int) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(e.errs) > 0 {
		fmt.Fprintf(c.stderr, "openmini admin %s: %s\n", name, e.errs[0])
		return nil, exitError{2}
	}
	if len(pos) != npos {
		if len(pos) > npos {
			return nil, usageError(c, "admin "+name, "unexpected argument %q", pos[npos])
		}
		return nil, usageError(c, "admin "+name, "missing argument")
	}
	return pos, nil
}

// adminEnv is the database and the services the admin commands use.
type adminEnv struct {
	db   *sqldb.DB
	acct *account.Service
	pol  *policy.Service
	orgs *org.Service
	apps *app.Service
}

// openAdmin opens the server's database (applying pending migrations, as
// the server would) and builds the services. Unless create is set, a
// missing SQLite database is an error rather than a new empty one.
func openAdmin(ctx context.Context, c *cli, cfg adminConfig, create bool) (*adminEnv, error) {
	if cfg.DatabaseURL == "" && !create {
		file := filepath.Join(cfg.DataDir, "openmini.db")
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("--data: no database at %s; point --data (or --database-url) at the server's", file)
		}
	}
	db, err := sqldb.Open(ctx, sqldb.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxConns: 2})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := &adminEnv{db: db, acct: account.New(db, ratelimit.New(db, nil), nil), pol: policy.New(db)}
	env.orgs = org.New(db, env.acct, env.pol)
	keys, err := app.LoadKeys(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	// No blob store: the admin commands never read or write packages.
	env.apps = app.New(db, nil, env.orgs, env.pol, keys, log)
	return env, nil
}

func (e *adminEnv) Close() { e.db.Close() }

func cmdAdminCreateOperator(ctx context.Context, c *cli, args []string) error {
	var cfg adminConfig
	fs, e := adminFlags(c, "create-operator", "create-operator --email E --name N [--role admin|reviewer] [--password-stdin]\n\nCreates an operator staff account. The password is asked for twice (not\nechoed) on a terminal; otherwise, or with --password-stdin, it is the first\nline of stdin. Refuses an e-mail address that already has an account.\nCreating an admin also voids any first-run setup link.", &cfg, false)
	email := fs.String("email", "", "e-mail address to sign in with")
	name := fs.String("name", "", "the person's name")
	role := fs.String("role", account.RoleAdmin, "staff role: admin (everything) or reviewer (reviews only)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin, without prompts")
	if _, err := adminParse(c, fs, e, "create-operator", args, 0); err != nil {
		return err
	}
	switch {
	case *email == "":
		return usageError(c, "admin create-operator", "--email is required")
	case *name == "":
		return usageError(c, "admin create-operator", "--name is required")
	case *role != account.RoleAdmin && *role != account.RoleReviewer:
		return usageError(c, "admin create-operator", "--role: %q is not admin or reviewer", *role)
	}
	pw, err := readNewPassword(c, *fromStdin)
	if err != nil {
		return err
	}
	env, err := openAdmin(ctx, c, cfg, true)
	if err != nil {
		return err
	}
	defer env.Close()
	var a account.Account
	err = env.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		a, err = env.acct.Create(ctx, tx, account.NewAccount{Email: *email, Name: *name, Password: pw, StaffRole: *role})
		if err != nil {
			return err
		}
		if *role == account.RoleAdmin {
			// An admin exists now: the one-time setup links `serve`
			// printed must not create another.
			if _, err := tx.Exec(ctx, `DELETE FROM platform_settings WHERE key LIKE 'setup_token:%'`); err != nil {
				return fmt.Errorf("void setup links: %w", err)
			}
		}
		return audit.Record(ctx, tx, adminActor, 0, "", "staff.create", map[string]any{"account_id": a.ID, "email": a.Email, "role": *role})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created %s %s (%s, account %d). They can sign in at /signin now.\n", *role, a.Email, a.Name, a.ID)
	return nil
}

// readNewPassword reads the new account's password: twice without echo
// on a terminal, else one line of stdin.
func readNewPassword(c *cli, fromStdin bool) (string, error) {
	lr := newLineReader(c)
	if fromStdin || lr.tty < 0 {
		lr.tty = -1
		pw, err := lr.ask("")
		if err != nil || pw == "" {
			return "", errors.New("no password: give it on the first line of stdin")
		}
		return pw, nil
	}
	pw, err := lr.secret("Password (10 to 200 characters): ")
	if err != nil {
		return "", err
	}
	if err := account.CheckPassword(pw); err != nil {
		return "", err
	}
	again, err := lr.secret("Password again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the two passwords differ; nothing was created")
	}
	return pw, nil
}

// parseExpiry reads durations like 7d, 36h, 90m (and anything
// time.ParseDuration takes).
func parseExpiry(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%q is not a duration like 7d or 36h", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration like 7d or 36h", s)
	}
	return d, nil
}

// hostURL is --public-url, or http://localhost:PORT from --addr as the
// server derives it.
func hostURL(cfg adminConfig) string {
	if cfg.PublicURL != "" {
		return strings.TrimRight(cfg.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "http://localhost:8080"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func cmdAdminInvite(ctx context.Context, c *cli, args []string) error {
	var cfg adminConfig
	fs, e := adminFlags(c, "invite", "invite [--uses N] [--expires 7d] [--email E] [--note TEXT]\n\nMakes an admission invitation: under invite-only admission, whoever has the\ncode (or the /join link) may sign up and create one organisation.", &cfg, true)
	uses := fs.Int("uses", 1, "how many organisations may use it (1 to 10000)")
	expires := fs.String("expires", "7d", "how long it stays valid: 7d, 36h, 30m (at most 90d)")
	email := fs.String("email", "", "only this e-mail address may use it")
	note := fs.String("note", "", "a note for your records (who it is for)")
	if _, err := adminParse(c, fs, e, "invite", args, 0); err != nil {
		return err
	}
	ttl, err := parseExpiry(*expires)
	if err != nil {
		return usageError(c, "admin invite", "--expires: %v", err)
	}
	env, err := openAdmin(ctx, c, cfg, false)
	if err != nil {
		return err
	}
	defer env.Close()
	inv, code, err := env.orgs.CreateInvitation(ctx, adminActor, org.NewInvitation{Email: *email, Note: *note, MaxUses: *uses, TTL: ttl})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "code:    %s\nlink:    %s/join?code=%s\nuses:    %d\nexpires: %s\n", code, hostURL(cfg), code, inv.MaxUses, when(inv.ExpiresAt))
	if inv.Email != "" {
		fmt.Fprintf(c.stdout, "only:    %s\n", inv.Email)
	}
	return nil
}

func cmdAdminInvitations(ctx context.Context, c *cli, args []string) error {
	var cfg adminConfig
	fs, e := adminFlags(c, "invitations", "invitations [--json]\n\nLists the admission invitations, newest first (the codes themselves are\nnever stored).", &cfg, false)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := adminParse(c, fs, e, "invitations", args, 0); err != nil {
		return err
	}
	env, err := openAdmin(ctx, c, cfg, false)
	if err != nil {
		return err
	}
	defer env.Close()
	invs, err := env.orgs.Invitations(ctx, adminActor, 0)
	if err != nil {
		return err
	}
	if invs == nil {
		invs = []org.Invitation{}
	}
	if *asJSON {
		return printJSON(c.stdout, invs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSES\tEXPIRES\tSTATE\tEMAIL\tNOTE")
	now := time.Now()
	for _, i := range invs {
		state := "usable"
		switch {
		case i.Revoked:
			state = "revoked"
		case i.Uses >= i.MaxUses:
			state = "used up"
		case !now.Before(i.ExpiresAt):
			state = "expired"
		}
		fmt.Fprintf(tw, "%d\t%d/%d\t%s\t%s\t%s\t%s\n", i.ID, i.Uses, i.MaxUses, when(i.ExpiresAt), state, dash(i.Email), dash(oneLine(i.Note)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdAdminReviews(ctx context.Context, c *cli, args []string) error {
	var cfg adminConfig
	fs, e := adminFlags(c, "reviews", "reviews [--json]\n\nLists the versions waiting for review, oldest first. Decide with\n`openmini admin approve ID` or `openmini admin reject ID --reason TEXT`.", &cfg, false)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := adminParse(c, fs, e, "reviews", args, 0); err != nil {
		return err
	}
	env, err := openAdmin(ctx, c, cfg, false)
	if err != nil {
		return err
	}
	defer env.Close()
	items, err := env.apps.ReviewQueue(ctx, adminActor)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c.stdout, items)
	}
	if len(items) == 0 {
		fmt.Fprintln(c.stdout, "Nothing is waiting for review.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAPP\tNAME\tORGANISATION\tVERSION\tSIZE\tSUBMITTED\tNOTE")
	for _, it := range items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.AppID, it.AppName, it.OrgName, it.Version.Version,
			humanSize(it.Size), when(it.SubmittedAt), dash(oneLine(it.Note)))
	}
	return tw.Flush()
}

// reviewDecision runs approve or reject on the version ID in args.
func reviewDecision(ctx context.Context, c *cli, args []string, reject bool) error {
	name, usage := "approve", "approve VERSION_ID\n\nApproves a version in review (the ID from `openmini admin reviews`); its\ndevelopers can release it then."
	if reject {
		name, usage = "reject", "reject VERSION_ID --reason TEXT\n\nRejects a version in review; the developers see the reason."
	}
	var cfg adminConfig
	fs, e := adminFlags(c, name, usage, &cfg, false)
	var reason *string
	if reject {
		reason = fs.String("reason", "", "why, in words the developer can act on (required)")
	}
	pos, err := adminParse(c, fs, e, name, args, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError(c, "admin "+name, "%q is not a version ID (see `openmini admin reviews`)", pos[0])
	}
	if reject && strings.TrimSpace(*reason) == "" {
		return usageError(c, "admin reject", "--reason is required: tell the developer why")
	}
	env, err := openAdmin(ctx, c, cfg, false)
	if err != nil {
		return err
	}
	defer env.Close()
	var v app.Version
	if reject {
		v, err = env.apps.Reject(ctx, adminActor, id, *reason)
	} else {
		v, err = env.apps.Approve(ctx, adminActor, id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s %s of %s (version %d).\n", map[bool]string{false: "Approved", true: "Rejected"}[reject], v.Version, v.AppID, v.ID)
	return nil
}

func cmdAdminApprove(ctx context.Context, c *cli, args []string) error {
	return reviewDecision(ctx, c, args, false)
}

func cmdAdminReject(ctx context.Context, c *cli, args []string) error {
	return reviewDecision(ctx, c, args, true)
}

func cmdAdminPolicy(ctx context.Context, c *cli, args []string) error {
	var cfg adminConfig
	fs, e := adminFlags(c, "policy", "policy [--admission open|invite] [--games on|off] [--allow-domains a.com,b.org] ... [--json]\n\nShows the platform policy; with flags, changes those fields and shows the\nresult. List flags take comma-separated values; an empty value clears the list.\nSizes take B, KB or MB (1 KB = 1024 B).", &cfg, false)
	admission := fs.String("admission", "", "who may create an organisation: open (anyone) or invite (with an invitation)")
	games := fs.String("games", "", "allow game mini programs: on or off")
	allowDomains := fs.String("allow-domains", "", "admit only e-mail addresses in these domains")
	denyDomains := fs.String("deny-domains", "", "refuse e-mail addresses in these domains")
	allowOrgs := fs.String("allow-orgs", "", "admit only organisations with these names")
	denyOrgs := fs.String("deny-orgs", "", "refuse organisations with these names")
	maxPackage := fs.String("max-package", "", "largest package file, e.g. 2MB")
	maxUncompressed := fs.String("max-uncompressed", "", "largest total of a package's files after decompression, e.g. 10MB")
	maxFiles := fs.Int("max-files", 0, "most files in a package")
	maxPages := fs.Int("max-pages", 0, "most pages in a package's manifest")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := adminParse(c, fs, e, "policy", args, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	env, err := openAdmin(ctx, c, cfg, false)
	if err != nil {
		return err
	}
	defer env.Close()
	p, err := env.pol.Get(ctx)
	if err != nil {
		return err
	}
	changed := false
	bad := func(flagName, format string, args ...any) error {
		return usageError(c, "admin policy", "--%s: %s", flagName, fmt.Sprintf(format, args...))
	}
	for name := range set {
		if name == "json" || name == "data" || name == "database-url" {
			continue
		}
		changed = true
		switch name {
		case "admission":
			if *admission != policy.AdmissionOpen && *admission != policy.AdmissionInvite {
				return bad(name, "%q is not open or invite", *admission)
			}
			p.Admission.Mode = *admission
		case "games":
			if *games != "on" && *games != "off" {
				return bad(name, "%q is not on or off", *games)
			}
			p.GamesEnabled = *games == "on"
		case "allow-domains":
			p.Admission.AllowDomains = splitList(*allowDomains)
		case "deny-domains":
			p.Admission.DenyDomains = splitList(*denyDomains)
		case "allow-orgs":
			p.Admission.AllowOrgs = splitList(*allowOrgs)
		case "deny-orgs":
			p.Admission.DenyOrgs = splitList(*denyOrgs)
		case "max-package", "max-uncompressed":
			v := *maxPackage
			dst := &p.Limits.MaxPackageBytes
			if name == "max-uncompressed" {
				v, dst = *maxUncompressed, &p.Limits.MaxUncompressedBytes
			}
			n, err := parseSize(v)
			if err != nil {
				return bad(name, "%v", err)
			}
			*dst = n
		case "max-files":
			p.Limits.MaxFiles = *maxFiles
		case "max-pages":
			p.Limits.MaxPages = *maxPages
		}
	}
	if changed {
		if p, err = env.pol.Set(ctx, adminActor, p); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(c.stdout, p)
	}
	if changed {
		fmt.Fprintln(c.stdout, "Policy saved; every server replica applies it at once.")
	}
	printPolicy(c, p)
	return nil
}

func printPolicy(c *cli, p policy.Policy) {
	list := func(l []string, empty string) string {
		if len(l) == 0 {
			return empty
		}
		return strings.Join(l, ", ")
	}
	onOff := map[bool]string{true: "on", false: "off"}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "admission:\t%s\n", p.Admission.Mode)
	fmt.Fprintf(tw, "  allow domains:\t%s\n", list(p.Admission.AllowDomains, "(any)"))
	fmt.Fprintf(tw, "  deny domains:\t%s\n", list(p.Admission.DenyDomains, "(none)"))
	fmt.Fprintf(tw, "  allow orgs:\t%s\n", list(p.Admission.AllowOrgs, "(any)"))
	fmt.Fprintf(tw, "  deny orgs:\t%s\n", list(p.Admission.DenyOrgs, "(none)"))
	fmt.Fprintf(tw, "games:\t%s\n", onOff[p.GamesEnabled])
	fmt.Fprintf(tw, "max package:\t%s (%d bytes)\n", humanSize(p.Limits.MaxPackageBytes), p.Limits.MaxPackageBytes)
	fmt.Fprintf(tw, "max uncompressed:\t%s (%d bytes)\n", humanSize(p.Limits.MaxUncompressedBytes), p.Limits.MaxUncompressedBytes)
	fmt.Fprintf(tw, "max files:\t%d\n", p.Limits.MaxFiles)
	fmt.Fprintf(tw, "max pages:\t%d\n", p.Limits.MaxPages)
	tw.Flush()
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseSize reads 2097152, 512KB, 2MB or 2 MiB (1 KB = 1024 B).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MIB", 1 << 20}, {"KIB", 1 << 10}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = n, u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) > 1<<40 {
		return 0, fmt.Errorf("%q is not a size like 2MB or 512KB", s)
	}
	return int64(f * float64(mult)), nil
}
