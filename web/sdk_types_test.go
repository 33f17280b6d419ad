package web_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/internal/testenv"
)

// TestSDKTypes compiles the SDK's TypeScript types, and a mini program
// written against them (testdata/sdk-types/usage.ts), with tsc --strict:
// the right calls type-check and each marked misuse is refused.
func TestSDKTypes(t *testing.T) {
	dir := filepath.Join("testdata", "sdk-types")
	tsc := filepath.Join("..", "testdata", "node", "node_modules", "typescript", "bin", "tsc")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node (make test installs nodejs)")
	}
	if _, err := os.Stat(tsc); err != nil {
		testenv.Missing(t, "TypeScript: run npm ci in testdata/node (make test does)")
	}
	out, err := exec.Command(node, tsc, "-p", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("tsc refused the SDK's types or their use: %v\n%s", err, out)
	}
}

// TestSDKErrorCodesAreTyped: every code a host method rejects with (its
// own, the payment sheet's, and the platform's, which host calls pass
// through) is in the ErrorCode type and in docs/sdk.md's table.
func TestSDKErrorCodesAreTyped(t *testing.T) {
	dts, err := os.ReadFile(filepath.Join("static", "sdk", "openmini.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	// The union runs to the first blank line; its members are the lines'
	// leading '|' 'code' (comments may hold anything).
	union := regexp.MustCompile(`(?s)type ErrorCode =(.*?)\n\s*\n`).FindSubmatch(dts)
	if union == nil {
		t.Fatal("openmini.d.ts has no ErrorCode type")
	}
	var typed []string
	for _, m := range regexp.MustCompile(`(?m)^\s*\|\s*'([a-z_]+)'`).FindAllSubmatch(union[1], -1) {
		typed = append(typed, string(m[1]))
	}
	docs, err := os.ReadFile(filepath.Join("..", "docs", "sdk.md"))
	if err != nil {
		t.Fatal(err)
	}

	used := map[string]string{}
	for _, c := range []string{openmini.EINVALID, openmini.ENOTFOUND, openmini.ECONFLICT, openmini.EUNAUTHORIZED,
		openmini.EFORBIDDEN, openmini.ETOOLARGE, openmini.ERATELIMITED, openmini.EUNAVAILABLE, openmini.EINTERNAL} {
		used[c] = "the platform's errors"
	}
	scripts, _ := filepath.Glob(filepath.Join("static", "*.js"))
	scripts = append(scripts, filepath.Join("static", "sdk", "openmini.js"))
	thrown := regexp.MustCompile(`(?:fail|SDKError|OpenMiniError)\(\s*'([a-z_]+)'`)
	mapped := regexp.MustCompile(`(?s)const CODES = \{(.*?)\};`)
	for _, f := range scripts {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range thrown.FindAllSubmatch(b, -1) {
			used[string(m[1])] = f
		}
		if m := mapped.FindSubmatch(b); m != nil {
			for _, v := range regexp.MustCompile(`:\s*'([a-z_]+)'`).FindAllSubmatch(m[1], -1) {
				used[string(v[1])] = f
			}
		}
	}
	if len(used) < 15 {
		t.Fatalf("found only %d error codes in the host's scripts; are the patterns right?", len(used))
	}
	for code, where := range used {
		if !slices.Contains(typed, code) {
			t.Errorf("%s rejects with %q, which openmini.d.ts's ErrorCode does not list", where, code)
		}
	}
	for _, code := range typed {
		if !strings.Contains(string(docs), "| `"+code+"` |") {
			t.Errorf("error code %q is typed but not in docs/sdk.md's table", code)
		}
	}
}

// TestExamplesCallTheSDK: the project templates (openmini init), the
// demo's mini programs and the docs' examples call only methods the SDK
// has, so an example never teaches a call that fails with "is not a
// function".
func TestExamplesCallTheSDK(t *testing.T) {
	dts, err := os.ReadFile(filepath.Join("static", "sdk", "openmini.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)\n  interface SDK \{(.*?)\n  \}`).FindSubmatch(dts)
	if body == nil {
		t.Fatal("openmini.d.ts has no SDK interface")
	}
	members := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^    (?:readonly )?([a-zA-Z]+)[:<(]`).FindAllSubmatch(body[1], -1) {
		members[string(m[1])] = true
	}
	if !members["tradePay"] || !members["navigateTo"] || len(members) < 30 {
		t.Fatalf("read %d SDK members from openmini.d.ts; is the pattern right?", len(members))
	}
	// Calls start with a lower-case letter; the docs' Go code has
	// openmini.ErrorMessage(...) and the like.
	call := regexp.MustCompile(`\b(?:openmini|sdk)\.([a-z][a-zA-Z]*)\s*\(`)
	n := 0
	for _, root := range []string{filepath.Join("..", "miniapp", "templates"), filepath.Join("..", "platform", "demo"), filepath.Join("..", "docs")} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || (!strings.HasSuffix(p, ".js") && !strings.HasSuffix(p, ".html") && !strings.HasSuffix(p, ".md")) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range call.FindAllSubmatch(b, -1) {
				n++
				if name := string(m[1]); !members[name] {
					t.Errorf("%s uses openmini.%s, which the SDK does not have", p, name)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 50 {
		t.Fatalf("found only %d SDK calls in the templates, the demo and the docs; is the pattern right?", n)
	}
}
