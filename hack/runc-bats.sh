#!/usr/bin/env bash
# runc-bats.sh: run runc's own integration tests (tests/integration/*.bats
# of the runc Go module go.mod pins) against bin/ckpt, as RUNC.
#
#   hack/runc-bats.sh [FILE.bats...] [-- BATS-ARGS...]
#
# Default files: the runtime verbs' (checkpoint, run, exec, kill, create,
# list, events, delete, update, start, pause, ps, state, tty, env, mounts,
# mask, ...). Needs the Debian packages bats, jq and gawk (not installed by
# hack/deps.sh: this is a tool for comparing with runc, not part of make
# test). The images the suite downloads are replaced by a busybox rootfs
# made from Debian's busybox-static (no network), without /proc, as the
# suite's image; tests needing the Debian image or CRIU features skip or
# fail for that reason alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export PATH=$PATH:/usr/local/go/bin
for t in bats jq gawk; do
	command -v "$t" >/dev/null || { echo "runc-bats: needs $t (apt-get install bats jq gawk)" >&2; exit 1; }
done
ver=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/opencontainers/runc)
mod=$(cd "$repo" && go mod download -json "github.com/opencontainers/runc@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
work=${CKPT_CACHE:-$repo/.cache}/runc-bats-$ver
if [ ! -x "$work/runc/tests/cmd/_bin/remap-rootfs" ]; then
	rm -rf "$work"
	mkdir -p "$work"
	cp -r "$mod" "$work/runc"
	chmod -R u+w "$work/runc"
	find "$work/runc" -name '*.sh' -exec chmod +x {} +
	# The suite's helper programs (recvtty, remap-rootfs, ...).
	(cd "$work/runc" && go build -o tests/cmd/_bin/ ./tests/cmd/...)
	r=$work/rootfs
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root"
	cp /bin/busybox "$r/bin/"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	arch=$(go env GOARCH)
	tar -C "$r" -cJf "$work/runc/tests/integration/testdata/busybox-$arch.tar.xz" .
	touch "$work/runc/tests/integration/testdata/debian-$arch.tar.xz"
fi
files=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	files+=("$1")
	shift
done
[ "${1:-}" = -- ] && shift
if [ ${#files[@]} -eq 0 ]; then
	files=(checkpoint.bats list.bats kill.bats create.bats run.bats exec.bats events.bats delete.bats
		update.bats start.bats start_detached.bats start_hello.bats pause.bats ps.bats state.bats
		tty.bats cwd.bats env.bats umask.bats root.bats spec.bats mounts.bats mask.bats no_pivot.bats)
fi
cd "$work/runc/tests/integration"
RUNC=$repo/bin/ckpt exec bats "$@" "${files[@]}"
