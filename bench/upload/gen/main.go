// Command gen writes the upload benchmark's 2 MB package to a file, for
// the reference run in bench/upload.sh.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/openmini/openmini/bench/upload"
)

func main() {
	out := flag.String("o", "pkg.ma", "output file")
	flag.Parse()
	dir, err := os.MkdirTemp("", "upload-gen-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	pkg, err := upload.Package(dir, 2<<20-200<<10)
	if err == nil {
		err = os.WriteFile(*out, pkg, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("# package: %d bytes\n", len(pkg))
}
