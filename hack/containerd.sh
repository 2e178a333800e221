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
#   containerd.sh stop DIR        kill DIR's tasks (and CRI pods), stop its
#                                 containerd, unmount what it left mounted under
#                                 DIR, remove its CNI bridge
#   containerd.sh crictl          build crictl (CRICTL_VERSION) into the cache;
#                                 prints the directory holding it
#   containerd.sh checkpointctl   build checkpointctl (CHECKPOINTCTL_VERSION)
#                                 likewise
#
# start with CONTAINERD_CRI=1 enables the CRI plugin (off by default): a
# runtime handler `ckpt` of type io.containerd.ckpt.v2 (the default one),
# its `options` table from CKPT_HANDLER_OPTIONS (TOML lines, none if
# unset), the sandbox image CRI_SANDBOX_IMAGE (which must be imported into
# namespace k8s.io before a pod starts), CNI with Debian's plugins
# (/usr/lib/cni) and a bridge network of its own (a bridge and a /24 named
# after DIR, IPAM state under DIR), restore through CreateContainer enabled
# (containerd 2.1-2.3). containerd's CRI plugin wants `criu` >= 3.16 on its
# PATH for checkpoints (Debian's criu; ckpt never runs it).
#
# The version is pinned here and in go.mod (the shim is built against it).
set -euo pipefail
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${CKPT_CACHE:-$repo/.cache}/containerd-$CONTAINERD_VERSION
CRICTL_VERSION=${CRICTL_VERSION:-v1.37.0}
crictl_cache=${CKPT_CACHE:-$repo/.cache}/crictl-$CRICTL_VERSION
# v1.7.0's dependencies are not all served by the module proxy here.
CHECKPOINTCTL_VERSION=${CHECKPOINTCTL_VERSION:-v1.6.0}
checkpointctl_cache=${CKPT_CACHE:-$repo/.cache}/checkpointctl-$CHECKPOINTCTL_VERSION
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

build_crictl() {
	if [ ! -x "$crictl_cache/crictl" ]; then
		mkdir -p "$crictl_cache"
		GOBIN=$crictl_cache GOFLAGS=-buildvcs=false go install \
			"sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >&2
	fi
	echo "$crictl_cache"
}

build_checkpointctl() {
	if [ ! -x "$checkpointctl_cache/checkpointctl" ]; then
		mkdir -p "$checkpointctl_cache"
		GOBIN=$checkpointctl_cache GOFLAGS=-buildvcs=false go install \
			"github.com/checkpoint-restore/checkpointctl@$CHECKPOINTCTL_VERSION" >&2
	fi
	echo "$checkpointctl_cache"
}

# cri_config DIR SNAPSHOTTER: the CRI part of containerd's config, and the
# CNI network it names.
cri_config() {
	local dir=$1 snap=$2 n br
	# A subnet and bridge of DIR's own: tests run side by side.
	n=$(($(echo "$dir" | cksum | cut -d' ' -f1) % 250 + 1))
	br=ckptbr$n
	echo "$br" >"$dir/cni-bridge"
	mkdir -p "$dir/net.d" "$dir/cni-ipam"
	cat >"$dir/net.d/10-ckpt.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "ckpt-$n",
  "plugins": [
    {"type": "bridge", "bridge": "$br", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "dataDir": "$dir/cni-ipam", "ranges": [[{"subnet": "10.213.$n.0/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "loopback"}
  ]
}
JSON
	cat <<TOML
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "$snap"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${CRI_SANDBOX_IMAGE:-docker.io/library/ckpt-pause:latest}"
[plugins."io.containerd.cri.v1.runtime"]
  # The sandbox's oom_score_adj (-998) may be below what this host lets us set.
  restrict_oom_score_adj = true
  # Pod network namespaces under DIR, not in the host's /run/netns.
  netns_mounts_under_state_dir = true
TOML
	case $CONTAINERD_VERSION in
	v2.[0-3].*) echo '  enable_experimental_restore_via_create = true' ;;
	esac
	cat <<TOML
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "ckpt"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.ckpt]
      runtime_type = "io.containerd.ckpt.v2"
      snapshotter = "$snap"
TOML
	if [ -n "${CKPT_HANDLER_OPTIONS:-}" ]; then
		echo '      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.ckpt.options]'
		echo "$CKPT_HANDLER_OPTIONS" | sed 's/^/        /'
	fi
	cat <<TOML
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$dir/net.d"
    max_conf_num = 1
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
TOML
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
	local dir=$1 snap=overlayfs cri='"io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime", '
	build >/dev/null
	mkdir -p "$dir/root" "$dir/state"
	overlay_works "$dir" || snap=native
	[ "${CONTAINERD_CRI:-}" = 1 ] && cri=
	cat >"$dir/config.toml" <<TOML
version = 3
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [${cri}"io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
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
	if [ "${CONTAINERD_CRI:-}" = 1 ]; then
		cri_config "$dir" "$snap" >>"$dir/config.toml"
	fi
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
		# CRI pods first: their network namespaces are outside DIR.
		if [ -f "$dir/cni-bridge" ] && [ -x "$crictl_cache/crictl" ]; then
			"$crictl_cache/crictl" --runtime-endpoint "unix://$dir/containerd.sock" --timeout 30s rmp -fa >/dev/null 2>&1 || true
		fi
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
	if [ -f "$dir/cni-bridge" ]; then
		ip link del "$(cat "$dir/cni-bridge")" 2>/dev/null || true
	fi
}

case ${1:-} in
build) build ;;
crictl) build_crictl ;;
checkpointctl) build_checkpointctl ;;
start) start "${2:?usage: containerd.sh start DIR}" ;;
stop) stop "${2:?usage: containerd.sh stop DIR}" ;;
*) echo "usage: containerd.sh build | crictl | checkpointctl | start DIR | stop DIR" >&2; exit 2 ;;
esac
