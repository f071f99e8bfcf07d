#!/usr/bin/env bash
# bench/run.sh: Coffer's benchmark suite. It builds coffer and the load generator, starts
# throwaway servers (SQLite, then PostgreSQL) on 127.0.0.1, sets each up through the coffer CLI
# (a project with 50 secrets of 40 bytes and a member machine identity), measures read, write,
# login, growth and resources, writes bench/RESULTS.md, and stops everything it started.
#
#   bench/run.sh                 full run, 10 s measured per scenario (BENCH_DURATION=10s)
#   bench/run.sh --smoke         CI smoke run: 2 s per scenario, small growth; prints the report
#   bench/run.sh --output FILE   write the report to FILE instead of bench/RESULTS.md
#
# Settings (environment):
#   BENCH_DURATION           measured time per load run (default 10s; smoke 1500ms)
#   BENCH_WARMUP             warm-up before each load run, not counted (default 2s; smoke 500ms)
#   BENCH_PROJECTS           projects to create for the many-projects run (default 10000; smoke 1000)
#   BENCH_PROJECTS_TIMEOUT   time limit on creating them (default 300s): the report says how many were made
#   BENCH_POSTGRES           auto (default: measured when PostgreSQL binaries exist), 1 (required) or 0 (skip)
#   BENCH_PG_OPTS            postgres -c settings (default "synchronous_commit=off max_connections=200")
#   BENCH_MAX_OTHER_CPU      a load run during which other programs used more CPU than this (percent
#                            of one core, default 25) is repeated, up to BENCH_ATTEMPTS times in all
#   BENCH_ATTEMPTS           (default 3; smoke 1); the least disturbed attempt is kept and the report
#                            says which runs were repeated
#   BENCH_TIMEOUT            seconds after which the whole run gives up (default 3600)
#   BENCH_KEEP=1             keep the work directory (logs, databases) instead of removing it
#
# Needs: go, curl, jq; for PostgreSQL, initdb and postgres in /usr/lib/postgresql/*/bin or on
# PATH (as root it runs them as "nobody" through setpriv or runuser). Loopback only.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

SETTINGS="" # the BENCH_* settings of this run, for the report
for v in "${!BENCH_@}"; do SETTINGS+="$v=${!v} "; done
SMOKE=0
OUT=""
ARGS=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--output) OUT=${2:?--output needs a file}; shift ;;
	--output=*) OUT=${1#--output=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
if [ "$SMOKE" = 1 ]; then
	DURATION=${BENCH_DURATION:-1500ms} WARMUP=${BENCH_WARMUP:-500ms}
	GROWTH=(10 100 1000) PROJECTS=${BENCH_PROJECTS:-1000} RUNS=5 STARTS=2
else
	DURATION=${BENCH_DURATION:-10s} WARMUP=${BENCH_WARMUP:-2s}
	GROWTH=(10 100 1000 10000) PROJECTS=${BENCH_PROJECTS:-10000} RUNS=30 STARTS=5
	OUT=${OUT:-$HERE/RESULTS.md}
fi
# Nothing of the caller's Coffer, Infisical or PostgreSQL client setup may leak into the run.
unset "${!COFFER_@}" "${!INFISICAL_@}" "${!PG@}" 2>/dev/null || true
PROJECTS_TIMEOUT=${BENCH_PROJECTS_TIMEOUT:-300s}
MAX_OTHER_CPU=${BENCH_MAX_OTHER_CPU:-25}
ATTEMPTS=${BENCH_ATTEMPTS:-$([ "$SMOKE" = 1 ] && echo 1 || echo 3)}
TIMEOUT=${BENCH_TIMEOUT:-3600}
read -r -a PG_OPTS <<<"${BENCH_PG_OPTS:-synchronous_commit=off max_connections=200}"
BASE_SECRETS=50 # secrets in the read scenario's environment


log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in go curl jq; do command -v "$tool" >/dev/null || die "$tool is required"; done

START_EPOCH=$(date +%s)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench.XXXXXX")
BIN=$WORK/bin
RESULTS=$WORK/results.jsonl
COMMANDS=$WORK/commands.txt
mkdir -p "$BIN" "$WORK/cli"
: >"$RESULTS"
: >"$COMMANDS"
: >"$WORK/pids"
export COFFER_CONFIG_DIR=$WORK/cli/config COFFER_CACHE_DIR=$WORK/cli/cache # the CLI's files stay in WORK

# --- processes: every one started is tracked and stopped on exit ----------------------------
PIDS=()
declare -A STOPSIG=()
track() { PIDS+=("$1"); STOPSIG[$1]=${2:-TERM}; printf '%s\n' "${PIDS[@]}" >"$WORK/pids"; }
untrack() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
	printf '%s\n' "${PIDS[@]}" >"$WORK/pids"
}
alive() { # a child that has exited is a zombie until waited for: not alive
	local state
	[ -r "/proc/$1/stat" ] && read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null && [ "$state" != Z ]
}
stop_pid() { # stop_pid PID: its stop signal, SIGKILL after 15 s, then reap it
	local pid=$1 i
	if alive "$pid"; then
		kill -"${STOPSIG[$pid]:-TERM}" "$pid" 2>/dev/null || true
		for ((i = 0; i < 150; i++)); do alive "$pid" || break; sleep 0.1; done
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	wait "$pid" 2>/dev/null || true
	untrack "$pid"
}
cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	if [ -n "${WATCHDOG:-}" ]; then kill "$WATCHDOG" 2>/dev/null || true; wait "$WATCHDOG" 2>/dev/null || true; fi
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	if [ "$rc" -ne 0 ]; then
		for f in "$WORK"/*.log "$WORK"/pg/*.log; do
			[ -s "$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The watchdog: after BENCH_TIMEOUT seconds it stops the servers (so that whatever waits on
# them fails fast) and the script. It blocks in the shell's own read: no child process.
mkfifo "$WORK/watchdog"
(
	exec 3<>"$WORK/watchdog"
	if ! read -r -t "$TIMEOUT" -u 3 _; then
		echo "run.sh: giving up after ${TIMEOUT}s (BENCH_TIMEOUT)" >&2
		while read -r p; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done <"$WORK/pids"
		kill -TERM $$
	fi
) &
WATCHDOG=$!

note_cmd() { # records a command for the report, with ids and URLs replaced by names
	local c="$*" k
	for k in PROJECT GPROJECT IDENTITY CLIENT_ID BASE PG_PORT WORK; do
		[ -n "${!k:-}" ] && c=${c//${!k}/\$$k}
	done
	printf '%s\n' "$c" >>"$COMMANDS"
}

# --- build ------------------------------------------------------------------------------------
log "building coffer, loadgen and benchtool in $BIN"
cd "$REPO"
BUILD_CMD="CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o coffer ./cmd/coffer"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$BIN/coffer" ./cmd/coffer
go build -o "$BIN/loadgen" ./bench/loadgen
go build -o "$BIN/benchtool" ./bench/benchtool
BINARY_BYTES=$(stat -c %s "$BIN/coffer")
freeport() { "$BIN/benchtool" freeport; }
REDIS_BIN=$(command -v redis-server || true) # for the reads with Redis; skipped without it

# --- servers --------------------------------------------------------------------------------
SERVER_ENV=()  # VAR=VALUE settings of the current database's servers (kept off command lines)
SERVER_ARGS=() # flags of the current database's servers
wait_ready() { # wait_ready URL PID LOG
	local i
	for ((i = 0; i < 600; i++)); do
		curl -fsS --max-time 1 -o /dev/null "$1/readyz" 2>/dev/null && return 0
		alive "$2" || die "the server exited before it was ready (see $3)"
		sleep 0.05
	done
	die "the server at $1 was not ready after 30 s"
}
start_coffer() { # start_coffer NAME: a server of the current database; sets SERVER_PID and BASE
	local port
	port=$(freeport)
	BASE=http://127.0.0.1:$port
	(
		if [ ${#SERVER_ENV[@]} -gt 0 ]; then export "${SERVER_ENV[@]}"; fi
		exec "$BIN/coffer" server "${SERVER_ARGS[@]}" --listen "127.0.0.1:$port"
	) >>"$WORK/$1.log" 2>&1 &
	SERVER_PID=$!
	track "$SERVER_PID"
	wait_ready "$BASE" "$SERVER_PID" "$WORK/$1.log"
}
stop_coffer() { stop_pid "$SERVER_PID"; SERVER_PID=""; }

# --- setup through the coffer CLI -----------------------------------------------------------
cli() { "$BIN/coffer" "$@" --domain "$BASE"; }
admin() { COFFER_TOKEN=$ADMIN_TOKEN "$BIN/coffer" "$@" --domain "$BASE"; }
secret_lines() { # secret_lines N PREFIX: N lines PREFIX_00001=<40 random characters>
	awk -v n="$1" -v p="$2" -v seed="$RANDOM" 'BEGIN {
		srand(seed); a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		for (i = 1; i <= n; i++) { v = ""; for (j = 0; j < 40; j++) v = v substr(a, int(rand() * 62) + 1, 1); printf "%s_%05d=%s\n", p, i, v }
	}'
}
add_secrets() { # add_secrets PROJECT N PREFIX: N secrets in dev, 1,000 per request (the API's limit)
	secret_lines "$2" "$3" | COFFER_TOKEN=$ADMIN_TOKEN xargs -n 1000 "$BIN/coffer" secrets set --domain "$BASE" \
		--projectId "$1" --env dev --silent -o json >/dev/null
}
setup_instance() { # bootstrap; project "bench" with 50 secrets; a member identity and its token
	local boot password
	password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
	boot=$(COFFER_BOOTSTRAP_PASSWORD=$password cli bootstrap --email bench@example.com --organization Bench --output json)
	ADMIN_TOKEN=$(jq -r .identity.credentials.token <<<"$boot")
	PROJECT=$(admin projects create bench --plain --silent)
	read -r IDENTITY CLIENT_ID <<<"$(admin identities create bench-member --plain --silent)"
	CLIENT_SECRET=$(admin identities client-secret create "$IDENTITY" --plain --silent)
	admin members add --projectId "$PROJECT" --identity "$IDENTITY" --role member --silent >/dev/null
	add_secrets "$PROJECT" "$BASE_SECRETS" SECRET
	TOKEN=$(cli login --method universal-auth --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" --plain --silent)
	[ -n "$TOKEN" ] || die "no token from coffer login"
	if [ "$DB" = sqlite ]; then
		note_cmd "COFFER_BOOTSTRAP_PASSWORD=… coffer bootstrap --domain $BASE --email bench@example.com --organization Bench --output json   # admin token: .identity.credentials.token"
		note_cmd "COFFER_TOKEN=\$ADMIN_TOKEN coffer projects create bench --plain --silent --domain $BASE"
		note_cmd "COFFER_TOKEN=\$ADMIN_TOKEN coffer identities create bench-member --plain --silent --domain $BASE   # prints \$IDENTITY \$CLIENT_ID"
		note_cmd "COFFER_TOKEN=\$ADMIN_TOKEN coffer identities client-secret create $IDENTITY --plain --silent --domain $BASE   # \$CLIENT_SECRET"
		note_cmd "COFFER_TOKEN=\$ADMIN_TOKEN coffer members add --projectId $PROJECT --identity $IDENTITY --role member --silent --domain $BASE"
		note_cmd "COFFER_TOKEN=\$ADMIN_TOKEN coffer secrets set --domain $BASE --projectId $PROJECT --env dev SECRET_00001=<40 random characters> … SECRET_00050=…   # at most 1,000 per call"
		note_cmd "coffer login --method universal-auth --client-id $CLIENT_ID --client-secret \$CLIENT_SECRET --plain --silent --domain $BASE   # \$TOKEN, the member's token"
	fi
}

# --- measurements ---------------------------------------------------------------------------
# lg GROUP KEY LABEL [loadgen flags...]: one load run against $BASE, with the server's RSS and
# CPU sampled over the measured period; its JSON line goes to results.jsonl.
OTHER_JQ='(.server.machine_cpu_pct // 0) - (.server.cpu_pct // 0) - (.server.tree_cpu_pct // 0) - .loadgen_cpu_pct'
lg() {
	local group=$1 key=$2 label="$DB $3" out rpid attempt line other best="" best_other=""
	shift 3
	for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
		"$BIN/benchtool" rss -pid "$SERVER_PID" ${PG_PID:+-tree "$PG_PID"} -skip "$WARMUP" -d "$DURATION" >"$WORK/rss.json" &
		rpid=$!
		track "$rpid"
		if ! out=$("$BIN/loadgen" -url "$BASE" -warmup "$WARMUP" -d "$DURATION" -label "$label" -json "$@"); then
			stop_pid "$rpid"
			die "loadgen failed: $label"
		fi
		wait "$rpid" || true
		untrack "$rpid"
		line=$(jq -c --arg db "$DB" --arg group "$group" --arg key "$key" --slurpfile rss "$WORK/rss.json" \
			'. + {kind: "load", db: $db, group: $group, key: $key, server: $rss[0]}' <<<"$out")
		jq -r '"  \(.label): \(.rps | round) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, p99.9 \(.p999_ms) ms, errors \(.errors)"' <<<"$out" >&2
		other=$(jq -r "$OTHER_JQ | round" <<<"$line")
		if [ -z "$best" ] || [ "$other" -lt "$best_other" ]; then best=$line best_other=$other; fi
		[ "$other" -le "$MAX_OTHER_CPU" ] && break
		log "  other programs used ${other}% CPU during that run (more than $MAX_OTHER_CPU%)$( ((attempt < ATTEMPTS)) && echo ': repeating it')"
		((attempt < ATTEMPTS)) && sleep 3
	done
	jq -c --argjson attempts "$((attempt > ATTEMPTS ? ATTEMPTS : attempt))" '. + {attempts: $attempts}' <<<"$best" >>"$RESULTS"
	local creds="COFFER_TOKEN=\$TOKEN" # how run_database passes the credentials (in the environment)
	[[ " $* " == *" -scenario login "* ]] && creds="COFFER_UNIVERSAL_AUTH_CLIENT_ID=\$CLIENT_ID COFFER_UNIVERSAL_AUTH_CLIENT_SECRET=\$CLIENT_SECRET"
	note_cmd "$creds loadgen -url $BASE -warmup $WARMUP -d $DURATION -label '$label' -json $*"
}
record() { # record KIND KEY JSON: a measurement that is not a load run
	jq -c --arg db "$DB" --arg kind "$1" --arg key "$2" '. + {kind: $kind, db: $db, key: $key}' <<<"$3" >>"$RESULTS"
}

measure_startup() { # start-to-ready: STARTS starts on empty data, then STARTS restarts of the bench data
	local i out
	: >"$WORK/fresh.jsonl"
	for ((i = 1; i <= STARTS; i++)); do
		fresh_target "$i"
		out=$(
			if [ ${#FRESH_ENV[@]} -gt 0 ]; then export "${FRESH_ENV[@]}"; fi
			port=$(freeport)
			"$BIN/benchtool" startup -n 1 -log "$WORK/startup.log" -url "http://127.0.0.1:$port/readyz" -- \
				"$BIN/coffer" server "${FRESH_ARGS[@]}" --listen "127.0.0.1:$port"
		) || die "start-to-ready on empty data failed (see $WORK/startup.log)"
		printf '%s\n' "$out" >>"$WORK/fresh.jsonl"
	done
	record startup fresh "$(jq -sc '{median_ms: (map(.median_ms) | sort | .[length / 2 | floor]),
		idle_rss_kb: (map(.idle_rss_kb) | sort | .[length / 2 | floor]), all_ms: map(.median_ms), runs: length}' "$WORK/fresh.jsonl")"
	stop_coffer
	out=$(
		if [ ${#SERVER_ENV[@]} -gt 0 ]; then export "${SERVER_ENV[@]}"; fi
		port=$(freeport)
		"$BIN/benchtool" startup -n "$STARTS" -log "$WORK/startup.log" -url "http://127.0.0.1:$port/readyz" -- \
			"$BIN/coffer" server "${SERVER_ARGS[@]}" --listen "127.0.0.1:$port"
	) || die "start-to-ready of the bench data failed (see $WORK/startup.log)"
	record startup restart "$out"
	note_cmd "benchtool startup -n $STARTS -url http://127.0.0.1:\$PORT/readyz -- coffer server ${SERVER_ARGS[*]} --listen 127.0.0.1:\$PORT"
	start_coffer "$DB-server"
}

measure_run() { # coffer run -- true, RUNS times: with a token, and with universal-auth credentials
	local out
	out=$(COFFER_API_URL=$BASE COFFER_TOKEN=$TOKEN "$BIN/benchtool" repeat -n "$RUNS" -- \
		"$BIN/coffer" run --projectId "$PROJECT" --env dev -- true) || die "coffer run -- true failed"
	record run token "$out"
	note_cmd "COFFER_API_URL=$BASE COFFER_TOKEN=\$TOKEN benchtool repeat -n $RUNS -- coffer run --projectId $PROJECT --env dev -- true"
	out=$(COFFER_API_URL=$BASE COFFER_UNIVERSAL_AUTH_CLIENT_ID=$CLIENT_ID COFFER_UNIVERSAL_AUTH_CLIENT_SECRET=$CLIENT_SECRET \
		"$BIN/benchtool" repeat -n "$RUNS" -- "$BIN/coffer" run --projectId "$PROJECT" --env dev -- true) ||
		die "coffer run -- true with universal auth failed"
	record run universal-auth "$out"
	note_cmd "COFFER_API_URL=$BASE COFFER_UNIVERSAL_AUTH_CLIENT_ID=$CLIENT_ID COFFER_UNIVERSAL_AUTH_CLIENT_SECRET=\$CLIENT_SECRET benchtool repeat -n $RUNS -- coffer run --projectId $PROJECT --env dev -- true"
}

measure_growth() { # read latency at c=1 with 10 … 10,000 secrets in the environment
	local n t0
	for n in "${GROWTH[@]}"; do
		t0=$(date +%s%N)
		GPROJECT=$(admin projects create "growth-$n" --plain --silent)
		add_secrets "$GPROJECT" "$n" G
		admin members add --projectId "$GPROJECT" --identity "$IDENTITY" --role member --silent >/dev/null
		record setup "growth-$n" "{\"seconds\": $(((($(date +%s%N) - t0) / 1000000)))e-3}"
		COFFER_TOKEN=$TOKEN lg growth "n$n" "growth $n secrets c=1" -scenario read -c 1 -project "$GPROJECT" -env dev -expect "$n"
	done
	GPROJECT=""
}

measure_projects() { # read with PROJECTS more projects in the database, before and after
	local out
	COFFER_TOKEN=$TOKEN lg projects before-c1 "read c=1 before $PROJECTS projects" -scenario read -c 1 -project "$PROJECT" -env dev -expect "$BASE_SECRETS"
	COFFER_TOKEN=$TOKEN lg projects before-c16 "read c=16 before $PROJECTS projects" -scenario read -c 16 -project "$PROJECT" -env dev -expect "$BASE_SECRETS"
	log "  creating $PROJECTS projects (limit $PROJECTS_TIMEOUT)"
	out=$(COFFER_TOKEN=$ADMIN_TOKEN "$BIN/loadgen" -url "$BASE" -scenario create-project -c 4 -n "$PROJECTS" \
		-d "$PROJECTS_TIMEOUT" -warmup 0 -json) || die "creating projects failed"
	record setup projects "$(jq -c --argjson want "$PROJECTS" '. + {want: $want}' <<<"$out")"
	jq -r '"  created \(.ok_total) projects in \(.seconds * 10 | round / 10) s (\(.rps | round)/s, errors \(.errors))"' <<<"$out" >&2
	note_cmd "COFFER_TOKEN=\$ADMIN_TOKEN loadgen -url $BASE -scenario create-project -c 4 -n $PROJECTS -d $PROJECTS_TIMEOUT -warmup 0 -json"
	COFFER_TOKEN=$TOKEN lg projects after-c1 "read c=1 with $PROJECTS more projects" -scenario read -c 1 -project "$PROJECT" -env dev -expect "$BASE_SECRETS"
	COFFER_TOKEN=$TOKEN lg projects after-c16 "read c=16 with $PROJECTS more projects" -scenario read -c 16 -project "$PROJECT" -env dev -expect "$BASE_SECRETS"
}

measure_redis() { # the reads again with a Redis shared cache (a throwaway redis-server)
	[ -n "$REDIS_BIN" ] || return 0
	local saved=("${SERVER_ENV[@]}") c i
	if [ -z "${REDIS_PORT:-}" ]; then
		REDIS_PORT=$(freeport)
		("$REDIS_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK") >>"$WORK/redis.log" 2>&1 &
		REDIS_PID=$!
		track "$REDIS_PID"
		for ((i = 0; i < 100; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && break; sleep 0.05; done
		note_cmd "redis-server --port \$REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no"
	fi
	log "$DB: read with Redis"
	stop_coffer
	SERVER_ENV+=("COFFER_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0")
	start_coffer "$DB-server-redis"
	note_cmd "COFFER_REDIS_URL=redis://127.0.0.1:\$REDIS_PORT/0 coffer server …   # the same server, with Redis"
	for c in 1 16 64; do
		COFFER_TOKEN=$TOKEN lg read-redis "c$c" "read with Redis c=$c" -scenario read -c "$c" -project "$PROJECT" -env dev -expect "$BASE_SECRETS"
	done
	stop_coffer
	SERVER_ENV=("${saved[@]}")
	start_coffer "$DB-server"
}

run_database() { # everything, against the current database
	log "$DB: start-to-ready and setup"
	start_coffer "$DB-server"
	setup_instance
	measure_startup # restarts the server on the bench data
	local c
	log "$DB: read, write, login"
	for c in 1 16 64; do
		COFFER_TOKEN=$TOKEN lg read "c$c" "read c=$c" -scenario read -c "$c" -project "$PROJECT" -env dev -expect "$BASE_SECRETS"
	done
	measure_redis
	COFFER_TOKEN=$TOKEN lg write c16 "write c=16" -scenario write -c 16 -batch 10 -project "$PROJECT" -env staging
	COFFER_UNIVERSAL_AUTH_CLIENT_ID=$CLIENT_ID COFFER_UNIVERSAL_AUTH_CLIENT_SECRET=$CLIENT_SECRET lg login c16 "login c=16" -scenario login -c 16
	log "$DB: coffer run -- true, $RUNS times"
	measure_run
	log "$DB: growth"
	measure_growth
	measure_projects
	sleep 5
	record idle after-load "{\"rss_kb\": $(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")}"
	stop_coffer
}

# The benchmark's servers stop without the 15 s drain (nothing balances load to them), so that
# the restarts between measurements do not wait for it.
BENCH_SERVER_ENV=("COFFER_SHUTDOWN_DRAIN=0s")

# --- SQLite -----------------------------------------------------------------------------------
DB=sqlite
SERVER_ENV=("${BENCH_SERVER_ENV[@]}")
SERVER_ARGS=(--dev --data-dir "$WORK/sqlite/data")
fresh_target() { FRESH_ENV=() FRESH_ARGS=(--dev --data-dir "$WORK/sqlite/fresh-$1"); }
note_cmd "COFFER_SHUTDOWN_DRAIN=0s coffer server --dev --data-dir \$WORK/sqlite/data --listen 127.0.0.1:\$PORT   # SQLite"
run_database

# --- PostgreSQL -------------------------------------------------------------------------------
PG_STATUS="PostgreSQL not measured"
find_pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "$d"; return; fi
	d=$(command -v initdb 2>/dev/null || true)
	if [ -n "$d" ]; then d=$(dirname "$(readlink -f "$d")"); [ -x "$d/postgres" ] && echo "$d"; fi
}
start_postgres() { # a throwaway cluster in WORK/pg on a free port, as nobody when root
	local as=() i
	mkdir -p "$WORK/pg"
	if [ "$(id -u)" = 0 ]; then
		id nobody >/dev/null 2>&1 || die "running as root and there is no user nobody to run PostgreSQL as"
		if command -v setpriv >/dev/null; then
			as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
		else
			as=(runuser -u nobody --)
		fi
		chmod 711 "$WORK"
		chown nobody "$WORK/pg"
	fi
	"${as[@]}" "$PG_BIN/initdb" -D "$WORK/pg/data" -A trust -U postgres --no-sync -E UTF8 --locale=C \
		>"$WORK/pg/initdb.log" 2>&1 || die "initdb failed (see $WORK/pg/initdb.log)"
	PG_PORT=$(freeport)
	local opts=()
	for o in "${PG_OPTS[@]}"; do opts+=(-c "$o"); done
	(exec "${as[@]}" "$PG_BIN/postgres" -D "$WORK/pg/data" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
		-c unix_socket_directories= "${opts[@]}") >>"$WORK/pg/postgres.log" 2>&1 &
	PG_PID=$!
	track "$PG_PID" INT # fast shutdown
	for ((i = 0; i < 300; i++)); do
		"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres && return 0
		alive "$PG_PID" || die "postgres exited (see $WORK/pg/postgres.log)"
		sleep 0.1
	done
	die "postgres not ready after 30 s"
}
pg_url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1?sslmode=disable"; }
createdb() { "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1"; }

PG_BIN=$(find_pg_bin || true)
case ${BENCH_POSTGRES:-auto} in
0) PG_STATUS="PostgreSQL not measured (BENCH_POSTGRES=0)" ;;
*)
	if [ -z "$PG_BIN" ]; then
		[ "${BENCH_POSTGRES:-auto}" = 1 ] || [ "${CI:-}" = true ] && die "no PostgreSQL server binaries (Debian: apt-get install postgresql)"
		PG_STATUS="PostgreSQL not measured: no PostgreSQL server binaries on this machine"
		log "$PG_STATUS"
	else
		DB=postgres
		log "postgres: starting a throwaway cluster from $PG_BIN"
		start_postgres
		PG_VERSION=$("$PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /')
		createdb coffer
		KEYS=$("$BIN/coffer" keys generate)
		ROOT_KEY=$(grep '^COFFER_ROOT_KEY=' <<<"$KEYS") AUTH_SECRET=$(grep '^COFFER_AUTH_SECRET=' <<<"$KEYS")
		SERVER_ENV=("COFFER_DATABASE_URL=$(pg_url coffer)" "$ROOT_KEY" "$AUTH_SECRET" "${BENCH_SERVER_ENV[@]}")
		SERVER_ARGS=(--data-dir "$WORK/pg/coffer-data")
		fresh_target() {
			createdb "fresh_$1"
			FRESH_ENV=("COFFER_DATABASE_URL=$(pg_url "fresh_$1")" "$ROOT_KEY" "$AUTH_SECRET")
			FRESH_ARGS=(--data-dir "$WORK/pg/coffer-data")
		}
		note_cmd "initdb -D \$WORK/pg/data -A trust -U postgres --no-sync -E UTF8 --locale=C   # as nobody (setpriv) when root"
		note_cmd "postgres -D \$WORK/pg/data -p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories= $(printf -- '-c %s ' "${PG_OPTS[@]}")"
		note_cmd "COFFER_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/coffer?sslmode=disable COFFER_ROOT_KEY=… COFFER_AUTH_SECRET=… COFFER_SHUTDOWN_DRAIN=0s coffer server --data-dir \$WORK/pg/coffer-data --listen 127.0.0.1:\$PORT   # keys from coffer keys generate"
		run_database
		stop_pid "$PG_PID"
		PG_STATUS=$PG_VERSION
	fi
	;;
esac

# --- the report -------------------------------------------------------------------------------
ELAPSED=$(($(date +%s) - START_EPOCH))
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)
REPEATED=$(jq -rs --argjson max "$MAX_OTHER_CPU" --argjson attempts "$ATTEMPTS" "
	[.[] | select(.kind == \"load\") | {label: .label, attempts: (.attempts // 1), other: ($OTHER_JQ)}] as \$runs
	| [\$runs[] | select(.attempts > 1)] as \$rep | [\$runs[] | select(.other > \$max)] as \$bad
	| \"A load run during which they used more than \(\$max)% of one core was repeated, up to \(\$attempts) attempts, keeping the least disturbed: \" +
	  (if (\$rep | length) == 0 then \"none was.\" else \"\(\$rep | length) \(if (\$rep | length) == 1 then \"was\" else \"were\" end) (\(\$rep | map(.label) | join(\", \"))).\" end) +
	  (if (\$bad | length) == 0 then \"\" else \" **Still disturbed** (their figures understate Coffer): \(\$bad | map(\"\(.label) (\(.other | round)%)\") | join(\", \")).\" end)
	" "$RESULTS")
OTHER_CPU=$(jq -rs '[.[] | select(.kind == "load") | .server.machine_cpu_pct - .server.cpu_pct - (.server.tree_cpu_pct // 0) - .loadgen_cpu_pct | if . < 0 then 0 else . end]
	| if length == 0 then "–" else "on average \(add / length | round)% of one core during the measured load runs (at most \(max | round)%)" end' "$RESULTS")
log "writing the report"

# q DB KIND GROUP-OR-KEY... : the first matching record, as JSON ("null" when there is none)
load() { jq -sc --arg db "$1" --arg g "$2" --arg k "$3" 'map(select(.kind == "load" and .db == $db and .group == $g and .key == $k))[0]' "$RESULTS"; }
fact() { jq -sc --arg db "$1" --arg kind "$2" --arg k "$3" 'map(select(.kind == $kind and .db == $db and .key == $k))[0]' "$RESULTS"; }
field() { jq -r "(try ($2)) // empty" <<<"$1"; } # field JSON FILTER: its value, or nothing
dbname() { case $1 in sqlite) echo SQLite ;; postgres) echo PostgreSQL ;; esac; }
DBS=(sqlite)
[ "$DB" = postgres ] && DBS+=(postgres)

LOAD_HEAD='| Database | Scenario | c | req/s | p50 ms | p99 ms | p99.9 ms | errors | server max RSS MiB | server CPU % | PostgreSQL CPU % | loadgen CPU % | other CPU % |
|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|'
load_row() { # load_row DB GROUP KEY NAME
	local r
	r=$(load "$1" "$2" "$3")
	[ "$r" = null ] && { echo "| $(dbname "$1") | $4 | | not measured | | | | | | | | | |"; return; }
	jq -r --arg db "$(dbname "$1")" --arg name "$4" '
		def r2: . * 100 | round / 100;
		"| \($db) | \($name) | \(.concurrency) | \(.rps | round) | \(.p50_ms | r2) | \(.p99_ms | r2) | \(.p999_ms | r2) | " +
		(if .errors == 0 then "0" else "\(.errors): " + (.error_kinds | to_entries | map("\(.key) ×\(.value)") | join(", ")) end) +
		" | \(.server.max_rss_kb / 1024 | round) | \(.server.cpu_pct | round) | \(.server.tree_cpu_pct // "–" | if type == "number" then round else . end) | \(.loadgen_cpu_pct | round) | " +
		"\(.server.machine_cpu_pct - .server.cpu_pct - (.server.tree_cpu_pct // 0) - .loadgen_cpu_pct | if . < 0 then 0 else round end) |"' <<<"$r"
}
verdict() { # verdict VALUE OP LIMIT: met / missed / not measured
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "") { print "not measured"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "met" : "**missed**" }'
}
fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { if (v == "") print "–"; else printf "%.*f\n", d, v }'; }
rss_max_mib() { # the largest server RSS sampled during any measured load run on DB
	jq -rs --arg db "$1" '[.[] | select(.kind == "load" and .db == $db) | .server.max_rss_kb] | max // empty | . / 1024' "$RESULTS"
}
per_secret_ratio() { # (p50 at N / N) / (p50 at 50 / 50)
	local big small
	big=$(field "$(load "$1" growth "n$2")" .p50_ms)
	small=$(field "$(load "$1" read c1)" .p50_ms)
	[ -n "$big" ] && [ -n "$small" ] && awk -v b="$big" -v s="$small" -v n="$2" -v m="$BASE_SECRETS" 'BEGIN { printf "%.2f\n", (b / n) / (s / m) }'
}

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=""
[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ] && DIRTY=" (dirty: the working tree had uncommitted changes)"
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
MEM_GIB=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
FS_TYPE=$(df -T "$WORK" | awk 'NR == 2 {print $2}')
BIG=${GROWTH[${#GROWTH[@]}-1]}
INVOCATION="${SETTINGS}bench/run.sh${ARGS[*]:+ ${ARGS[*]}}"

target_rows() {
	local db name v
	for db in "${DBS[@]}"; do
		name=$(dbname "$db")
		if [ "$db" = sqlite ]; then
			v=$(field "$(load sqlite read c16)" .rps)
			echo "| Read at c=16 ≥ 10,000 req/s | SQLite | $(fmt "$v" 0) req/s | $(verdict "$v" '>=' 10000) |"
		else
			v=$(field "$(load postgres read c16)" .rps)
			echo "| Read at c=16 ≥ 6,000 req/s | PostgreSQL | $(fmt "$v" 0) req/s | $(verdict "$v" '>=' 6000) |"
		fi
	done
	for db in "${DBS[@]}"; do
		v=$(field "$(load "$db" read c64)" .p99_ms)
		echo "| p99 at c=64 ≤ 25 ms | $(dbname "$db") | $(fmt "$v" 2) ms | $(verdict "$v" '<=' 25) |"
	done
	for db in "${DBS[@]}"; do
		v=$(field "$(fact "$db" startup restart)" '.idle_rss_kb / 1024')
		echo "| Idle RSS ≤ 40 MiB (1 s after ready, bench data) | $(dbname "$db") | $(fmt "$v") MiB | $(verdict "$v" '<=' 40) |"
	done
	for db in "${DBS[@]}"; do
		v=$(rss_max_mib "$db")
		echo "| RSS under load ≤ 120 MiB (max over every load run) | $(dbname "$db") | $(fmt "$v") MiB | $(verdict "$v" '<=' 120) |"
	done
	for db in "${DBS[@]}"; do
		v=$(field "$(fact "$db" startup restart)" .median_ms)
		echo "| Start-to-ready ≤ 300 ms (restart, median of $STARTS) | $(dbname "$db") | $(fmt "$v") ms | $(verdict "$v" '<=' 300) |"
	done
	for db in "${DBS[@]}"; do
		v=$(field "$(fact "$db" run token)" .median_ms)
		echo "| \`coffer run -- true\` ≤ 50 ms (token, median of $RUNS) | $(dbname "$db") | $(fmt "$v") ms | $(verdict "$v" '<=' 50) |"
	done
	for db in "${DBS[@]}"; do
		v=$(per_secret_ratio "$db" "$BIG")
		echo "| Read p50 per secret at $BIG secrets ≤ 10× that at 50 | $(dbname "$db") | $(fmt "$v" 2)× | $(verdict "$v" '<=' 10) |"
	done
}

growth_rows() {
	local db n r ratio
	for db in "${DBS[@]}"; do
		r=$(load "$db" read c1)
		[ "$r" != null ] && jq -r --arg db "$(dbname "$db")" --argjson n "$BASE_SECRETS" '
			def r2: . * 100 | round / 100;
			"| \($db) | \($n) (the read scenario) | \(.rps | round) | \(.p50_ms | r2) | \(.p99_ms | r2) | \(.p999_ms | r2) | \(.errors) | \(.p50_ms * 1000 / $n | r2) | 1.00 |"' <<<"$r"
		for n in "${GROWTH[@]}"; do
			r=$(load "$db" growth "n$n")
			[ "$r" = null ] && continue
			ratio=$(per_secret_ratio "$db" "$n")
			jq -r --arg db "$(dbname "$db")" --argjson n "$n" --arg ratio "$ratio" '
				def r2: . * 100 | round / 100;
				"| \($db) | \($n) | \(.rps | round) | \(.p50_ms | r2) | \(.p99_ms | r2) | \(.p999_ms | r2) | \(.errors) | \(.p50_ms * 1000 / $n | r2) | \($ratio) |"' <<<"$r"
		done
	done
}

projects_rows() {
	local db s
	for db in "${DBS[@]}"; do
		s=$(fact "$db" setup projects)
		[ "$s" = null ] && continue
		jq -r --arg db "$(dbname "$db")" '"| \($db) | \(.ok_total) of \(.want) | \(.seconds * 10 | round / 10) s | \(.rps | round) | \(.errors) |"' <<<"$s"
	done
}

resource_rows() {
	local db cells label
	row() { # row LABEL JQ-ON-FACT KIND KEY DIGITS UNIT
		cells=""
		for db in "${DBS[@]}"; do cells+=" $(fmt "$(field "$(fact "$db" "$3" "$4")" "$2")" "$5") $6 |"; done
		echo "| $1 |$cells"
	}
	row "Idle RSS, 1 s after ready on empty data (median of $STARTS starts)" '.idle_rss_kb / 1024' startup fresh 1 MiB
	row "Idle RSS, 1 s after ready on the bench data (median of $STARTS starts)" '.idle_rss_kb / 1024' startup restart 1 MiB
	cells=""
	for db in "${DBS[@]}"; do cells+=" $(fmt "$(field "$(load "$db" read c64)" '.server.max_rss_kb / 1024')") MiB |"; done
	echo "| RSS under load: max during read at c=64 |$cells"
	cells=""
	for db in "${DBS[@]}"; do cells+=" $(fmt "$(rss_max_mib "$db")") MiB |"; done
	echo "| RSS under load: max during any load run (incl. $BIG-secret reads) |$cells"
	row "RSS 5 s after the last load run" '.rss_kb / 1024' idle after-load 1 MiB
	row "Start-to-ready on empty data, migrations included (median of $STARTS)" .median_ms startup fresh 1 ms
	row "Start-to-ready on the bench data (median of $STARTS)" .median_ms startup restart 1 ms
	row "\`coffer run -- true\` with a token (median of $RUNS)" .median_ms run token 1 ms
	row "\`coffer run -- true\` with client id/secret: login + fetch (median of $RUNS)" .median_ms run universal-auth 1 ms
}

pg_settings() {
	if [ "${#DBS[@]}" -lt 2 ]; then echo "- $PG_STATUS."; return; fi
	echo "- $PG_STATUS: a throwaway cluster (\`initdb --no-sync\`, then \`postgres\` with"
	echo "  $(printf '`%s` ' "${PG_OPTS[@]}")on 127.0.0.1, otherwise defaults). synchronous_commit=off"
	echo "  is PostgreSQL's equivalent of SQLite's synchronous=NORMAL: a commit does not wait for its WAL"
	echo "  flush; fsync stays on. Coffer reaches it over TCP on 127.0.0.1."
}

SERVER_COLS="| Measure |"
SEP="|---|"
for db in "${DBS[@]}"; do SERVER_COLS+=" $(dbname "$db") |"; SEP+="---:|"; done

REPORT=$WORK/RESULTS.md
{
	cat <<EOF
# Coffer benchmark results

Written by \`bench/run.sh\`; reproduce with \`$INVOCATION\` (from the repository root).$([ "$SMOKE" = 1 ] && printf '\n%s' "**This is a smoke run** (short runs, small growth): its figures are not results.")

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: \`$COMMIT\`$DIRTY
- Machine: $(nproc) CPUs ($CPU_MODEL), $MEM_GIB GiB memory, Linux $(uname -r); work directory on $FS_TYPE
- $(go version | sed 's/^go version //;s/^/Go /'); $PG_STATUS
- Run time: $((ELAPSED / 60)) min $((ELAPSED % 60)) s for the whole script (build and setup included)
- Other programs on the machine: load average $LOADAVG_START at the start, $LOADAVG_END at the end;
  their CPU use was $OTHER_CPU.
  $REPEATED
- Each load run: $WARMUP warm-up (not counted), then $DURATION measured, closed loop (each of c workers
  waits for the whole answer before sending the next request). The load generator runs on the same
  $(nproc) CPUs as the server (and PostgreSQL); "loadgen CPU %" shows its share (100 = one core).
  Rates and latencies count 2xx answers only; every other answer is an error, listed by kind.
- Binary: $(awk -v b="$BINARY_BYTES" 'BEGIN { printf "%.1f MiB (%d bytes)", b / 1048576, b }'), built with \`$BUILD_CMD\`

## Targets (issue 6)

| Target | Database | Figure | |
|---|---|---:|---|
$(target_rows)

Where the time goes (profile with \`COFFER_PPROF_LISTEN=127.0.0.1:6060\` on the server and
\`go tool pprof -top 'http://127.0.0.1:6060/debug/pprof/profile?seconds=8'\` under the read load):
a repeated read is answered from the node's cache (no query on SQLite; one shared poll of the
database-wide revision per round of requests on PostgreSQL), so its CPU goes to net/http and the
socket write of the ~20 KB body (about two thirds), the audit appender (about a tenth) and the
rest to middleware and allocation. Writes and logins pay for what reads no longer do: every
change is audited in its own transaction, which holds the audit chain's head row (and, on
PostgreSQL, the database-wide revision row) until it commits, so writes are serialized across
the cluster. See the README's "Caching, and Redis" and "Audit log".
In the tables below, "server CPU %" is Coffer's CPU use over the measured period, "PostgreSQL CPU
%" that of the postmaster and its backends, "loadgen CPU %" the load generator's (100 = one core;
the machine has $(nproc)): together they show where a run is CPU-bound. "Other CPU %" is the rest of
the machine's busy time in that period (/proc/stat): other programs running at the same time. A
run with much of it was disturbed and understates Coffer.

## Read: \`GET /api/v4/secrets\`, 50 secrets of 40 bytes, secretPath=/

Requests: \`GET /api/v4/secrets?projectId=…&environment=dev&secretPath=/\` with the member
identity's access token (a universal-auth login).

$LOAD_HEAD
$(for db in "${DBS[@]}"; do for c in 1 16 64; do load_row "$db" read "c$c" "read"; done; done)

With Redis (\`COFFER_REDIS_URL\`, a throwaway \`redis-server\` on loopback; the same server
restarted with it): one node answers from its own memory first, so Redis changes little here; it
shares listings between nodes (see the README's "Caching, and Redis").

$LOAD_HEAD
$(for db in "${DBS[@]}"; do for c in 1 16 64; do load_row "$db" read-redis "c$c" "read, with Redis"; done; done)

## Write: \`PATCH /api/v4/secrets/batch\`, 10 secrets per batch, mode upsert, c=16

Each worker updates its own 10 secrets (\`BENCH_W<worker>_<k>\`, in the \`staging\` environment of
the same project) with new 40-byte values on every request, so each request writes 10 new
versions; workers do not contend for the same rows.

$LOAD_HEAD
$(for db in "${DBS[@]}"; do load_row "$db" write c16 "write batch of 10"; done)

## Login: \`POST /api/v1/auth/universal-auth/login\`, c=16

Each login checks the client secret and stores a new access token.

$LOAD_HEAD
$(for db in "${DBS[@]}"; do load_row "$db" login c16 "universal-auth login"; done)

## Growth: read latency against the number of secrets (c=1)

One project per size, its secrets in \`dev\` at \`/\`; the same read at c=1. "Per secret" is p50
divided by the number of secrets returned; the ratio compares it with the 50-secret read (the
target is ≤ 10).

| Database | Secrets | req/s | p50 ms | p99 ms | p99.9 ms | errors | p50 per secret µs | per-secret ratio |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(growth_rows)

## Growth: $PROJECTS more projects in the database

The same 50-secret read, just before and just after creating $PROJECTS projects (each with its
three default environments and its own data key) through \`POST /api/v2/workspace\`, with
\`loadgen -scenario create-project -c 4\` (time limit $PROJECTS_TIMEOUT). The database then also
holds the growth projects, the write scenario's versions and the login scenario's tokens.

| Database | Projects created | in | projects/s | errors |
|---|---:|---:|---:|---:|
$(projects_rows)

$LOAD_HEAD
$(for db in "${DBS[@]}"; do
	load_row "$db" projects before-c1 "read, before"
	load_row "$db" projects after-c1 "read, with $PROJECTS more projects"
	load_row "$db" projects before-c16 "read, before"
	load_row "$db" projects after-c16 "read, with $PROJECTS more projects"
done)

## Resources

RSS is VmRSS from /proc/PID/status (MiB = 1,048,576 bytes). Start-to-ready is the time from exec
to the first 200 answer of \`/readyz\` (polled every 2 ms). \`coffer run -- true\` is the wall time
of the whole command (a fresh process: token or login, one listing, the encrypted offline cache
written, \`true\` run) against the local server.

$SERVER_COLS
$SEP
$(resource_rows)
| Binary size (stripped, \`-trimpath -ldflags '-s -w'\`, CGO_ENABLED=0) | $(awk -v b="$BINARY_BYTES" 'BEGIN { printf "%.1f MiB", b / 1048576 }') |$([ "${#DBS[@]}" = 2 ] && echo " (same binary) |")

## Setup and settings

- SQLite: \`coffer server --dev\` (SQLite in WAL mode with synchronous=NORMAL, as Coffer opens it;
  generated development keys), data in a temporary directory.
$(pg_settings)
- Coffer runs with its defaults otherwise: JSON access log at info (one line per request, to a
  file), GOMAXPROCS = $(nproc).
- The data (project, identity, secrets) is set up with the coffer CLI against the running server.

<details><summary>Every command, in order (ids, URLs and credentials replaced by names)</summary>

\`\`\`sh
$BUILD_CMD
go build -o loadgen ./bench/loadgen && go build -o benchtool ./bench/benchtool
$(cat "$COMMANDS")
\`\`\`

</details>
EOF
} >"$REPORT"

if [ -n "$OUT" ]; then
	cp "$REPORT" "$OUT"
	log "wrote $OUT (run took ${ELAPSED}s)"
else
	cat "$REPORT"
fi
