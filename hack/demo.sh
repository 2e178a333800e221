#!/usr/bin/env bash
# demo.sh: run a container with containerd on the ckpt runtime, checkpoint it
# into an image with ctr, remove it, restore it from the image, and show it
# carrying on from where it was. Needs root and the Go module proxy (the first
# run builds containerd, hack/containerd.sh). Runs unattended and exits
# non-zero if any step does not do what it says. If containerd cannot be
# built or started here, it says so and runs hack/demo-process.sh (the same
# story with a plain process) instead.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
here=$PWD

work=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
started=
cleanup() {
	if [ -n "$started" ]; then
		hack/containerd.sh stop "$work/containerd" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if ! cache=$(hack/containerd.sh build 2>"$work/build.log") ||
	! hack/containerd.sh start "$work/containerd" >"$work/address" 2>"$work/start.log"; then
	echo "demo: containerd could not be set up here (see below); showing the process demo instead" >&2
	tail -5 "$work/build.log" "$work/start.log" >&2 || true
	hack/containerd.sh stop "$work/containerd" >/dev/null 2>&1 || true
	exec hack/demo-process.sh
fi
started=1
snap=$(cat "$work/containerd/snapshotter")

step() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'echo "demo: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR
# ctr warns about cgroup v1 on every command: not the demo's business.
ctr() { "$cache/ctr" --address "$(cat "$work/address")" "$@" 2> >(grep -v DEPRECATION >&2 || true); }
run() {
	printf '$ ctr %s\n' "$*"
	ctr "$@" || die "ctr $* (exit $?)"
}
wait_for() {
	for _ in $(seq 200); do
		if "$@" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}
count() { ctr task exec --exec-id "c$RANDOM$RANDOM" c1 cat /count; }
last() { count | tail -n 1; }
past() { [ "$(last)" -gt "$1" ]; }
# consecutive: the count file is 1, 2, 3, ... with nothing repeated or lost.
consecutive() { count | awk '$1 != NR { bad = 1 } END { exit bad }'; }
status() { ctr task ls | awk -v id="$1" '$1 == id { print $3 }'; }
is() { [ "$(status "$1")" = "$2" ]; }

step "A private containerd ($("$cache/containerd" --version | awk '{print $3}')) with containerd-shim-ckpt-v2 on its PATH; import a busybox image"
hack/mkimage.sh "$work/busybox.tar" >/dev/null
run image import --snapshotter "$snap" "$work/busybox.tar"

step "Run a container on the ckpt runtime: it counts into /count, 10 a second"
run run -d --snapshotter "$snap" --runtime io.containerd.ckpt.v2 docker.io/library/ckpt-busybox:latest c1 \
	sh -c 'i=0; while :; do i=$((i+1)); echo $i >> /count; sleep 0.1; done'
wait_for past 10 || die "the container does not count"
printf '$ ctr task exec c1 tail -n 3 /count\n'
count | tail -n 3
run task exec --exec-id note c1 sh -c 'echo "written before the checkpoint" > /note'

step "Checkpoint it into an image (its memory, and its rw layer: /count, /note)"
run containers checkpoint --task --rw c1 demo/c1:checkpoint
run image ls

step "Remove the container"
at=$(last)
run task kill -s SIGKILL c1
wait_for is c1 STOPPED || die "c1 did not stop"
run task delete c1
run containers delete c1
echo "c1 had counted to at least $at"

step "Restore it from the image"
run containers restore --rw --live c1 demo/c1:checkpoint
wait_for is c1 RUNNING || die "c1 is not running"
run task ls

step "It carries on from where the checkpoint was, nothing repeated"
wait_for past "$((at + 10))" || die "the restored container does not count on"
printf '$ ctr task exec c1 tail -n 3 /count\n'
count | tail -n 3
consecutive || die "/count repeats or skips a number"
echo "/count is 1..$(last), each number once"
printf '$ ctr task exec c1 cat /note\n'
ctr task exec --exec-id note2 c1 cat /note
run task ps c1

step "Done"
