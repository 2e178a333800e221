#!/usr/bin/env bash
# deps.sh: make sure what building and testing ckpt needs is installed.
# Idempotent: it installs only what is missing, with apt-get, and runs
# apt-get update only when something is. Go itself is not installed here:
# it must be on PATH or at /usr/local/go/bin, version 1.26 or newer.
set -euo pipefail

# gcc, make, libc6-dev (libc.a for the -static test builds), python3 (the
# Python C/R test), procps (ps), util-linux (setsid), psmisc (killall for
# people; the scripts never use it), file, tmux (TestShellJob drives an
# interactive bash in it); nftables (nft: TCP connections are locked with it
# between checkpoint and restore); redis-server, nginx-light (the real
# servers of integration/servers_test.go, iproute2 the named network
# namespaces they run in); busybox-static (the OCI bundle
# fixture, hack/mkbundle.sh), libseccomp-dev and pkg-config (libcontainer
# installs seccomp profiles through libseccomp: the "seccomp" build tag).
packages=(gcc make libc6-dev python3 procps util-linux psmisc file tmux nftables redis-server nginx-light iproute2 busybox-static libseccomp-dev pkg-config)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to apt-get install ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

gobin=$(command -v go 2>/dev/null || true)
if [ -z "$gobin" ] && [ -x /usr/local/go/bin/go ]; then
	gobin=/usr/local/go/bin/go
fi
if [ -z "$gobin" ]; then
	echo "deps: no go on PATH or at /usr/local/go/bin/go; install Go 1.26 or newer" >&2
	exit 1
fi
ver=$("$gobin" env GOVERSION)
IFS=. read -r major minor _ <<<"${ver#go}"
minor=${minor%%[!0-9]*}
if [ "${major:-0}" -lt 1 ] || { [ "$major" -eq 1 ] && [ "${minor:-0}" -lt 26 ]; }; then
	echo "deps: $gobin is $ver; ckpt needs go1.26 or newer" >&2
	exit 1
fi

# containerd and ctr for TestContainerd and the demo, built once from the Go
# module proxy into .cache/ (about a minute the first time).
if ! "$(dirname "$0")/containerd.sh" build >/dev/null; then
	echo "deps: could not build containerd (hack/containerd.sh build): TestContainerd will fail, make demo falls back to the process demo" >&2
fi

# nerdctl for TestNerdctl, built once from its Go module into the cache
# (hack/nerdctl.sh says what it substitutes in nerdctl's go.mod).
if ! "$(dirname "$0")/nerdctl.sh" build >/dev/null; then
	echo "deps: could not build nerdctl (hack/nerdctl.sh build): TestNerdctl will fail" >&2
fi
