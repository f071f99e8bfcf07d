#!/usr/bin/env bash
# deploy/lab/up.sh: the HA lab on loopback, the reference architecture in one work directory:
#   PostgreSQL primary + a SYNCHRONOUS streaming standby (synchronous_standby_names=standby1,
#     synchronous_commit=on: a commit is acknowledged once the standby has the WAL, so an
#     acknowledged write survives the standby's promotion);
#   Redis primary + replica + three Sentinels (master name "coffer", quorum 2, down after 1 s);
#   mailpit (SMTP, with an HTTP API to read what it received);
#   three `coffer server` nodes (one binary, shared root key and auth secret; DATABASE_URL is the
#     multi-host primary,standby URL with target_session_attrs=read-write; the standby is the read
#     replica; Redis through the Sentinels; SMTP to mailpit; COFFER_SHUTDOWN_DRAIN=3s);
#   HAProxy in front, health-checking /readyz of each node (see haproxy.cfg.tmpl beside this file).
#
#   deploy/lab/up.sh [WORKDIR]     WORKDIR (default: a new /tmp/coffer-lab.XXXXXX) must be empty or
#                                  absent; everything (data, logs, pids, configs) stays in it.
#   deploy/lab/down.sh WORKDIR     stops every process of the lab and removes WORKDIR.
#
# It prints WORKDIR; WORKDIR/lab.env holds the ports and paths (LAB_URL is HAProxy's URL), and
# WORKDIR/run/NAME.sh starts service NAME again (pg-primary, pg-standby, redis-primary,
# redis-replica, sentinel1..3, mailpit, node1..3, haproxy) and run/pg-promote.sh promotes the
# standby; WORKDIR/pids/NAME is its pid, which is
# also its process group (each service runs in a session of its own).
#
# Settings (environment): LAB_COFFER_BIN (a built coffer; default: go build ./cmd/coffer),
# LAB_DRAIN (COFFER_SHUTDOWN_DRAIN, default 3s), LAB_NO_DEPS=1 (do not run scripts/test-deps.sh
# when a program is missing). Loopback only; as root, PostgreSQL runs as "nobody".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

unset "${!COFFER_@}" "${!PG@}" 2>/dev/null || true

# --- programs -------------------------------------------------------------------------------
find_pg() { # the highest version's directory holding initdb, postgres and pg_ctl
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
	if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; fi
}
find_mailpit() {
	command -v mailpit 2>/dev/null && return
	local d=${COFFER_TEST_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/coffer-test/bin}
	[ -x "$d/mailpit" ] && echo "$d/mailpit"
}
missing() {
	[ -n "$(find_pg)" ] || echo postgresql
	command -v redis-server >/dev/null || echo redis-server
	command -v haproxy >/dev/null || echo haproxy
	[ -n "$(find_mailpit)" ] || echo mailpit
}
if [ -n "$(missing)" ]; then
	[ "${LAB_NO_DEPS:-0}" = 1 ] && die "missing: $(missing | tr '\n' ' ')(scripts/test-deps.sh installs them)"
	log "missing $(missing | tr '\n' ' '): running scripts/test-deps.sh"
	"$REPO/scripts/test-deps.sh"
	[ -z "$(missing)" ] || die "still missing after scripts/test-deps.sh: $(missing | tr '\n' ' ')"
fi
PG_BIN=$(find_pg)
MAILPIT=$(find_mailpit)
REDIS=$(command -v redis-server)
HAPROXY=$(command -v haproxy)
for tool in curl setsid; do command -v "$tool" >/dev/null || die "$tool is required"; done

# --- the work directory -------------------------------------------------------------------
LAB_DIR=${1:-}
if [ -z "$LAB_DIR" ]; then LAB_DIR=$(mktemp -d /tmp/coffer-lab.XXXXXX); fi
mkdir -p "$LAB_DIR"
LAB_DIR=$(cd "$LAB_DIR" && pwd)
[ -z "$(ls -A "$LAB_DIR")" ] || die "$LAB_DIR is not empty"
chmod 755 "$LAB_DIR"
mkdir -p "$LAB_DIR"/{bin,run,pids,logs,redis-primary,redis-replica,sentinel1,sentinel2,sentinel3,mailpit,pg}
: >"$LAB_DIR/pgids" # every process group ever started (pid starttime), for down.sh
# On failure, stop what was started.
trap 'rc=$?; if [ $rc -ne 0 ]; then log "up.sh failed: stopping the lab (logs kept in $LAB_DIR/logs)"; LAB_KEEP=1 "$HERE/down.sh" "$LAB_DIR" || true; fi' EXIT

AS=() # PostgreSQL refuses to run as root
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null; then
		AS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
	else
		AS=(runuser -u nobody --)
	fi
	chown nobody "$LAB_DIR/pg"
fi

# --- ports ----------------------------------------------------------------------------------
# Below the kernel's ephemeral range, which outgoing connections (and servers on port 0) take
# from: a port that is free now stays free until its server binds it.
USED=" "
read -r EPH_LOW _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPH_LOW=32768
PORT_LOW=10000
[ "$EPH_LOW" -gt $((PORT_LOW + 2000)) ] || PORT_LOW=$((EPH_LOW > 3000 ? EPH_LOW - 2000 : 1024))
freeport() {
	local p
	while :; do
		p=$((PORT_LOW + RANDOM % (EPH_LOW - PORT_LOW)))
		[[ $USED == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED+="$p "; echo "$p"; return; fi
	done
}
PG1=$(freeport) PG2=$(freeport) R1=$(freeport) R2=$(freeport)
S1=$(freeport) S2=$(freeport) S3=$(freeport) SMTP=$(freeport) MAILHTTP=$(freeport)
N1=$(freeport) N2=$(freeport) N3=$(freeport) LB=$(freeport)

# --- start scripts: run/NAME.sh starts NAME in a session of its own ------------------------
cat >"$LAB_DIR/run/start" <<'EOF'
#!/usr/bin/env bash
# start NAME CMD...: runs CMD in a new session (its pid is its process group), output to
# logs/NAME.log, pid to pids/NAME, and "pid starttime" appended to pgids.
set -euo pipefail
dir=$(cd "$(dirname "$0")/.." && pwd)
name=$1; shift
setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$dir/pids/$name"
st=""
for _ in 1 2 3 4 5; do st=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null || true); [ -n "$st" ] && break; sleep 0.01; done
echo "$pid ${st:-0}" >>"$dir/pgids"
EOF
chmod +x "$LAB_DIR/run/start"
runscript() { # runscript NAME CMD...: writes run/NAME.sh (the command quoted) and runs it
	local f="$LAB_DIR/run/$1.sh"
	{
		echo '#!/usr/bin/env bash'
		echo "# starts $1 of the lab in $LAB_DIR"
		printf 'exec %q %q' "$LAB_DIR/run/start" "$1"
		shift
		printf ' %q' "$@"
		echo
	} >"$f"
	chmod +x "$f"
	"$f"
}
alive() { local s; [ -r "/proc/$1/stat" ] && read -r _ _ s _ <"/proc/$1/stat" 2>/dev/null && [ "$s" != Z ]; }
pidof_svc() { cat "$LAB_DIR/pids/$1"; }
wait_for() { # wait_for NAME SECONDS CMD...: until CMD succeeds, NAME dies, or SECONDS pass
	local name=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		alive "$(pidof_svc "$name")" || die "$name exited (see $LAB_DIR/logs/$name.log): $(tail -n 5 "$LAB_DIR/logs/$name.log")"
		sleep 0.05
	done
	die "$name not ready after ${secs}s (see $LAB_DIR/logs/$name.log)"
}

# --- PostgreSQL -----------------------------------------------------------------------------
log "PostgreSQL ($PG_BIN): primary :$PG1, synchronous standby :$PG2"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)
"${AS[@]}" "$PG_BIN/initdb" -D "$LAB_DIR/pg/primary" -A trust -U postgres --no-sync -E UTF8 --locale=C \
	>"$LAB_DIR/logs/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$LAB_DIR/logs/initdb.log")"
echo "host replication replicator 127.0.0.1/32 trust" >>"$LAB_DIR/pg/primary/pg_hba.conf"
# Settings common to both servers. fsync=off: the lab kills processes, not machines, and the OS
# keeps what was written; a commit still waits until the standby has received and written its WAL.
PG_COMMON=(-c listen_addresses=127.0.0.1 -c "unix_socket_directories=" -c fsync=off -c full_page_writes=off
	-c max_connections=100 -c wal_level=replica -c max_wal_senders=5 -c wal_keep_size=64MB -c hot_standby=on)
# Only the primary waits for a synchronous standby: the standby, once promoted, runs alone.
runscript pg-primary "${AS[@]}" "$PG_BIN/postgres" -D "$LAB_DIR/pg/primary" -p "$PG1" "${PG_COMMON[@]}" \
	-c synchronous_commit=on
wait_for pg-primary 30 "${PSQL[@]}" -p "$PG1" -d postgres -c 'SELECT 1'
"${PSQL[@]}" -p "$PG1" -d postgres -c 'CREATE ROLE replicator WITH REPLICATION LOGIN'
"${AS[@]}" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG1" -U replicator -D "$LAB_DIR/pg/standby" -R -X stream \
	--no-sync -c fast >"$LAB_DIR/logs/pg_basebackup.log" 2>&1 || die "pg_basebackup failed: $(tail -n 5 "$LAB_DIR/logs/pg_basebackup.log")"
echo "primary_conninfo = 'host=127.0.0.1 port=$PG1 user=replicator application_name=standby1'" >>"$LAB_DIR/pg/standby/postgresql.auto.conf"
runscript pg-standby "${AS[@]}" "$PG_BIN/postgres" -D "$LAB_DIR/pg/standby" -p "$PG2" "${PG_COMMON[@]}" \
	-c hot_standby_feedback=on -c wal_receiver_status_interval=1s
wait_for pg-standby 30 "${PSQL[@]}" -p "$PG2" -d postgres -c 'SELECT 1'
{ # run/pg-promote.sh: promotes the standby to primary (after the primary was lost)
	echo '#!/usr/bin/env bash'
	printf 'exec'
	printf ' %q' "${AS[@]}" "$PG_BIN/pg_ctl" promote -D "$LAB_DIR/pg/standby" -w -t 30
	echo
} >"$LAB_DIR/run/pg-promote.sh"
chmod +x "$LAB_DIR/run/pg-promote.sh"
# The standby is synchronous from now on (postgresql.auto.conf of the primary only: the standby's
# copy was taken before).
"${PSQL[@]}" -p "$PG1" -d postgres -c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" -c 'SELECT pg_reload_conf()' >/dev/null
sync_standby() { [ "$("${PSQL[@]}" -p "$PG1" -d postgres -Atc "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ]; }
wait_for pg-primary 30 sync_standby
# Created after the standby is synchronous: this commit already waits for it.
"${PSQL[@]}" -p "$PG1" -d postgres -c 'CREATE DATABASE coffer'

# --- Redis and Sentinel ---------------------------------------------------------------------
log "Redis: primary :$R1, replica :$R2, sentinels :$S1 :$S2 :$S3"
REDIS_COMMON=(--bind 127.0.0.1 --save "" --appendonly no --daemonize no)
runscript redis-primary "$REDIS" --port "$R1" "${REDIS_COMMON[@]}" --dir "$LAB_DIR/redis-primary"
runscript redis-replica "$REDIS" --port "$R2" "${REDIS_COMMON[@]}" --dir "$LAB_DIR/redis-replica" --replicaof 127.0.0.1 "$R1"
redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ]; }
if command -v redis-cli >/dev/null; then
	wait_for redis-primary 10 redis_ping "$R1"
	wait_for redis-replica 10 redis_ping "$R2"
else
	sleep 0.5
fi
i=0
for port in "$S1" "$S2" "$S3"; do
	i=$((i + 1))
	cat >"$LAB_DIR/sentinel$i/sentinel.conf" <<EOF
sentinel monitor coffer 127.0.0.1 $R1 2
sentinel down-after-milliseconds coffer 1000
sentinel failover-timeout coffer 10000
sentinel parallel-syncs coffer 1
EOF
	runscript "sentinel$i" "$REDIS" "$LAB_DIR/sentinel$i/sentinel.conf" --sentinel --port "$port" --bind 127.0.0.1 --dir "$LAB_DIR/sentinel$i"
done
if command -v redis-cli >/dev/null; then
	sentinels_ready() { redis-cli -h 127.0.0.1 -p "$1" INFO sentinel 2>/dev/null | grep -q 'slaves=1,sentinels=3'; }
	for i in 1 2 3; do
		port_var=S$i
		wait_for "sentinel$i" 30 sentinels_ready "${!port_var}"
	done
fi

# --- mailpit --------------------------------------------------------------------------------
log "mailpit: SMTP :$SMTP, HTTP :$MAILHTTP"
runscript mailpit "$MAILPIT" --smtp "127.0.0.1:$SMTP" --listen "127.0.0.1:$MAILHTTP" \
	--database "$LAB_DIR/mailpit/mailpit.db" --disable-version-check --quiet
wait_for mailpit 20 curl -fsS --max-time 1 "http://127.0.0.1:$MAILHTTP/api/v1/messages"

# --- Coffer nodes ---------------------------------------------------------------------------
if [ -n "${LAB_COFFER_BIN:-}" ]; then
	cp "$LAB_COFFER_BIN" "$LAB_DIR/bin/coffer"
else
	log "building coffer"
	(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$LAB_DIR/bin/coffer" ./cmd/coffer)
fi
umask 077
"$LAB_DIR/bin/coffer" keys generate >"$LAB_DIR/keys.env"
umask 022
DB_URL="postgres://postgres@127.0.0.1:$PG1,127.0.0.1:$PG2/coffer?sslmode=disable&target_session_attrs=read-write&connect_timeout=2"
REPLICA_URL="postgres://postgres@127.0.0.1:$PG2/coffer?sslmode=disable&connect_timeout=2"
i=0
for port in "$N1" "$N2" "$N3"; do
	i=$((i + 1))
	mkdir -p "$LAB_DIR/node$i"
	{ # shell-quoted, read with `set -a; . env`
		printf '%s=%q\n' COFFER_LISTEN "127.0.0.1:$port"
		printf '%s=%q\n' COFFER_DATA_DIR "$LAB_DIR/node$i"
		printf '%s=%q\n' COFFER_SITE_URL "http://127.0.0.1:$LB"
		printf '%s=%q\n' COFFER_DATABASE_URL "$DB_URL"
		printf '%s=%q\n' COFFER_DATABASE_READ_REPLICAS "$REPLICA_URL"
		printf '%s=%q\n' COFFER_REDIS_SENTINEL_ADDRS "127.0.0.1:$S1,127.0.0.1:$S2,127.0.0.1:$S3"
		printf '%s=%q\n' COFFER_REDIS_SENTINEL_MASTER "coffer"
		printf '%s=%q\n' COFFER_SMTP_HOST "127.0.0.1"
		printf '%s=%q\n' COFFER_SMTP_PORT "$SMTP"
		printf '%s=%q\n' COFFER_SMTP_TLS "none"
		printf '%s=%q\n' COFFER_SMTP_FROM "Coffer Lab <coffer@lab.test>"
		printf '%s=%q\n' COFFER_SHUTDOWN_DRAIN "${LAB_DRAIN:-3s}"
	} >"$LAB_DIR/node$i/env"
	cat "$LAB_DIR/keys.env" >>"$LAB_DIR/node$i/env"
	chmod 600 "$LAB_DIR/node$i/env"
	# The settings stay off the command line: env(1) reads them from the file at each start.
	cat >"$LAB_DIR/run/node$i.sh" <<EOF
#!/usr/bin/env bash
# starts Coffer node $i of the lab in $LAB_DIR (settings in node$i/env)
set -a
. $(printf %q "$LAB_DIR/node$i/env")
set +a
exec $(printf %q "$LAB_DIR/run/start") node$i $(printf %q "$LAB_DIR/bin/coffer") server
EOF
	chmod +x "$LAB_DIR/run/node$i.sh"
	log "coffer node$i :$port"
	"$LAB_DIR/run/node$i.sh"
	# The first node runs the migrations alone; the others start together.
	if [ "$i" = 1 ]; then wait_for node1 60 curl -fsS --max-time 1 "http://127.0.0.1:$N1/readyz"; fi
done
wait_for node2 60 curl -fsS --max-time 1 "http://127.0.0.1:$N2/readyz"
wait_for node3 60 curl -fsS --max-time 1 "http://127.0.0.1:$N3/readyz"

# --- HAProxy --------------------------------------------------------------------------------
log "HAProxy :$LB"
sed -e "s|@LB@|$LB|g" -e "s|@N1@|$N1|g" -e "s|@N2@|$N2|g" -e "s|@N3@|$N3|g" -e "s|@DIR@|$LAB_DIR|g" \
	"$HERE/haproxy.cfg.tmpl" >"$LAB_DIR/haproxy.cfg"
"$HAPROXY" -c -q -f "$LAB_DIR/haproxy.cfg" || die "haproxy.cfg is not valid"
runscript haproxy "$HAPROXY" -db -f "$LAB_DIR/haproxy.cfg"
all_up() { # HAProxy's CSV statistics: rows "nodes,nodeN,…" with status UP
	[ "$(curl -fsS --max-time 1 "http://127.0.0.1:$LB/lab-haproxy-stats;csv" | grep '^nodes,node[0-9],' | grep -c ',UP,')" = 3 ]
}
wait_for haproxy 20 all_up

{ # shell-quoted: `. lab.env` reads it back
	printf '%s=%q\n' LAB_DIR "$LAB_DIR"
	printf '%s=%q\n' LAB_URL "http://127.0.0.1:$LB"
	printf '%s=%q\n' LAB_HAPROXY_STATS "http://127.0.0.1:$LB/lab-haproxy-stats;csv"
	printf '%s=%q\n' LAB_NODE_PORTS "$N1,$N2,$N3"
	printf '%s=%q\n' LAB_PG_BIN "$PG_BIN"
	printf '%s=%q\n' LAB_PG_PRIMARY_PORT "$PG1"
	printf '%s=%q\n' LAB_PG_STANDBY_PORT "$PG2"
	printf '%s=%q\n' LAB_PG_PRIMARY_DATA "$LAB_DIR/pg/primary"
	printf '%s=%q\n' LAB_PG_STANDBY_DATA "$LAB_DIR/pg/standby"
	printf '%s=%q\n' LAB_REDIS_PRIMARY_PORT "$R1"
	printf '%s=%q\n' LAB_REDIS_REPLICA_PORT "$R2"
	printf '%s=%q\n' LAB_SENTINEL_PORTS "$S1,$S2,$S3"
	printf '%s=%q\n' LAB_SENTINEL_MASTER "coffer"
	printf '%s=%q\n' LAB_SMTP_PORT "$SMTP"
	printf '%s=%q\n' LAB_MAILPIT_URL "http://127.0.0.1:$MAILHTTP"
} >"$LAB_DIR/lab.env"
log "lab up in $LAB_DIR: Coffer at http://127.0.0.1:$LB (stop with deploy/lab/down.sh $LAB_DIR)"
echo "$LAB_DIR"
