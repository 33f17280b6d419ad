package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/web"
)

// The package commands: init, validate, pack and verify. The rules live in
// package miniapp; these functions parse flags, call it, and print.

// parseArgs parses flags that may come before or after the positional
// arguments (`openmini pack dir -o x.ma`), returning the positionals.
// -h/--help prints the usage and ends the command with status 0.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitError{0}
			}
			return nil, exitError{2}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newFlags makes a FlagSet whose usage (and errors) go to c.stderr.
func newFlags(c *cli, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: openmini %s\n", usage)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(c.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func cmdInit(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "init", "init <dir> [--template blank|shop|game] [--name NAME]\n\nWrites a new mini program project into <dir> (which must be empty or absent).")
	tmpl := fs.String("template", "blank", "project template: "+strings.Join(miniapp.Templates(), ", "))
	name := fs.String("name", "", "display name of the mini program (default: the directory's name)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2}
	}
	dir := pos[0]
	if *name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		*name = filepath.Base(abs)
	}
	if err := miniapp.Init(dir, *tmpl, *name); err != nil {
		return errors.New(messageOf(err))
	}
	// The SDK's types and a jsconfig.json that includes them: editors
	// (VS Code and any TypeScript language server) then complete and
	// document openmini.* in the project's plain JavaScript. Pack leaves
	// both out of the package.
	for _, f := range []struct {
		name string
		data []byte
	}{{"openmini.d.ts", web.SDKTypes()}, {"jsconfig.json", []byte(jsconfig)}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stdout, "Created %s from the %s template, with the SDK's types for your editor (openmini.d.ts, jsconfig.json; not packed).\n\nNext:\n  cd %s\n  openmini dev .\n  openmini validate .\n  openmini pack .\n", dir, *tmpl, dir)
	return nil
}

// jsconfig is the editor configuration openmini init writes: the project's
// scripts with the SDK's types, not type-checked (checkJs false), so the
// editor completes openmini.* without flagging plain JavaScript.
const jsconfig = `{
  "compilerOptions": {
    "target": "es2022",
    "lib": ["es2022", "dom"],
    "checkJs": false
  },
  "include": ["openmini.d.ts", "**/*.js"]
}
`

// report is validate's --json output.
type report struct {
	Valid    bool              `json:"valid"`
	Errors   []miniapp.Problem `json:"errors"`
	Warnings []miniapp.Problem `json:"warnings"`
	Files    int               `json:"files,omitempty"`
	SHA256   string            `json:"sha256,omitempty"`
}

func cmdValidate(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "validate", "validate [--json] <dir|file.ma>\n\nChecks a project directory (as the package it would pack to) or a package.\nPrints one `file: problem` line per error and exits 1, or prints warnings\n(`warning: file: problem`) and exits 0.")
	asJSON := fs.Bool("json", false, `print {"valid", "errors", "warnings"} as JSON`)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2}
	}
	target := pos[0]
	p, err := openTarget(ctx, target)
	r := report{Valid: err == nil, Errors: []miniapp.Problem{}, Warnings: []miniapp.Problem{}}
	var ve *miniapp.ValidationError
	switch {
	case err == nil:
		r.Warnings = append(r.Warnings, p.Warnings...)
		r.Files, r.SHA256 = len(p.Files), fmt.Sprintf("%x", p.SHA256)
	case errors.As(err, &ve):
		r.Errors = append(r.Errors, ve.Problems...)
		r.Warnings = append(r.Warnings, ve.Warnings...)
	default:
		return err
	}
	for i := range r.Errors {
		if r.Errors[i].File == "" {
			r.Errors[i].File = target
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printProblems(c.stdout, target, r.Errors, r.Warnings)
		if r.Valid {
			fmt.Fprintf(c.stdout, "%s: valid (%d files, %d warnings)\n", target, r.Files, len(r.Warnings))
		}
	}
	if !r.Valid {
		return exitError{1}
	}
	return nil
}

// openTarget validates a project directory or a .ma file.
func openTarget(ctx context.Context, target string) (*miniapp.Package, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return miniapp.OpenDir(ctx, target, miniapp.DefaultLimits())
	}
	f, err := os.Open(target)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return miniapp.Open(ctx, f, st.Size(), miniapp.DefaultLimits())
}

// printProblems prints errors as `file: problem` and warnings as
// `warning: file: problem`; problems about the whole package name target.
func printProblems(w io.Writer, target string, errs, warns []miniapp.Problem) {
	name := func(p miniapp.Problem) string {
		if p.File == "" {
			return target
		}
		return p.File
	}
	for _, p := range errs {
		fmt.Fprintf(w, "%s: %s\n", name(p), p.Message)
	}
	for _, p := range warns {
		fmt.Fprintf(w, "warning: %s: %s\n", name(p), p.Message)
	}
}

func cmdPack(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "pack", "pack <dir> [-o file.ma]\n\nValidates the project in <dir> and writes a deterministic package\n(the same files always give the same bytes).")
	out := fs.String("o", "", "output file (default <dirname>.ma in the current directory)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2}
	}
	dir := pos[0]
	if *out == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		*out = filepath.Base(abs) + miniapp.Extension
	}
	pkg, p, err := miniapp.Pack(ctx, dir, miniapp.DefaultLimits())
	var ve *miniapp.ValidationError
	if errors.As(err, &ve) {
		printProblems(c.stdout, dir, ve.Problems, ve.Warnings)
		return exitError{1}
	} else if err != nil {
		return err
	}
	printProblems(c.stdout, dir, nil, p.Warnings)
	if err := writeFileAtomic(*out, pkg); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s (%d files, %d bytes, sha256:%x)\n", *out, len(p.Files), len(pkg), p.SHA256)
	return nil
}

// writeFileAtomic writes data to name through a temporary file in the same
// directory, so a reader never sees half a package.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".pack-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// keysPath is where the platform publishes its package-signing keys.
const keysPath = "/.well-known/miniapp-package-keys.json"

func cmdVerify(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "verify", "verify <file.ma> [--keys FILE_OR_URL] [--sig FILE]\n\nChecks the platform's signature of a downloaded package offline. The keys\nare a JWK Set from a file or URL; by default they are fetched once from\n$OPENMINI_SERVER"+keysPath+".")
	keysFlag := fs.String("keys", "", "JWK Set file or http(s) URL with the platform's package-signing keys")
	sigFlag := fs.String("sig", "", "signature file (default <file.ma>"+miniapp.SignatureExtension+")")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2}
	}
	file := pos[0]
	fail := func(format string, args ...any) error {
		fmt.Fprintf(c.stderr, "openmini verify: %s: %s\n", file, fmt.Sprintf(format, args...))
		return exitError{1}
	}
	src := *keysFlag
	if src == "" {
		server := strings.TrimRight(c.getenv("OPENMINI_SERVER"), "/")
		if server == "" {
			return fail("no keys: pass --keys FILE_OR_URL or set OPENMINI_SERVER")
		}
		src = server + keysPath
	}
	jwks, err := loadKeys(ctx, src)
	if err != nil {
		return fail("keys from %s: %v", src, err)
	}
	keys, err := miniapp.ParseKeySet(jwks)
	if err != nil {
		return fail("keys from %s: %s", src, messageOf(err))
	}
	sigFile := *sigFlag
	if sigFile == "" {
		sigFile = file + miniapp.SignatureExtension
	}
	pkg, err := os.ReadFile(file)
	if err != nil {
		return fail("%v", err)
	}
	sig, err := os.ReadFile(sigFile)
	if err != nil {
		return fail("no signature: %v", err)
	}
	s, err := miniapp.Verify(pkg, sig, keys)
	if err != nil {
		return fail("NOT VALID: %s", messageOf(err))
	}
	fmt.Fprintf(c.stdout, "%s: valid signature\nkey: %s\nsha256: %s\n", file, s.KeyID, s.SHA256)
	return nil
}

// loadKeys reads a JWK Set from a file or fetches it once from an http(s)
// URL.
func loadKeys(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return os.ReadFile(src)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// messageOf is the safe message of an openmini error, or its text.
func messageOf(err error) string {
	var e *openmini.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
