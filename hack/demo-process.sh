#!/usr/bin/env bash
# demo-process.sh: checkpoint a running program, show it is gone, restore it with its
# own pid, and show it carrying on from where it was. Needs root and gcc; runs
# unattended and exits non-zero if any step does not do what it says.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
CKPT=${CKPT:-$PWD/bin/ckpt}

work=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@" || die "$* (exit $?)"
}
die() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'echo "demo: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

# wait_for CMD...: retry CMD for up to 20 s (a hang guard, not a benchmark).
wait_for() {
	for _ in $(seq 200); do
		if "$@" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}
has_lines() { [ "$(wc -l <"$log")" -ge "$1" ]; }
gone() { ! ps -p "$1" >/dev/null; }
moved_past() { [ "$(tail -n 1 "$log")" -gt "$1" ]; }

step "Build a small counter: it appends 1, 2, 3, ... to a log, one a second"
cat >"$work/counter.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	close_range(3, ~0U, 0); /* hold nothing but the log */
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return 1;
	for (long n = 1;; n++) {
		dprintf(fd, "%ld\n", n);
		sleep(1);
	}
}
C
run gcc -O2 -o "$work/counter" "$work/counter.c"
log=$work/counter.log
img=$work/image

step "Start it"
setsid "$work/counter" "$log" </dev/null >/dev/null 2>&1 &
pid=$!
# Keep it our child (so its zombie is reaped here at once and its pid freed
# for the restore) but out of bash's job reports.
disown "$pid"
echo "counter running as pid $pid"
wait_for has_lines 3 || die "the counter wrote nothing"
run tail -n 3 "$log"

step "Checkpoint it"
run "$CKPT" checkpoint --pid "$pid" --image-path "$img"
run ls -l "$img"

step "The process is gone"
# bash reaps it; until then its zombie keeps the pid taken.
wait_for gone "$pid" || die "pid $pid still exists after the checkpoint"
echo "ps -p $pid: no such process"
last=$(tail -n 1 "$log")
echo "the log stopped at $last"

step "Restore it"
run "$CKPT" restore --image-path "$img" --detach --pid-file "$work/restored.pid"
rpid=$(cat "$work/restored.pid")
[ "$rpid" = "$pid" ] || die "restored as pid $rpid, not $pid"
run ps -o pid,stat,args -p "$pid"

step "The log carries on from $last, not from 1"
wait_for moved_past "$last" || die "the log did not move after restore"
next=$(grep -A1 -x "$last" "$log" | sed -n 2p)
[ "$next" = "$((last + 1))" ] || die "after $last the log says $next"
run tail -n 4 "$log"

step "What the image holds (ckpt inspect: a summary; --records for every record)"
"$CKPT" inspect "$img" >"$work/inspect.txt" || die "ckpt inspect failed"
printf '$ %s\n' "$CKPT inspect $img | head"
head -n 12 "$work/inspect.txt"

step "Clean up"
kill "$pid"
echo "killed $pid; demo passed"
