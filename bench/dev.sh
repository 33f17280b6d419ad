#!/usr/bin/env bash
# `openmini dev` benchmarks (see BENCHMARKS.md, section "openmini dev").
#
# Runs the Go benchmarks in bench/dev, each beside its reference in the
# same process:
#
#   1. re-validating a project after a save (the shop template and the
#      500-file, 5 MB project of bench/package) beside miniapp.OpenDir
#      alone, which is what `openmini validate` does;
#   2. a save until the simulator's event stream announces the change
#      (default 100 ms debounce, and 1 ms to show the machinery's own cost)
#      beside the bare fsnotify event for the same save;
#   3. a save until the new content shows in the simulator's device frame
#      in headless Chromium, beside saving the same page and reloading it
#      from a plain static file server (a developer's manual reload).
#
#   bench/dev.sh            # BENCHTIME=20x by default
set -euo pipefail
cd "$(dirname "$0")/.."

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go test -run '^$' -bench . -benchtime "${BENCHTIME:-20x}" -count 1 ./bench/dev
