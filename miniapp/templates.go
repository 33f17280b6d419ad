package miniapp

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/openmini/openmini"
)

//go:embed templates
var templateFS embed.FS

// Templates lists the project templates Init can write, the default first.
func Templates() []string { return []string{"blank", "shop", "game"} }

// Init writes a new project from the named template into dir, which must
// not exist or be empty. name is the mini program's display name; the
// app_id is derived from it. Errors: openmini.EINVALID for an unknown
// template or empty name, openmini.ECONFLICT when dir has files.
func Init(dir, template, name string) error {
	if !contains(Templates(), template) {
		return openmini.Errorf(openmini.EINVALID, "unknown template %q (choose %s)", template, strings.Join(Templates(), ", "))
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return openmini.Errorf(openmini.EINVALID, "the mini program needs a name")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return openmini.Errorf(openmini.ECONFLICT, "%s is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("init: %w", err)
	}
	quoted, _ := json.Marshal(name)
	inJSON := strings.NewReplacer("{{APP_ID}}", appID(name), "{{NAME}}", string(quoted[1:len(quoted)-1]))
	inText := strings.NewReplacer("{{APP_ID}}", appID(name), "{{NAME}}", name)
	root := path.Join("templates", template)
	return fs.WalkDir(templateFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if d.IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("init: %w", err)
			}
			return nil
		}
		data, err := templateFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		switch path.Ext(p) {
		case ".json":
			data = []byte(inJSON.Replace(string(data)))
		case ".md":
			data = []byte(inText.Replace(string(data)))
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		return nil
	})
}

var nonIDChars = regexp.MustCompile(`[^a-z0-9]+`)

// appID derives a reverse-domain app_id from a display name, for the
// developer to change: "My Shop" becomes "com.example.my_shop".
func appID(name string) string {
	s := strings.Trim(nonIDChars.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "app" + s
	}
	return "com.example." + s
}
