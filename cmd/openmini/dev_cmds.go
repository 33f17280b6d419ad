package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openmini/openmini/app"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/web"
)

// The developer commands: login, logout, upload, apps, versions, submit,
// trial, release, rollback and status. Each one parses its flags, makes
// one or two REST API calls (client.go) and prints the answer.

// usageError ends a command whose flags or arguments are wrong: one line
// naming the problem, exit status 2.
func usageError(c *cli, cmd, format string, args ...any) error {
	fmt.Fprintf(c.stderr, "openmini %s: %s (see `openmini %s --help`)\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitError{2}
}

// appFlag declares --app, which OPENMINI_APP can also set (for CI).
func appFlag(c *cli, fs *flag.FlagSet) *string {
	var id string
	e := &envFlags{fs: fs, getenv: c.getenv}
	e.String(&id, "app", "", "app ID (as shown by `openmini apps`)")
	return &id
}

// devArgs parses a developer command's flags and insists on --app (when
// appID is not nil) and no positional arguments.
func devArgs(c *cli, fs *flag.FlagSet, cmd string, args []string, appID *string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(c, cmd, "unexpected argument %q", pos[0])
	}
	if appID != nil && *appID == "" {
		return usageError(c, cmd, "--app is required")
	}
	return nil
}

// printJSON writes v indented, for --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// when formats a time for tables: local time to the minute, "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func appPath(appID string, rest ...string) string {
	p := "/api/v1/apps/" + url.PathEscape(appID)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func cmdLogin(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "login", "login [--server URL] [--token TOKEN] [--email E] [--org ID]\n\nStores the server and an API key in your configuration directory\n(os.UserConfigDir()/openmini/config.json, readable only by you; OPENMINI_CONFIG\nchanges the file). With --token it stores that key. Otherwise it asks for your\ne-mail and password (the password from stdin, not echoed on a terminal), signs\nin, lets you choose an organisation, and creates an API key named after this\nmachine. OPENMINI_SERVER and OPENMINI_TOKEN override the stored login.")
	serverFlag := fs.String("server", "", "the platform's URL, e.g. https://mini.example.com (default $OPENMINI_SERVER, else the stored login's)")
	token := fs.String("token", "", "store this API key (omk_...) instead of signing in")
	email := fs.String("email", "", "your e-mail address (asked for when absent)")
	orgSel := fs.String("org", "", "organisation ID or slug to create the key in (asked for when you belong to several)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(c, "login", "unexpected argument %q", pos[0])
	}
	old, path, err := loadLogin(c)
	if err != nil {
		old = login{} // a damaged file is replaced
		if path == "" {
			return err
		}
	}
	raw := *serverFlag
	for _, alt := range []string{c.getenv("OPENMINI_SERVER"), old.Server} {
		if raw == "" {
			raw = alt
		}
	}
	if raw == "" {
		return usageError(c, "login", "--server is required")
	}
	server, err := normalizeServer(raw)
	if err != nil {
		return usageError(c, "login", "--server: %v", err)
	}
	var l login
	if *token != "" {
		l, err = loginWithToken(ctx, server, strings.TrimSpace(*token))
	} else {
		l, err = loginWithPassword(ctx, c, server, *email, *orgSel)
	}
	if err != nil {
		return err
	}
	if err := saveLogin(path, l); err != nil {
		return fmt.Errorf("saving the login: %v", err)
	}
	// A key an earlier login made for this server is of no more use.
	if old.Server == server && old.KeyID != 0 && old.Token != l.Token {
		cl := newClient(old.Server, old.Token)
		cl.call(ctx, "DELETE", fmt.Sprintf("/api/v1/orgs/%d/api-keys/%d", old.OrgID, old.KeyID), nil, nil)
	}
	who := l.Account
	if who == "" {
		who = "an API key"
	}
	fmt.Fprintf(c.stdout, "Logged in to %s as %s (organisation %s).\nThe API key is stored in %s.\n", server, who, l.OrgName, path)
	return nil
}

// loginWithToken checks a key against the server and returns the login
// that stores it.
func loginWithToken(ctx context.Context, server, token string) (login, error) {
	var me web.Me
	if err := newClient(server, token).call(ctx, "GET", "/api/v1/me", nil, &me); err != nil {
		return login{}, err
	}
	l := login{Server: server, Token: token, OrgID: me.KeyOrgID}
	if len(me.Orgs) > 0 {
		l.OrgName = me.Orgs[0].Name
	}
	return l, nil
}

// loginWithPassword signs in, picks an organisation and creates an API key
// in it; the console session ends before it returns.
func loginWithPassword(ctx context.Context, c *cli, server, email, orgSel string) (login, error) {
	lr := newLineReader(c)
	var err error
	if email == "" {
		if email, err = lr.ask("E-mail: "); err != nil {
			return login{}, errors.New("no e-mail address: pass --email or type it on stdin")
		}
	}
	if u, _ := url.Parse(server); u.Scheme == "http" && !isLoopback(u.Hostname()) {
		fmt.Fprintf(c.stderr, "warning: %s is plain http; your password and the new API key cross the network unencrypted\n", server)
	}
	pw, err := lr.secret("Password: ")
	if err != nil || pw == "" {
		return login{}, errors.New("no password on stdin")
	}
	session, err := signIn(ctx, server, strings.TrimSpace(email), pw)
	if err != nil {
		return login{}, err
	}
	defer session.signOut(ctx)
	var me web.Me
	if err := session.call(ctx, "GET", "/api/v1/me", nil, &me); err != nil {
		return login{}, err
	}
	o, err := chooseOrg(c, lr, me, orgSel, server)
	if err != nil {
		return login{}, err
	}
	var created web.APIKeyCreated
	if err := session.call(ctx, "POST", fmt.Sprintf("/api/v1/orgs/%d/api-keys", o.ID), web.APIKeyRequest{Name: keyName()}, &created); err != nil {
		return login{}, err
	}
	return login{Server: server, Token: created.Token, OrgID: o.ID, OrgName: o.Name, KeyID: created.Key.ID, Account: me.Email}, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// chooseOrg picks the organisation for the key: --org, the only one, or
// the one the user types.
func chooseOrg(c *cli, lr *lineReader, me web.Me, sel, server string) (org.Org, error) {
	if len(me.Orgs) == 0 {
		return org.Org{}, fmt.Errorf("%s belongs to no organisation yet: create or join one in the console (%s/console)", me.Email, server)
	}
	if sel != "" {
		for _, o := range me.Orgs {
			if strconv.FormatInt(o.ID, 10) == sel || o.Slug == sel {
				return o, nil
			}
		}
		return org.Org{}, fmt.Errorf("--org: %s is not one of your organisations (%s)", sel, orgList(me.Orgs))
	}
	if len(me.Orgs) == 1 {
		return me.Orgs[0], nil
	}
	fmt.Fprintln(c.stderr, "Your organisations:")
	for i, o := range me.Orgs {
		fmt.Fprintf(c.stderr, "  %d) %s (id %d, %s)\n", i+1, o.Name, o.ID, o.Role)
	}
	answer, err := lr.ask(fmt.Sprintf("Create the API key in which one? [1-%d]: ", len(me.Orgs)))
	if err != nil {
		return org.Org{}, fmt.Errorf("you belong to several organisations: choose one with --org (%s)", orgList(me.Orgs))
	}
	n, err := strconv.Atoi(strings.TrimSpace(answer))
	if err != nil || n < 1 || n > len(me.Orgs) {
		return org.Org{}, fmt.Errorf("%q is not a number from 1 to %d", answer, len(me.Orgs))
	}
	return me.Orgs[n-1], nil
}

func orgList(orgs []org.Org) string {
	var s []string
	for _, o := range orgs {
		s = append(s, fmt.Sprintf("%d %s", o.ID, o.Name))
	}
	return strings.Join(s, ", ")
}

// keyName is the name of the key login creates: "openmini CLI on HOST",
// within the 60 characters a key name may have.
func keyName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	name := "openmini CLI on " + host
	if r := []rune(name); len(r) > 60 {
		name = string(r[:60])
	}
	return name
}

func cmdLogout(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "logout", "logout\n\nRemoves the stored login. A key that `openmini login` created is revoked on\nthe server; a key you gave with --token stays valid.")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(c, "logout", "unexpected argument %q", pos[0])
	}
	l, path, err := loadLogin(c)
	if err != nil && path == "" {
		return err
	}
	if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
		fmt.Fprintln(c.stdout, "Not logged in.")
		return nil
	}
	note := "the API key you gave with --token stays valid; revoke it in the console when it is no longer needed"
	if err == nil && l.KeyID != 0 {
		rerr := newClient(l.Server, l.Token).call(ctx, "DELETE", fmt.Sprintf("/api/v1/orgs/%d/api-keys/%d", l.OrgID, l.KeyID), nil, nil)
		var ae *apiError
		switch {
		case rerr == nil:
			note = "its API key is revoked"
		case errors.As(rerr, &ae) && (ae.Code == "unauthorized" || ae.Code == "not_found"):
			note = "its API key was already revoked"
		default:
			note = fmt.Sprintf("the API key could not be revoked (%v); revoke it in the console", rerr)
		}
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	if l.Server == "" {
		fmt.Fprintf(c.stdout, "Logged out: removed %s.\n", path)
	} else {
		fmt.Fprintf(c.stdout, "Logged out of %s: %s.\n", l.Server, note)
	}
	if c.getenv("OPENMINI_TOKEN") != "" {
		fmt.Fprintln(c.stdout, "OPENMINI_TOKEN is still set in this environment.")
	}
	return nil
}

// localLimits are the limits a project is packed under before upload:
// generous, because the server applies the operator's limits itself;
// locally only the package's structure is checked.
func localLimits() miniapp.Limits {
	l := miniapp.DefaultLimits()
	l.MaxPackageBytes *= 16
	l.MaxUncompressedBytes *= 16
	l.MaxFileBytes *= 16
	l.MaxFiles *= 16
	l.MaxPages *= 16
	return l
}

func cmdUpload(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "upload", "upload <dir|file.ma> --app ID [--version 1.2.0] [--note TEXT] [--json]\n\nPacks a project directory (or takes a .ma package) and uploads it as a new\ndevelopment version. A refused package prints one `file: problem` line per\nproblem and exits 1.")
	appID := appFlag(c, fs)
	version := fs.String("version", "", "version name (default: the manifest's version.name)")
	note := fs.String("note", "", "release note for reviewers and your team")
	asJSON := fs.Bool("json", false, "print the new version as JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(c, "upload", "give one project directory or .ma file")
	}
	if *appID == "" {
		return usageError(c, "upload", "--app is required")
	}
	target := pos[0]
	cl, err := remote(c)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	if err != nil {
		return err
	}
	var pkg []byte
	if st.IsDir() {
		var ve *miniapp.ValidationError
		pkg, _, err = miniapp.Pack(ctx, target, localLimits())
		if errors.As(err, &ve) {
			printProblems(c.stderr, target, ve.Problems, ve.Warnings)
			fmt.Fprintf(c.stderr, "openmini upload: %s is not a valid project; nothing was uploaded\n", target)
			return exitError{1}
		} else if err != nil {
			return err
		}
	} else if pkg, err = os.ReadFile(target); err != nil {
		return err
	}
	p := newProgress(c.stderr, isTerminal(c.stderr), "uploading "+filepath.Base(target), int64(len(pkg)))
	var v app.Version
	err = cl.upload(ctx, *appID, *version, *note, pkg, p, &v)
	var ae *apiError
	if errors.As(err, &ae) && len(ae.Problems) > 0 {
		printProblems(c.stderr, filepath.Base(target), ae.Problems, nil)
		fmt.Fprintf(c.stderr, "openmini upload: the server refused the package (%s); nothing was stored\n", plural(len(ae.Problems), "problem"))
		return exitError{1}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "Uploaded %s of %s: %s, %s (sha256 %s).\n", v.Version, v.AppID, v.State, humanSize(v.Size), v.SHA256)
	printProblems(c.stdout, filepath.Base(target), nil, v.Warnings)
	fmt.Fprintf(c.stdout, "Next: openmini submit --app %s --version %s\n", v.AppID, v.Version)
	return nil
}

func cmdApps(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "apps", "apps [--json]\n\nLists the mini programs of your organisation(s).")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := devArgs(c, fs, "apps", args, nil); err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	var out struct{ Apps []app.App }
	if err := cl.call(ctx, "GET", "/api/v1/apps", nil, &out); err != nil {
		return err
	}
	if out.Apps == nil {
		out.Apps = []app.App{}
	}
	if *asJSON {
		return printJSON(c.stdout, out.Apps)
	}
	if len(out.Apps) == 0 {
		fmt.Fprintln(c.stdout, "No apps yet: register one in the console.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tORGANISATION\tCATEGORY\tCREATED")
	for _, a := range out.Apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.OrgName, a.Category, when(a.CreatedAt))
	}
	return tw.Flush()
}

// versions lists an app's versions, newest first.
func versions(ctx context.Context, cl *client, appID string) ([]app.Version, error) {
	var out struct{ Versions []app.Version }
	err := cl.call(ctx, "GET", appPath(appID, "versions"), nil, &out)
	if out.Versions == nil {
		out.Versions = []app.Version{}
	}
	return out.Versions, err
}

func cmdVersions(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "versions", "versions --app ID [--json]\n\nLists an app's versions, newest first: state, whether it is the trial\nversion, size, when it was uploaded, and the reviewer's reason.")
	appID := appFlag(c, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := devArgs(c, fs, "versions", args, appID); err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	vs, err := versions(ctx, cl, *appID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c.stdout, vs)
	}
	if len(vs) == 0 {
		fmt.Fprintf(c.stdout, "%s has no versions yet: openmini upload <dir> --app %s\n", *appID, *appID)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tTRIAL\tSIZE\tUPLOADED\tREVIEW")
	for _, v := range vs {
		trial := "-"
		if v.Trial {
			trial = "yes"
		}
		reason := v.ReviewReason
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.State, trial, humanSize(v.Size), when(v.CreatedAt), oneLine(reason))
	}
	return tw.Flush()
}

// plural is "1 problem", "2 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// versionArgs is devArgs for commands that name a version.
func versionArgs(c *cli, fs *flag.FlagSet, cmd string, args []string, appID, version *string) (*client, error) {
	if err := devArgs(c, fs, cmd, args, appID); err != nil {
		return nil, err
	}
	if *version == "" {
		return nil, usageError(c, cmd, "--version is required")
	}
	return remote(c)
}

func cmdSubmit(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "submit", "submit --app ID --version V\n\nSends a development (or rejected) version to the operator's reviewers.")
	appID := appFlag(c, fs)
	version := fs.String("version", "", "the version to submit")
	cl, err := versionArgs(c, fs, "submit", args, appID, version)
	if err != nil {
		return err
	}
	var v app.Version
	if err := cl.call(ctx, "POST", appPath(*appID, "versions", *version, "submit"), nil, &v); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Submitted %s of %s for review. `openmini versions --app %s` shows the decision.\n", v.Version, v.AppID, v.AppID)
	return nil
}

func cmdTrial(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "trial", "trial --app ID (--version V | --clear)\n\nMakes a version the app's trial version, which only the organisation's\nmembers and the app's testers can open; --clear removes it.")
	appID := appFlag(c, fs)
	version := fs.String("version", "", "the version to try out")
	clear := fs.Bool("clear", false, "remove the trial version")
	if err := devArgs(c, fs, "trial", args, appID); err != nil {
		return err
	}
	switch {
	case *clear && *version != "":
		return usageError(c, "trial", "give --version or --clear, not both")
	case !*clear && *version == "":
		return usageError(c, "trial", "--version (or --clear) is required")
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	if *clear {
		if err := cl.call(ctx, "DELETE", appPath(*appID, "trial"), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s has no trial version now.\n", *appID)
		return nil
	}
	var v app.Version
	if err := cl.call(ctx, "PUT", appPath(*appID, "trial"), web.VersionRequest{Version: *version}, &v); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s is the trial version of %s: members of the organisation and the app's testers can open it.\n", v.Version, v.AppID)
	return nil
}

// getRelease returns the app's release, or nil when it was never released.
func getRelease(ctx context.Context, cl *client, appID string) (*app.Release, error) {
	var rel app.Release
	err := cl.call(ctx, "GET", appPath(appID, "release"), nil, &rel)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "not_found" && strings.Contains(ae.Message, "not been released") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rel, nil
}

// describeRelease is one sentence about who gets what.
func describeRelease(r app.Release) string {
	if r.Percent >= 100 || r.Previous == "" {
		return fmt.Sprintf("%s serves %s to everyone.", r.AppID, r.Version)
	}
	s := fmt.Sprintf("%s serves %s to %d%% of users; the other %d%% keep %s.", r.AppID, r.Version, r.Percent, 100-r.Percent, r.Previous)
	if r.Paused {
		s += " The rollout is paused."
	}
	return s
}

func cmdRelease(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "release", "release --app ID [--version V] [--percent N]\n       openmini release --app ID --pause|--resume\n\nReleases an approved version to N% of users (default 100), or changes the\npercentage of the rollout under way; users are chosen by a stable hash, so\nnobody flips between versions. The first release of an app goes to everyone.\n--version defaults to the newest approved version, or the one rolling out.")
	appID := appFlag(c, fs)
	version := fs.String("version", "", "the version to release (default: newest approved, else the one rolling out)")
	percent := fs.Int("percent", 100, "share of users, 1 to 100")
	pause := fs.Bool("pause", false, "pause the rollout under way (who has the new version keeps it)")
	resume := fs.Bool("resume", false, "resume a paused rollout")
	if err := devArgs(c, fs, "release", args, appID); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if (*pause || *resume) && (*pause && *resume || set["version"] || set["percent"]) {
		return usageError(c, "release", "--pause and --resume take no other flag but --app")
	}
	if *percent < 1 || *percent > 100 {
		return usageError(c, "release", "--percent: %d is not between 1 and 100", *percent)
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	if *pause || *resume {
		action := "resume"
		if *pause {
			action = "pause"
		}
		var rel app.Release
		if err := cl.call(ctx, "POST", appPath(*appID, "release", action), nil, &rel); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Rollout %sd. %s\n", action, describeRelease(rel))
		return nil
	}
	if *version == "" {
		if *version, err = defaultReleaseVersion(ctx, cl, *appID); err != nil {
			return err
		}
	}
	var rel app.Release
	if err := cl.call(ctx, "POST", appPath(*appID, "release"), web.ReleaseRequest{Version: *version, Percent: *percent}, &rel); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Released %s. %s\n", rel.Version, describeRelease(rel))
	return nil
}

// defaultReleaseVersion is the newest approved version, or else the
// version of a rollout under way.
func defaultReleaseVersion(ctx context.Context, cl *client, appID string) (string, error) {
	vs, err := versions(ctx, cl, appID)
	if err != nil {
		return "", err
	}
	for _, v := range vs {
		if v.State == app.StateApproved {
			return v.Version, nil
		}
	}
	rel, err := getRelease(ctx, cl, appID)
	if err != nil {
		return "", err
	}
	if rel != nil && rel.Percent < 100 {
		return rel.Version, nil
	}
	return "", fmt.Errorf("%s has no approved version to release: `openmini submit` one and wait for the review, or give --version", appID)
}

func cmdRollback(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "rollback", "rollback --app ID [--to VERSION]\n\nServes an earlier released version to everyone, at once: by default the\none before the current release.")
	appID := appFlag(c, fs)
	to := fs.String("to", "", "the released version to go back to (default: the previous one)")
	if err := devArgs(c, fs, "rollback", args, appID); err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	before, err := getRelease(ctx, cl, *appID)
	if err != nil {
		return err
	}
	if before == nil {
		return fmt.Errorf("%s has not been released yet; there is nothing to roll back", *appID)
	}
	var body any
	if *to != "" {
		body = web.RollbackRequest{Version: *to}
	}
	var rel app.Release
	if err := cl.call(ctx, "POST", appPath(*appID, "rollback"), body, &rel); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Rolled back from %s to %s. %s\n", before.Version, rel.Version, describeRelease(rel))
	return nil
}

// statusReport is `status --json`.
type statusReport struct {
	AppID   string           `json:"app_id"`
	Release *app.Release     `json:"release"`
	Trial   string           `json:"trial_version,omitempty"`
	User    *web.UserVersion `json:"user,omitempty"`
}

func cmdStatus(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "status", "status --app ID [--user KEY] [--json]\n\nShows the app's release: the version, the share of users it reaches, the\nprevious version the others keep, and the trial version. --user says which\nversion one user (an account ID or device key) gets.")
	appID := appFlag(c, fs)
	user := fs.String("user", "", "say which version this user key gets")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := devArgs(c, fs, "status", args, appID); err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	rep := statusReport{AppID: *appID}
	if rep.Release, err = getRelease(ctx, cl, *appID); err != nil {
		return err
	}
	vs, err := versions(ctx, cl, *appID)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Trial {
			rep.Trial = v.Version
		}
	}
	if *user != "" && rep.Release != nil {
		rep.User = &web.UserVersion{}
		if err := cl.call(ctx, "GET", appPath(*appID, "release", "users", *user), nil, rep.User); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(c.stdout, rep)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "app:\t%s\n", rep.AppID)
	if r := rep.Release; r == nil {
		fmt.Fprintf(tw, "release:\tnot released yet\n")
	} else {
		state := ""
		if r.Paused {
			state = " (paused)"
		}
		fmt.Fprintf(tw, "release:\t%s to %d%% of users%s\n", r.Version, r.Percent, state)
		if r.Previous != "" && r.Percent < 100 {
			fmt.Fprintf(tw, "previous:\t%s (the other %d%%)\n", r.Previous, 100-r.Percent)
		}
		fmt.Fprintf(tw, "updated:\t%s\n", when(r.UpdatedAt))
	}
	if rep.Trial != "" {
		fmt.Fprintf(tw, "trial:\t%s\n", rep.Trial)
	}
	switch {
	case rep.User != nil:
		fmt.Fprintf(tw, "user %s:\tgets %s (bucket %d; the rollout reaches buckets below %d)\n", rep.User.UserKey, rep.User.Version, rep.User.Bucket, rep.User.Percent)
	case *user != "":
		fmt.Fprintf(tw, "user %s:\tgets nothing until the app is released\n", *user)
	}
	return nil
}
