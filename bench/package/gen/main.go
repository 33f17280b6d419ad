// Command gen writes the package benchmark fixtures for bench/package.sh:
// the 5 MB, 500-file project and the 10 GiB zip bombs.
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	packagebench "github.com/openmini/openmini/bench/package"
)

func main() {
	out := flag.String("o", "", "output directory")
	flag.Parse()
	if *out == "" {
		log.Fatal("usage: gen -o DIR")
	}
	if err := packagebench.WriteProject(filepath.Join(*out, "project")); err != nil {
		log.Fatal(err)
	}
	for name, honest := range map[string]bool{"bomb-honest.ma": true, "bomb-lying.ma": false} {
		if err := os.WriteFile(filepath.Join(*out, name), packagebench.Bomb(honest), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
