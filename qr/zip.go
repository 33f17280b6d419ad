package qr

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/openmini/openmini"
)

// WriteZIP writes the codes as a ZIP archive: one image per code, named
// "{nnn} {label}.{png|svg}" in the given order, plus codes.csv listing
// number, file, label, sublabel, slug, short URL and target. Images are
// stored, not deflated (PNG is already compressed). Errors: invalid render
// options; a write error stops the archive.
func (s *Service) WriteZIP(ctx context.Context, w io.Writer, codes []*Code, opts RenderOptions) error {
	opts, err := opts.normalize()
	if err != nil {
		return err
	}
	if len(codes) == 0 {
		return invalid("nothing to download: no codes")
	}
	if len(codes) > MaxBatch {
		return openmini.Errorf(openmini.ETOOLARGE, "%d codes: at most %d in one archive", len(codes), MaxBatch)
	}
	zw := zip.NewWriter(w)
	var index strings.Builder
	cw := csv.NewWriter(&index)
	cw.Write([]string{"n", "file", "label", "sublabel", "slug", "url", "target"})
	width := len(strconv.Itoa(len(codes)))
	width = max(width, 3)
	seen := map[string]bool{}
	modified := s.now()
	for i, c := range codes {
		if err := ctx.Err(); err != nil {
			return err
		}
		img, err := s.renderer.Render(ctx, s.ShortURL(c), opts)
		if err != nil {
			return fmt.Errorf("code %s: %w", c.Slug, err)
		}
		name := fmt.Sprintf("%0*d", width, i+1)
		if l := fileSafe(c.Label); l != "" {
			name += " " + l
		}
		if seen[name] {
			name += " " + c.Slug
		}
		seen[name] = true
		name += "." + string(opts.Format)
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: modified})
		if err != nil {
			return fmt.Errorf("write zip: %w", err)
		}
		if _, err := fw.Write(img); err != nil {
			return fmt.Errorf("write zip: %w", err)
		}
		cw.Write([]string{strconv.Itoa(i + 1), name, c.Label, c.Sublabel, c.Slug, s.ShortURL(c), s.LaunchURL(c.Target)})
	}
	cw.Flush()
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: "codes.csv", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	if _, err := io.WriteString(fw, index.String()); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	return nil
}

// fileSafe makes a label usable in a file name on every desktop system:
// letters (any script), digits, spaces, '-', '_' and '.', at most 60 runes.
func fileSafe(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= 60 {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteByte('_')
		}
		n++
	}
	return strings.Trim(strings.Join(strings.Fields(b.String()), " "), ". ")
}
