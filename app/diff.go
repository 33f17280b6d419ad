package app

import (
	"context"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/openmini/openmini"
)

// FileChange is one file that differs between two versions.
type FileChange struct {
	Name   string `json:"name"`
	Change string `json:"change"` // added, removed or changed
	// Lines is a unified-style diff for text files of moderate size: each
	// line starts with " ", "+" or "-"; long unchanged runs are cut to
	// three lines of context around changes, with "@@" markers between.
	Lines []string `json:"lines,omitempty"`
	Note  string   `json:"note,omitempty"` // why no lines are shown
}

// Diff compares version to base file by file (base may be nil: everything
// is added). Text files up to 3000 lines get line diffs.
func (s *Service) Diff(ctx context.Context, base, version *Version) ([]FileChange, error) {
	old := map[string]File{}
	if base != nil {
		for _, f := range base.Files {
			old[f.Name] = f
		}
	}
	var out []FileChange
	for _, f := range version.Files {
		o, ok := old[f.Name]
		delete(old, f.Name)
		switch {
		case !ok:
			fc := FileChange{Name: f.Name, Change: "added"}
			if err := s.lineDiff(ctx, &fc, nil, &f); err != nil {
				return nil, err
			}
			out = append(out, fc)
		case o.SHA256 != f.SHA256:
			fc := FileChange{Name: f.Name, Change: "changed"}
			if err := s.lineDiff(ctx, &fc, &o, &f); err != nil {
				return nil, err
			}
			out = append(out, fc)
		}
	}
	if base != nil {
		for _, f := range base.Files {
			if _, gone := old[f.Name]; gone {
				out = append(out, FileChange{Name: f.Name, Change: "removed"})
			}
		}
	}
	return out, nil
}

func isTextName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".css", ".js", ".mjs", ".json", ".svg", ".txt", ".xml", ".md":
		return true
	}
	return false
}

func (s *Service) readText(ctx context.Context, f *File) ([]string, bool, error) {
	if f == nil {
		return nil, true, nil
	}
	if !isTextName(f.Name) || f.Size > 256<<10 {
		return nil, false, nil
	}
	rc, _, err := s.blob.Get(ctx, f.Key)
	if err != nil {
		return nil, false, &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "blob store unavailable", Err: err}
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, false, err
	}
	if !utf8.Valid(b) {
		return nil, false, nil
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) > 3000 {
		return nil, false, nil
	}
	return lines, true, nil
}

func (s *Service) lineDiff(ctx context.Context, fc *FileChange, a, b *File) error {
	al, okA, err := s.readText(ctx, a)
	if err != nil {
		return err
	}
	bl, okB, err := s.readText(ctx, b)
	if err != nil {
		return err
	}
	if !okA || !okB {
		fc.Note = "binary or large file: compare the SHA-256 digests"
		return nil
	}
	fc.Lines = DiffLines(al, bl, 3)
	return nil
}

// DiffLines returns the line diff of a and b with ctx lines of context.
func DiffLines(a, b []string, ctx int) []string {
	// Longest common subsequence table, from the end.
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			all = append(all, " "+a[i])
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			all = append(all, "+"+b[j])
			j++
		default:
			all = append(all, "-"+a[i])
			i++
		}
	}
	// Keep ctx lines around changes.
	keep := make([]bool, len(all))
	for k, l := range all {
		if l[0] != ' ' {
			for d := max(0, k-ctx); d <= min(len(all)-1, k+ctx); d++ {
				keep[d] = true
			}
		}
	}
	var out []string
	skipped := false
	for k, l := range all {
		if keep[k] {
			if skipped || (len(out) == 0 && k > 0) {
				out = append(out, "@@")
			}
			out = append(out, l)
			skipped = false
		} else {
			skipped = true
		}
	}
	return out
}
