#!/usr/bin/env bash
# CLI benchmarks (see BENCHMARKS.md, section "CLI").
#
# Starts `openmini serve` on a fresh SQLite data directory, then times, one
# process per run, against that server over loopback:
#
#   1. `openmini upload <dir>`   packs a ~2 MB project and uploads it;
#   2. `openmini upload <file.ma>` uploads the same package already packed;
#   3. `openmini pack <dir>` alone, to show what packing costs;
#   4. the reference: `curl --data-binary @file.ma` with the same API key to
#      the same endpoint (no packing, no progress, no Go process start);
#   5. `openmini versions` beside `curl` of the same GET.
#
# Every upload is a new version (the server validates, hashes, stores and
# signs each one). Figures are the mean wall time per run in milliseconds.
#
#   bench/cli.sh            # N=10 runs of each
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10}
work=$(mktemp -d)
server_pid=
cleanup() {
	[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
go build -o "$work/openmini" ./cmd/openmini
om="$work/openmini"
export OPENMINI_CONFIG="$work/config.json"

port=$((20000 + RANDOM % 30000))
# 127.0.0.1, not localhost: name resolution is not what is measured.
server="http://127.0.0.1:$port"
"$om" serve --addr "127.0.0.1:$port" --data "$work/data" --log-level warn >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	curl -fs "$server/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done

# A developer, an app and an API key; the package limit raised so the
# fixture fits whatever the default is.
"$om" admin policy --data "$work/data" --max-package 8MB --max-uncompressed 32MB >/dev/null
curl -fs -o /dev/null -H "Origin: $server" -H 'Content-Type: application/json' -c "$work/cookies" \
	-d '{"email":"bench@example.com","name":"Bench","password":"bench-password-1","org_name":"Bench"}' "$server/api/v1/signup"
org=$(curl -fs -b "$work/cookies" "$server/api/v1/me" | sed -E 's/.*"orgs":\[\{"id":([0-9]+).*/\1/')
token=$(curl -fs -b "$work/cookies" -H "Origin: $server" -H 'Content-Type: application/json' \
	-d '{"name":"bench"}' "$server/api/v1/orgs/$org/api-keys" | sed -E 's/.*"token":"([^"]+)".*/\1/')
app=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"name":"Bench App","category":"tools"}' "$server/api/v1/apps" | sed -E 's/.*"app":\{"id":"([^"]+)".*/\1/')
"$om" login --server "$server" --token "$token" >/dev/null

# The fixture: the shop template plus ~2 MB of (incompressible) text.
"$om" init "$work/project" --template shop >/dev/null
for i in 1 2 3 4; do
	head -c 500000 /dev/urandom | base64 -w 100 >"$work/project/common/data-$i.txt"
done
"$om" pack "$work/project" -o "$work/project.ma" >/dev/null
echo "# package: $(stat -c %s "$work/project.ma") bytes, $(find "$work/project" -type f | wc -l) files; N=$N runs each"

# mean NAME TAG CMD...: runs CMD N times, with {} replaced by TAG-<run>
# (a fresh version name), and prints the mean wall milliseconds.
mean() {
	local name=$1 tag=$2 total=0 start end i
	shift 2
	for i in $(seq "$N"); do
		local args=("${@//\{\}/$tag-$i}")
		start=$(date +%s%N)
		"${args[@]}" >/dev/null 2>&1 || { echo "$name: run $i failed: ${args[*]}" >&2; exit 1; }
		end=$(date +%s%N)
		total=$((total + (end - start) / 1000))
	done
	awk -v n="$name" -v t="$total" -v c="$N" 'BEGIN { printf "%-42s %8.1f ms\n", n, t / c / 1000 }'
}

echo "## upload of the package"
mean "openmini upload <dir> (pack + upload)" d "$om" upload "$work/project" --app "$app" --version "{}"
mean "openmini upload <file.ma>" f "$om" upload "$work/project.ma" --app "$app" --version "{}"
mean "openmini pack <dir> (packing alone)" p "$om" pack "$work/project" -o "$work/{}.ma"
mean "curl --data-binary @file.ma (reference)" c curl -fs -o /dev/null -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/miniapp-pkg+zip' --data-binary "@$work/project.ma" "$server/api/v1/apps/$app/versions?version={}"

echo "## a JSON call"
mean "openmini versions" v "$om" versions --app "$app"
mean "curl GET .../versions (reference)" g curl -fs -o /dev/null -H "Authorization: Bearer $token" "$server/api/v1/apps/$app/versions"
