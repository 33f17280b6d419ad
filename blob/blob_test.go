package blob

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestCheckKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want string // "" for valid, else a piece of the error
	}{
		{"a", ""},
		{"apps/a1/v1/pkg.zip", ""},
		{".well-known/x", ""},
		{"a..b/c...", ""},
		{"中文/空 格", ""},
		{"", "empty"},
		{"/a", "absolute"},
		{"a/", "ends with a slash"},
		{"a//b", "empty path element"},
		{"..", `".."`},
		{"a/./b", `"."`},
		{`a\b`, "backslash"},
		{"a\x00b", "control"},
		{"a\tb", "control"},
		{"\xc3", "UTF-8"},
		{strings.Repeat("a", MaxKeyLen), ""},
		{strings.Repeat("a", MaxKeyLen+1), "longer than"},
	} {
		err := CheckKey(tc.key)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckKey(%q) = %v, want nil", tc.key, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckKey(%q) = %v, want ErrInvalidKey mentioning %q", tc.key, err, tc.want)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "a/.", "a/..", ".well"} {
		if err := CheckPrefix(p); err != nil {
			t.Errorf("CheckPrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "../", "a/../", "a//", `a\`, "a\x00"} {
		if err := CheckPrefix(p); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("CheckPrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}

// FuzzCheckKey: every accepted key is a clean relative slash path that no
// adapter can turn into an escape.
func FuzzCheckKey(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../a", "a/..", "/a", `a\b`, "a//b", "a\x00", ".", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if CheckKey(key) != nil {
			return
		}
		if path.Clean(key) != key || path.IsAbs(key) || key == "." || key == ".." ||
			strings.HasPrefix(key, "../") || strings.ContainsAny(key, "\\\x00") {
			t.Fatalf("CheckKey accepted %q", key)
		}
	})
}
