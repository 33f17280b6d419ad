package web

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The host's scripts translate with T('English text'); the strings they
// use are found in the scripts themselves and sent with each page in the
// page's language.

var jsStringRE = regexp.MustCompile(`\bT\('((?:[^'\\]|\\.)*)'`)

var hostStringsOnce = sync.OnceValue(func() []string {
	seen := map[string]bool{}
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(path_base(p), "host") || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, _ := staticFS.ReadFile(p)
		for _, m := range jsStringRE.FindAllSubmatch(b, -1) {
			seen[strings.ReplaceAll(string(m[1]), `\'`, `'`)] = true
		}
		return nil
	})
	for _, p := range permNames {
		seen["perm."+p] = true
	}
	for _, k := range []string{"release", "trial", "preview", "dev"} {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
})

var permNames = []string{"location", "clipboard", "camera", "userinfo", "phonenumber"}

// permEnglish names device permissions for people.
var permEnglish = map[string]string{
	"perm.location": "location", "perm.clipboard": "clipboard", "perm.camera": "camera",
	"perm.userinfo": "name and avatar", "perm.phonenumber": "phone number",
}

func path_base(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// hostStrings returns every host script string in lang.
func hostStrings(lang string) map[string]string {
	out := map[string]string{}
	for _, k := range hostStringsOnce() {
		v := translate(lang, k)
		if v == k {
			if e, ok := permEnglish[k]; ok {
				v = e
			}
		}
		if v != k {
			out[k] = v
		}
	}
	return out
}
