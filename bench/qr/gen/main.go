// Command gen prints the benchmark short links, one a line, for
// bench/qr.sh to feed to the reference tools; with -png it also writes
// them as 512 px PNGs, with -pdf as the 200-code print kit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	qrbench "github.com/openmini/openmini/bench/qr"
	"github.com/openmini/openmini/qr"
)

func main() {
	n := flag.Int("n", 1000, "how many links")
	pngDir := flag.String("png", "", "write each link as DIR/NNNN.png (512 px)")
	pdf := flag.String("pdf", "", "write the links as an A4 kit, 12 per page, to this file")
	flag.Parse()
	if err := run(*n, *pngDir, *pdf); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n int, pngDir, pdf string) error {
	links := qrbench.ShortLinks(n)
	r := qr.NewRenderer(qr.RendererConfig{CacheBytes: -1})
	for i, l := range links {
		fmt.Println(l)
		if pngDir != "" {
			b, err := r.RenderUncached(l, qr.RenderOptions{Size: 512})
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(pngDir, fmt.Sprintf("%04d.png", i)), b, 0o644); err != nil {
				return err
			}
		}
	}
	if pdf == "" {
		return nil
	}
	s, err := qr.NewService(nil, qr.Config{BaseURL: qrbench.BaseURL})
	if err != nil {
		return err
	}
	defer s.Close()
	items := make([]qr.PrintItem, len(links))
	for i, l := range links {
		items[i] = qr.PrintItem{Content: l, Label: "Table " + strconv.Itoa(i+1), Sublabel: "Store 88 · 八十八号店"}
	}
	f, err := os.Create(pdf)
	if err != nil {
		return err
	}
	if err := s.WritePrintKit(context.Background(), f, items, qr.PDFOptions{PerPage: 12}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
