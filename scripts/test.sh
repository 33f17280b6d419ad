#!/usr/bin/env bash
# The one test command (`make test`; CI runs it through .ci/run).
#
#   scripts/test.sh                          whole suite, both databases
#   scripts/test.sh -run TestFoo ./sqldb/    go test args instead of ./...
#
# It installs what the suite needs when missing (PostgreSQL, Chromium,
# zbar-tools, poppler-utils, CJK fonts, Node.js and npm through apt;
# versitygw through go install; TypeScript and jose through npm ci), starts a
# throwaway PostgreSQL on a free loopback port, then runs gofmt, go vet and
# `go test -race` twice: server-level tests on SQLite, then on PostgreSQL.
# Missing parts fail the tests instead of skipping them
# (OPENMINI_TEST_REQUIRE_ALL=1).
#
# Environment it honours:
#   OPENMINI_TEST_POSTGRES   use this admin URL instead of starting a server
#   OPENMINI_TEST_CHROMIUM   browser binary (default /usr/bin/chromium)
#   OPENMINI_TEST_NO_INSTALL=1  never run apt-get or go install
set -euo pipefail

START=$SECONDS
PHASE_START=$SECONDS
SUMMARY=()
FAILED=0

heading() {
	PHASE_START=$SECONDS
	printf '\n==> %s\n' "$*"
}

# done_phase NAME STATUS: print and remember how the phase went.
done_phase() {
	local line
	line=$(printf '%-34s %-4s %4ds' "$1" "$2" $((SECONDS - PHASE_START)))
	printf -- '--- %s\n' "$line"
	SUMMARY+=("$line")
}

die() {
	printf 'test.sh: %s\n' "$*" >&2
	exit 1
}

as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}

# ---------------------------------------------------------------- installs

# find_pg_bin prints a directory holding working initdb, pg_ctl and postgres:
# the ones on PATH first (resolved through symlinks), then the newest
# /usr/lib/postgresql/*/bin.
find_pg_bin() {
	local cands=() d
	if command -v initdb >/dev/null; then
		cands+=("$(dirname "$(readlink -f "$(command -v initdb)")")")
	fi
	while IFS= read -r d; do
		cands+=("$d")
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4 -rn)
	for d in "${cands[@]}"; do
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] &&
			"$d/initdb" --version >/dev/null 2>&1 &&
			"$d/postgres" --version >/dev/null 2>&1; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

have_chromium() { [[ -x ${OPENMINI_TEST_CHROMIUM:-/usr/bin/chromium} ]]; }
have_zbar() { command -v zbarimg >/dev/null; }
have_poppler() { command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; }
have_cjk_fonts() {
	[[ $(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null) == "install ok installed" ]]
}

# apt_install PKG...: install Debian packages quietly, without starting the
# services they ship (a postgresql install would otherwise start a cluster on
# port 5432 that nobody uses).
apt_install() {
	local log policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
	log=$(mktemp "${TMPDIR:-/tmp}/openmini-apt.XXXXXX")
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null &&
			as_root chmod 755 "$policy" && added_policy=1
	fi
	{
		as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update &&
			as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq -y \
				install "$@"
	} </dev/null >"$log" 2>&1 || rc=$?
	if [[ $added_policy -eq 1 ]]; then
		as_root rm -f "$policy"
	fi
	if [[ $rc -ne 0 ]]; then
		tail -n 40 "$log" >&2
		rm -f "$log"
		die "apt-get install $* failed"
	fi
	rm -f "$log"
}

install_missing() {
	local pkgs=()
	find_pg_bin >/dev/null || pkgs+=(postgresql)
	have_chromium || pkgs+=(chromium)
	have_zbar || pkgs+=(zbar-tools)
	have_poppler || pkgs+=(poppler-utils)
	have_cjk_fonts || pkgs+=(fonts-noto-cjk)
	command -v node >/dev/null || pkgs+=(nodejs)
	command -v npm >/dev/null || pkgs+=(npm)
	if [[ ${#pkgs[@]} -gt 0 ]]; then
		if [[ ${OPENMINI_TEST_NO_INSTALL:-} == 1 ]]; then
			echo "missing, not installing (OPENMINI_TEST_NO_INSTALL=1): ${pkgs[*]}"
		elif [[ $EUID -ne 0 ]] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
			echo "missing, and no root to install them: ${pkgs[*]}"
		else
			echo "apt-get install ${pkgs[*]}"
			apt_install "${pkgs[@]}"
		fi
	fi

	# Node.js tools, pinned by testdata/node/package-lock.json: TypeScript
	# (TestSDKTypes) and jose (TestDocsBackendExample).
	if [[ ! -f testdata/node/node_modules/typescript/bin/tsc || ! -d testdata/node/node_modules/jose ]]; then
		if [[ ${OPENMINI_TEST_NO_INSTALL:-} == 1 ]]; then
			echo "missing, not installing: testdata/node (npm ci)"
		else
			echo "npm ci in testdata/node (TypeScript, jose)"
			local npmlog
			npmlog=$(mktemp "${TMPDIR:-/tmp}/openmini-npm.XXXXXX")
			if ! npm ci --prefix testdata/node --no-audit --no-fund >"$npmlog" 2>&1; then
				tail -n 40 "$npmlog" >&2
				rm -f "$npmlog"
				die "npm ci in testdata/node failed"
			fi
			rm -f "$npmlog"
		fi
	fi

	if ! command -v versitygw >/dev/null; then
		if [[ ${OPENMINI_TEST_NO_INSTALL:-} == 1 ]]; then
			echo "missing, not installing: versitygw"
		else
			echo "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
			local log
			log=$(mktemp "${TMPDIR:-/tmp}/openmini-goinstall.XXXXXX")
			if ! go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 >"$log" 2>&1; then
				tail -n 40 "$log" >&2
				rm -f "$log"
				die "go install versitygw failed"
			fi
			rm -f "$log"
		fi
	fi
}

# ---------------------------------------------------------------- postgres

PG_DIR=""
PG_BIN=""

# pg_as_owner CMD...: run a PostgreSQL binary as the owner of the data
# directory (the postgres user when we are root; initdb refuses root).
pg_as_owner() {
	if [[ $EUID -eq 0 ]]; then
		(cd "$PG_DIR" && runuser -u postgres -- "$@")
	else
		(cd "$PG_DIR" && "$@")
	fi
}

stop_postgres() {
	[[ -n $PG_DIR && -d $PG_DIR ]] || return 0
	if [[ -f $PG_DIR/data/postmaster.pid ]]; then
		pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
			pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
		if [[ -f $PG_DIR/data/postmaster.pid ]]; then
			local pid
			pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)
			if [[ $pid =~ ^[0-9]+$ ]]; then
				kill -9 "$pid" 2>/dev/null || true
			fi
		fi
	fi
	rm -rf "$PG_DIR"
	PG_DIR=""
}

# port_in_use PORT: something already accepts connections on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_postgres() {
	PG_BIN=$(find_pg_bin) || die "no working PostgreSQL server binaries (initdb, pg_ctl, postgres)"

	PG_DIR=$(mktemp -d /tmp/openmini-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	if [[ $EUID -eq 0 ]]; then
		id -u postgres >/dev/null 2>&1 ||
			useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
		chown postgres: "$PG_DIR"
	fi

	local t0=$SECONDS
	pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$PG_DIR'
		max_connections = 300
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	EOF

	# A free port: random, checked, and retried when another process wins
	# the race between the check and the bind.
	local port="" try
	for _ in 1 2 3 4 5 6 7 8; do
		try=$((20000 + RANDOM % 30000))
		port_in_use "$try" && continue
		if pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
			-o "-p $try" -w -t 60 start >/dev/null 2>&1; then
			port=$try
			break
		fi
		if ! grep -qi 'could not bind\|address already in use\|could not create any TCP' "$PG_DIR/server.log" 2>/dev/null; then
			cat "$PG_DIR/server.log" >&2 || true
			die "PostgreSQL did not start"
		fi
		: >"$PG_DIR/server.log"
	done
	[[ -n $port ]] || die "no free port for PostgreSQL after 8 attempts"

	export OPENMINI_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

	local psql=psql
	[[ -x $PG_BIN/psql ]] && psql=$PG_BIN/psql
	for _ in $(seq 1 100); do
		if [[ $("$psql" "$OPENMINI_TEST_POSTGRES" -XAtqc 'select 1' 2>/dev/null) == 1 ]]; then
			echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$port in $((SECONDS - t0))s (data in $PG_DIR)"
			return 0
		fi
		sleep 0.1
	done
	cat "$PG_DIR/server.log" >&2 || true
	die "PostgreSQL started but 'select 1' on $OPENMINI_TEST_POSTGRES fails"
}

# ---------------------------------------------------------------- main

LOG_DIR=""

# cleanup runs on every exit, including failures and Ctrl-C.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_postgres
	[[ -z $LOG_DIR ]] || rm -rf "$LOG_DIR"
	exit "$rc"
}

main() {
	cd "$(dirname "${BASH_SOURCE[0]}")/.."
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# go install puts versitygw in GOBIN, or else the first GOPATH's bin.
	local gobin gopath
	gobin=$(go env GOBIN)
	gopath=$(go env GOPATH)
	export PATH="${gobin:+$gobin:}${gopath%%:*}/bin:$PATH"

	heading "install missing dependencies"
	install_missing
	done_phase "install" ok

	if [[ -n ${OPENMINI_TEST_POSTGRES:-} ]]; then
		heading "PostgreSQL: using OPENMINI_TEST_POSTGRES from the environment"
		done_phase "postgres (external)" ok
	else
		heading "start a throwaway PostgreSQL"
		start_postgres
		done_phase "postgres start" ok
	fi

	export OPENMINI_TEST_REQUIRE_ALL=1
	export OPENMINI_TEST_CHROMIUM=${OPENMINI_TEST_CHROMIUM:-/usr/bin/chromium}

	heading "gofmt -l ."
	local unformatted db
	unformatted=$(gofmt -l .)
	if [[ -n $unformatted ]]; then
		echo "these files need gofmt -w:"
		echo "$unformatted"
		done_phase "gofmt" FAIL
		FAILED=1
	else
		done_phase "gofmt" ok
	fi

	if [[ $# -eq 0 ]]; then
		heading "go vet ./..."
		if go vet ./...; then done_phase "go vet" ok; else
			done_phase "go vet" FAIL
			FAILED=1
		fi
		set -- ./...
	else
		heading "go vet: skipped, go test args given ($*); go test runs its default vet checks"
	fi

	LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/openmini-test-log.XXXXXX")
	for db in sqlite postgres; do
		heading "go test -race -count=1 $* (OPENMINI_TEST_DB=$db)"
		if OPENMINI_TEST_DB=$db go test -race -count=1 -timeout 10m "$@" 2>&1 | tee -i "$LOG_DIR/$db.log"; then
			done_phase "go test ($db)" ok
		else
			done_phase "go test ($db)" FAIL
			FAILED=1
		fi
	done

	printf '\n==> summary (%ds total)\n' $((SECONDS - START))
	printf '    %s\n' "${SUMMARY[@]}"
	for db in sqlite postgres; do
		if grep -qE '^(FAIL\s|--- FAIL)' "$LOG_DIR/$db.log"; then
			echo "failures with OPENMINI_TEST_DB=$db:"
			grep -E '^(FAIL\s|--- FAIL)' "$LOG_DIR/$db.log" | sed 's/^/    /'
		fi
	done
	rm -rf "$LOG_DIR"
	if [[ $FAILED -ne 0 ]]; then
		echo "FAIL"
		exit 1
	fi
	echo "PASS"
}

# Sourcing the file (for testing its functions) does not run the suite.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
