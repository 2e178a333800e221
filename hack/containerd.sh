#!/usr/bin/env bash
# containerd.sh: a private containerd for tests and the demo.
#
#   containerd.sh build           build containerd, ctr and containerd's runc shim
#                                 (CONTAINERD_VERSION)
#                                 from the Go module proxy into the cache;
#                                 prints the directory holding them
#   containerd.sh start DIR       start containerd with root, state and socket
#                                 under DIR (overlayfs snapshotter; native if
#                                 overlayfs does not mount here), bin/ on its
#                                 PATH for containerd-shim-ckpt-v2; waits until
#                                 it answers; prints the socket
#   containerd.sh stop DIR        kill DIR's tasks, stop its containerd, unmount
#                                 what it left mounted under DIR
#
# The version is pinned here and in go.mod (the shim is built against it).
set -euo pipefail
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${CKPT_CACHE:-$repo/.cache}/containerd-$CONTAINERD_VERSION
export PATH=$PATH:/usr/local/go/bin

build() {
	# containerd-shim-runc-v2: containerd's own runc shim, for ckpt as its
	# runc binary (BinaryName, ctr run --runc-binary).
	if [ ! -x "$cache/containerd" ] || [ ! -x "$cache/ctr" ] || [ ! -x "$cache/containerd-shim-runc-v2" ]; then
		mkdir -p "$cache"
		# go install with a version builds with containerd's own go.mod.
		GOBIN=$cache GOFLAGS=-buildvcs=false go install \
			"github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
			"github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION" \
			"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" >&2
	fi
	echo "$cache"
}

overlay_works() {
	local t
	t=$(mktemp -d "$1/ovl.XXXXXX")
	mkdir -p "$t/l" "$t/u" "$t/w" "$t/m"
	if mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
		umount "$t/m"
		rm -rf "$t"
		return 0
	fi
	rm -rf "$t"
	return 1
}

start() {
	local dir=$1 snap=overlayfs
	build >/dev/null
	mkdir -p "$dir/root" "$dir/state"
	overlay_works "$dir" || snap=native
	cat >"$dir/config.toml" <<TOML
version = 3
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime", "io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.transfer.v1.local"]
[plugins."io.containerd.service.v1.diff-service"]
[plugins."io.containerd.runtime.v2.task"]
TOML
	echo "$snap" >"$dir/snapshotter"
	PATH=$repo/bin:$cache:$PATH setsid "$cache/containerd" --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
	echo $! >"$dir/containerd.pid"
	for _ in $(seq 1 200); do
		if "$cache/ctr" --address "$dir/containerd.sock" version >/dev/null 2>&1; then
			echo "$dir/containerd.sock"
			return 0
		fi
		if ! kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "containerd did not start; its log:" >&2
	tail -20 "$dir/containerd.log" >&2
	return 1
}

stop() {
	local dir=$1 pid ctr state
	ctr="$cache/ctr --address $dir/containerd.sock"
	if [ -f "$dir/containerd.pid" ]; then
		for ns in $($ctr namespaces ls -q 2>/dev/null); do
			for t in $($ctr -n "$ns" tasks ls -q 2>/dev/null); do
				$ctr -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
				$ctr -n "$ns" tasks delete -f "$t" >/dev/null 2>&1 || true
			done
			for c in $($ctr -n "$ns" containers ls -q 2>/dev/null); do
				$ctr -n "$ns" containers delete "$c" >/dev/null 2>&1 || true
			done
		done
		pid=$(cat "$dir/containerd.pid")
		kill "$pid" 2>/dev/null || true
		# A zombie is gone too: the test runner, a subreaper, inherits
		# containerd and reaps it later.
		for _ in $(seq 1 100); do
			state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
			[ -n "$state" ] && [ "$state" != Z ] || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$dir/containerd.pid"
	fi
	# Mounts left under DIR (snapshots, shim rootfs), deepest first.
	awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}

case ${1:-} in
build) build ;;
start) start "${2:?usage: containerd.sh start DIR}" ;;
stop) stop "${2:?usage: containerd.sh stop DIR}" ;;
*) echo "usage: containerd.sh build | start DIR | stop DIR" >&2; exit 2 ;;
esac
