package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/web"
)

// runCmd runs the CLI in-process and returns its exit status and output.
func runCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmdCtx(context.Background(), env, args...)
}

// runCmdCtx is runCmd with a context (cancel it to stop `serve`).
func runCmdCtx(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	c := &cli{stdout: &out, stderr: &errOut, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }}
	code = run(ctx, c, args)
	return code, out.String(), errOut.String()
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestInitValidatePack(t *testing.T) {
	for _, tmpl := range miniapp.Templates() {
		t.Run(tmpl, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "my-"+tmpl)
			if code, out, errOut := runCmd(t, nil, "init", dir, "--template", tmpl); code != 0 {
				t.Fatalf("init: %d %s %s", code, out, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
				t.Errorf("no README: %v", err)
			}
			// The editor gets the SDK's types: the file app origins serve,
			// and a jsconfig.json that includes it with the scripts.
			if types, err := os.ReadFile(filepath.Join(dir, "openmini.d.ts")); err != nil || !bytes.Equal(types, web.SDKTypes()) {
				t.Errorf("openmini.d.ts is not the SDK's types: %v", err)
			}
			var jsc struct {
				Include []string `json:"include"`
			}
			if b, err := os.ReadFile(filepath.Join(dir, "jsconfig.json")); err != nil || json.Unmarshal(b, &jsc) != nil ||
				!slices.Contains(jsc.Include, "openmini.d.ts") || !slices.Contains(jsc.Include, "**/*.js") {
				t.Errorf("jsconfig.json: %v %+v", err, jsc)
			}
			code, out, _ := runCmd(t, nil, "validate", dir)
			if code != 0 || strings.Contains(out, "warning:") || !strings.Contains(out, "valid") {
				t.Fatalf("validate: %d %s", code, out)
			}
			ma := filepath.Join(root, "out.ma")
			if code, out, errOut := runCmd(t, nil, "pack", dir, "-o", ma); code != 0 || !strings.Contains(out, "wrote") {
				t.Fatalf("pack: %d %s %s", code, out, errOut)
			}
			first, _ := os.ReadFile(ma)
			if p, err := miniapp.OpenBytes(context.Background(), first, miniapp.DefaultLimits()); err != nil {
				t.Fatal(err)
			} else {
				for _, name := range []string{"openmini.d.ts", "jsconfig.json", "README.md"} {
					if _, ok := p.File(name); ok {
						t.Errorf("%s was packed", name)
					}
				}
			}
			if code, out, _ := runCmd(t, nil, "validate", "--json", ma); code != 0 || !strings.Contains(out, `"valid": true`) {
				t.Fatalf("validate package: %d %s", code, out)
			}
			// Packing again gives the same bytes.
			runCmd(t, nil, "pack", "-o", ma, dir)
			if second, _ := os.ReadFile(ma); !bytes.Equal(first, second) {
				t.Error("pack is not deterministic")
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCmd(t, nil, "init", dir, "--template", "casino"); code == 0 || !strings.Contains(errOut, `unknown template "casino"`) {
		t.Errorf("unknown template: %d %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if code, _, errOut := runCmd(t, nil, "init", dir); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("non-empty: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, nil, "init"); code != 2 {
		t.Errorf("no dir: %d", code)
	}
}

func TestHelpListsFlags(t *testing.T) {
	for cmd, flagName := range map[string]string{"init": "-template", "validate": "-json", "pack": "-o", "verify": "-keys"} {
		code, _, errOut := runCmd(t, nil, cmd, "--help")
		if code != 0 || !strings.Contains(errOut, flagName) || !strings.Contains(errOut, "Usage: openmini "+cmd) {
			t.Errorf("%s --help: %d %s", cmd, code, errOut)
		}
	}
}

// brokenProject is a project with two errors and a warning.
func brokenProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "broken")
	if code, _, errOut := runCmd(t, nil, "init", dir); code != 0 {
		t.Fatal(errOut)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	m = bytes.Replace(m, []byte(`"code": 1`), []byte(`"code": 0`), 1)
	m = bytes.Replace(m, []byte(`["pages/index"]`), []byte(`["pages/index", "pages/gone"]`), 1)
	os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644)
	return dir
}

func TestValidateErrors(t *testing.T) {
	dir := brokenProject(t)
	code, out, _ := runCmd(t, nil, "validate", dir)
	if code != 1 || !strings.Contains(out, "manifest.json: version.code must be a positive integer") {
		t.Fatalf("validate: %d\n%s", code, out)
	}
	// Fix the code: the missing page remains.
	m, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	os.WriteFile(filepath.Join(dir, "manifest.json"), bytes.Replace(m, []byte(`"code": 0`), []byte(`"code": 1`), 1), 0o644)
	code, out, _ = runCmd(t, nil, "validate", "--json", dir)
	var r struct {
		Valid    bool
		Errors   []miniapp.Problem
		Warnings []miniapp.Problem
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 1 || r.Valid || len(r.Errors) != 1 || r.Errors[0].File != "pages/gone.html" {
		t.Fatalf("validate --json: %d %+v", code, r)
	}
	if code, out, _ := runCmd(t, nil, "pack", dir, "-o", filepath.Join(t.TempDir(), "x.ma")); code != 1 || !strings.Contains(out, "pages/gone.html: listed in manifest.json pages") {
		t.Errorf("pack of a broken project: %d %s", code, out)
	}
}

func TestValidateWarningsAndPackageFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "warn")
	runCmd(t, nil, "init", dir)
	os.WriteFile(filepath.Join(dir, "common", "unused.js"), []byte("1"), 0o644)
	code, out, _ := runCmd(t, nil, "validate", dir)
	if code != 0 || !strings.Contains(out, "warning: common/unused.js: nothing in the package refers to this file") {
		t.Fatalf("validate: %d %s", code, out)
	}
	notZip := filepath.Join(t.TempDir(), "bad.ma")
	os.WriteFile(notZip, []byte("hello"), 0o644)
	code, out, _ = runCmd(t, nil, "validate", notZip)
	if code != 1 || !strings.HasPrefix(out, notZip+": not a ZIP archive") {
		t.Fatalf("validate not-a-zip: %d %s", code, out)
	}
	if code, _, errOut := runCmd(t, nil, "validate", filepath.Join(t.TempDir(), "missing")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing path: %d %s", code, errOut)
	}
}

func TestPackDefaultOutput(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	runCmd(t, nil, "init", dir)
	t.Chdir(root)
	if code, out, errOut := runCmd(t, nil, "pack", "hello"); code != 0 {
		t.Fatalf("pack: %s %s", out, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "hello.ma")); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "app")
	runCmd(t, nil, "init", dir)
	ma := filepath.Join(root, "app.ma")
	runCmd(t, nil, "pack", dir, "-o", ma)
	pkg, _ := os.ReadFile(ma)

	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	sig, err := miniapp.Sign(pkg, priv, "k2025")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ma+".sig", sig, 0o644)
	jwks, _ := miniapp.MarshalKeySet(miniapp.KeySet{Keys: []miniapp.PublicKey{{KeyID: "k2025", Key: priv.Public().(ed25519.PublicKey)}}})
	keysFile := filepath.Join(root, "keys.json")
	os.WriteFile(keysFile, jwks, 0o644)

	code, out, errOut := runCmd(t, nil, "verify", ma, "--keys", keysFile)
	if code != 0 || !strings.Contains(out, "key: k2025") || !strings.Contains(out, "sha256: ") {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}

	// Keys fetched from $OPENMINI_SERVER.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/miniapp-package-keys.json" {
			http.NotFound(w, r)
			return
		}
		w.Write(jwks)
	}))
	defer srv.Close()
	if code, out, errOut := runCmd(t, map[string]string{"OPENMINI_SERVER": srv.URL + "/"}, "verify", ma); code != 0 {
		t.Fatalf("verify via server: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "verify", ma, "--keys", srv.URL+"/nope"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("bad keys URL: %d %s", code, errOut)
	}

	// A changed package fails.
	tampered := filepath.Join(root, "tampered.ma")
	pkg[len(pkg)/3] ^= 0x20
	os.WriteFile(tampered, pkg, 0o644)
	if code, _, errOut := runCmd(t, nil, "verify", tampered, "--keys", keysFile, "--sig", ma+".sig"); code != 1 || !strings.Contains(errOut, "NOT VALID") {
		t.Errorf("tampered: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "verify", tampered, "--keys", keysFile); code != 1 || !strings.Contains(errOut, "no signature") {
		t.Errorf("no sig file: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "verify", ma); code != 1 || !strings.Contains(errOut, "OPENMINI_SERVER") {
		t.Errorf("no keys: %d %s", code, errOut)
	}
}
