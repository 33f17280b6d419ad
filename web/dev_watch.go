package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run watches the project directory until ctx ends: after each burst of
// changes (no change for the debounce interval) it re-validates the
// project, prints the result and reloads the simulator pages (Reload).
// Directories created later are watched too; dot-directories and
// node_modules, which never go into a package, are not. When ctx ends it
// closes the simulator pages' event streams and returns nil; it fails
// only when the directory cannot be watched at all.
func (d *DevProject) Run(ctx context.Context) error {
	defer d.stop()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", d.label, err)
	}
	defer w.Close()
	if err := d.watchTree(w, d.dir); err != nil {
		return fmt.Errorf("watch %s: %w", d.label, err)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !d.relevant(ev) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				// A new directory (or one moved in) is watched with
				// everything under it; files already in it count as a change.
				d.watchTree(w, ev.Name)
			}
			timer.Reset(d.debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflowed event queue loses changes: validate anyway.
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				timer.Reset(d.debounce)
				continue
			}
			d.print(fmt.Sprintf("warning: watching %s: %v\n", d.label, err))
		case <-timer.C:
			d.Reload(ctx)
		}
	}
}

// relevant reports whether an event can change the package: not a mere
// change of permissions, and not under a path the packer leaves out.
func (d *DevProject) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	rel, err := filepath.Rel(d.dir, ev.Name)
	if err != nil {
		return false
	}
	return rel == "." || !skippedPath(filepath.ToSlash(rel))
}

// skippedPath reports whether a project path is left out of packages:
// anything under a dot-file or dot-directory, or under node_modules.
func skippedPath(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, ".") && seg != "." || seg == "node_modules" {
			return true
		}
	}
	return false
}

// watchTree adds root and every directory under it that can go into a
// package. Failures below the project root are printed, not fatal.
func (d *DevProject) watchTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == d.dir {
				return err
			}
			return nil // vanished meanwhile, or unreadable: validation says so
		}
		if !e.IsDir() {
			return nil
		}
		if rel, _ := filepath.Rel(d.dir, p); rel != "." && skippedPath(filepath.ToSlash(rel)) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil {
			if p == d.dir {
				return err
			}
			d.print(fmt.Sprintf("warning: cannot watch %s (changes there are not noticed): %v\n", p, err))
		}
		return nil
	})
}
