#!/usr/bin/env bash
# deploy/lab/down.sh WORKDIR: stops every process the lab in WORKDIR started (each service runs in
# a process group of its own, listed in WORKDIR/pgids with its start time, restarts included):
# SIGTERM to each group, SIGKILL to what is left after 10 s, then checks that no process of
# those groups remains, and removes WORKDIR (kept with LAB_KEEP=1). Exits 1 if a process survived.
set -uo pipefail

LAB_DIR=${1:?usage: down.sh WORKDIR}
[ -f "$LAB_DIR/pgids" ] || { echo "down.sh: $LAB_DIR is not a lab work directory (no pgids file)" >&2; exit 2; }

starttime() { awk '{print $22}' 2>/dev/null <"/proc/$1/stat" || true; }
# members PGID: the live processes (zombies aside) in process group PGID, from /proc
members() {
	local f pid rest state pgrp
	for f in /proc/[0-9]*/stat; do
		read -r pid rest 2>/dev/null <"$f" || continue
		rest=${rest##*) } # after "(comm) "
		read -r state _ pgrp _ <<<"$rest"
		[ "$pgrp" = "$1" ] && [ "$state" != Z ] && echo "$pid"
	done
	return 0
}
# ours PGID STARTTIME: the group still holds processes, and its leader, if alive, is the one
# we started (not a later process that got the same pid).
ours() {
	local st
	[ -n "$(members "$1")" ] || return 1
	st=$(starttime "$1")
	[ -z "$st" ] || [ "$2" = 0 ] || [ "$st" = "$2" ]
}

groups=()
while read -r pgid st; do
	[ -n "$pgid" ] && ours "$pgid" "$st" && groups+=("$pgid")
done <"$LAB_DIR/pgids"

for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
for ((i = 0; i < 100; i++)); do
	left=()
	for g in "${groups[@]}"; do [ -n "$(members "$g")" ] && left+=("$g"); done
	[ ${#left[@]} -eq 0 ] && break
	sleep 0.1
done
for g in "${left[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
sleep 0.2
survivors=()
for g in "${groups[@]}"; do
	for p in $(members "$g"); do survivors+=("$p"); done
done
if [ ${#survivors[@]} -gt 0 ]; then
	echo "down.sh: processes still running: ${survivors[*]}" >&2
	exit 1
fi
if [ "${LAB_KEEP:-0}" = 1 ]; then
	echo "down.sh: stopped ${#groups[@]} process groups; kept $LAB_DIR" >&2
else
	rm -rf "$LAB_DIR"
	echo "down.sh: stopped ${#groups[@]} process groups; removed $LAB_DIR" >&2
fi
