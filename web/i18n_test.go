package web

import (
	"io/fs"
	"regexp"
	"strconv"
	"testing"
)

// TestEveryPageStringIsTranslated finds each {{.T "..."}} (and $.T, .T
// inside a with/range) in the templates and checks the Simplified Chinese
// catalog has it, so no page shows English to a Chinese reader.
func TestEveryPageStringIsTranslated(t *testing.T) {
	re := regexp.MustCompile(`\.T\s+("(?:[^"\\]|\\.)*")`)
	zh := catalogs["zh-Hans"]
	n := 0
	fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(p)
		for _, m := range re.FindAllSubmatch(b, -1) {
			msg, err := strconv.Unquote(string(m[1]))
			if err != nil {
				t.Errorf("%s: bad string %s", p, m[1])
				continue
			}
			n++
			if zh[msg] == "" {
				t.Errorf("%s: %q has no zh-Hans translation", p, msg)
			}
		}
		return nil
	})
	if n < 5 {
		t.Fatalf("found only %d translatable strings; is the pattern right?", n)
	}
}

// TestEveryHostScriptStringIsTranslated does the same for T('...') in the
// host's scripts.
func TestEveryHostScriptStringIsTranslated(t *testing.T) {
	zh := catalogs["zh-Hans"]
	for _, k := range hostStringsOnce() {
		if k == "perm." {
			continue
		}
		if zh[k] == "" {
			t.Errorf("host script string %q has no zh-Hans translation", k)
		}
	}
}
