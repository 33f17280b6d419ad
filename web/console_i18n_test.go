package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleStringsFromGoAreTranslated covers the words the consoles' Go
// code hands to the templates (tab labels, flash messages, states, roles,
// page titles), which the template test cannot see.
func TestConsoleStringsFromGoAreTranslated(t *testing.T) {
	zh := catalogs["zh-Hans"]
	var msgs []string
	for _, defs := range [][]tabDef{appTabs, orgTabs, adminTabs} {
		for _, d := range defs {
			msgs = append(msgs, d.Label)
		}
	}
	for _, m := range []map[string]string{flashes, stateLabels, roleLabels, changeLabels} {
		for _, v := range m {
			msgs = append(msgs, v)
		}
	}
	msgs = append(msgs, invitationStates...)
	msgs = append(msgs, "binary or large file: compare the SHA-256 digests") // app.Diff's note
	// Page titles: the literal title of every page the consoles render.
	title := regexp.MustCompile(`(?:s\.page\(w, r, |s\.newView\(r, )"([^"]+)"`)
	files, _ := filepath.Glob("*.go")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || !(strings.HasPrefix(f, "console") || strings.HasPrefix(f, "admin") || strings.HasPrefix(f, "join")) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range title.FindAllStringSubmatch(string(b), -1) {
			msgs = append(msgs, m[1])
			n++
		}
	}
	if n < 5 {
		t.Fatalf("found only %d page titles; is the pattern right?", n)
	}
	for _, m := range msgs {
		if zh[m] == "" {
			t.Errorf("%q has no zh-Hans translation", m)
		}
	}
}
