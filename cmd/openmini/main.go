// Command openmini is the whole platform in one binary: the server
// (`openmini serve`) and the developer and operator CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// cli carries what a command may touch of the outside world, so tests can run
// commands in-process with their own output and environment.
type cli struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	getenv func(string) string
}

// command is one `openmini <name>` subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// exitError ends a command with a given exit status without printing anything
// more (the command has already explained itself).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func commands() []command {
	cmds := []command{
		{"serve", "run the platform server", cmdServe},
		{"init", "write a new mini program project", cmdInit},
		{"dev", "run a project in the local simulator, reloading on save", cmdDev},
		{"validate", "check a mini program project or package", cmdValidate},
		{"pack", "build a deterministic .ma package from a project", cmdPack},
		{"verify", "check a downloaded package's platform signature offline", cmdVerify},
		{"version", "print the version", cmdVersion},
		{"login", "store a server and an API key for the commands below", cmdLogin},
		{"logout", "remove the stored login (and revoke its API key)", cmdLogout},
		{"upload", "upload a project or package as a new version", cmdUpload},
		{"apps", "list your mini programs", cmdApps},
		{"versions", "list an app's versions and their states", cmdVersions},
		{"submit", "send a version to review", cmdSubmit},
		{"trial", "set or clear an app's trial version", cmdTrial},
		{"release", "release a version to a share of users, pause or resume", cmdRelease},
		{"rollback", "serve an earlier released version to everyone", cmdRollback},
		{"status", "show an app's release and which version a user gets", cmdStatus},
		{"admin", "operator tasks against the server's database", cmdAdmin},
		{"qr", "QR codes: create, print kits for tables, list, stats, disable, images", cmdQR},
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

// Version is set at build time with -ldflags "-X main.Version=...";
// otherwise it comes from the module version or the VCS revision Go
// records in the binary (see buildVersion).
var Version = "dev"

func init() {
	if Version == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			Version = buildVersion(bi)
		}
	}
}

// buildVersion names a build without an explicit version: the module's
// version when it was installed as one, else "dev" with the commit
// (and "+dirty" for uncommitted changes), else "dev".
func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" && !strings.Contains(v, "+dirty") {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return "dev-" + rev
}

func cmdVersion(ctx context.Context, c *cli, args []string) error {
	fmt.Fprintf(c.stdout, "openmini %s\n", Version)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	os.Exit(run(ctx, c, os.Args[1:]))
}

// run dispatches to a subcommand and returns the process exit status.
func run(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(c.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, cmd := range commands() {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(ctx, c, args[1:])
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.code
		default:
			fmt.Fprintf(c.stderr, "openmini %s: %v\n", cmd.name, err)
			return 1
		}
	}
	fmt.Fprintf(c.stderr, "openmini: unknown command %q (run `openmini help`)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "OpenMini: an open, self-hostable mini program platform.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: openmini <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `openmini <command> --help` for a command's flags.")
}
