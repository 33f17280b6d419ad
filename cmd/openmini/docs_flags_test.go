package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsUseRealFlags: every `openmini <command> --flag` the README and
// docs/ show (in code blocks and code spans) names a command that exists
// and a flag it has, so a reader who copies a line gets no "flag provided
// but not defined".
func TestDocsUseRealFlags(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "..", "README.md"))
	docs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = b
	}
	// A docs line "openmini init tea-house --template shop" is looked up
	// as "init tea-house --help": run from an empty folder, so a command
	// that acted before reading --help could touch nothing of ours.
	t.Chdir(t.TempDir())
	span := regexp.MustCompile("`(openmini [^`]+)`")
	word := regexp.MustCompile(`^[a-z][a-z-]*$`)
	flagRe := regexp.MustCompile(`(?:^|\s|\[)--([a-z][a-z-]*)`)
	helps := map[string]string{}
	help := func(path []string) (string, bool) {
		key := strings.Join(path, " ")
		if h, ok := helps[key]; ok {
			return h, h != ""
		}
		code, out, errOut := runCmd(t, nil, append(path, "--help")...)
		h := out + errOut
		if code != 0 || !strings.Contains(h, "Usage: openmini "+key) {
			h = ""
		}
		helps[key] = h
		return h, h != ""
	}
	checked := 0
	for _, f := range files {
		b := docs[f]
		var lines []string
		inCode := false
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inCode = !inCode
				continue
			}
			l := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "$ "))
			if inCode && strings.HasPrefix(l, "openmini ") {
				lines = append(lines, l)
			}
			for _, m := range span.FindAllStringSubmatch(line, -1) {
				lines = append(lines, m[1])
			}
		}
		for _, l := range lines {
			l = strings.SplitN(l, " #", 2)[0]
			fields := strings.Fields(l)
			flags := flagRe.FindAllStringSubmatch(l, -1)
			if len(fields) < 2 || !word.MatchString(fields[1]) || len(flags) == 0 {
				continue
			}
			// The longest command path that has a help text: "qr create", then "qr".
			var h string
			var ok bool
			if len(fields) > 2 && word.MatchString(fields[2]) {
				h, ok = help(fields[1:3])
			}
			if !ok {
				if h, ok = help(fields[1:2]); !ok {
					t.Errorf("%s: %q: no command openmini %s", filepath.Base(f), l, fields[1])
					continue
				}
			}
			for _, fl := range flags {
				if fl[1] == "help" {
					continue
				}
				checked++
				if !strings.Contains(h, "\n  -"+fl[1]+" ") && !strings.Contains(h, "\n  -"+fl[1]+"\n") {
					t.Errorf("%s: %q: openmini %s has no --%s", filepath.Base(f), l, fields[1], fl[1])
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d flags in the docs; is the pattern right?", checked)
	}
	t.Logf("checked %d flags", checked)
}
