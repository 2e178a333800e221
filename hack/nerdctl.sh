#!/usr/bin/env bash
# nerdctl.sh: nerdctl (containerd's docker-compatible CLI) for tests.
#
#   nerdctl.sh build    build nerdctl (NERDCTL_VERSION) from its Go module
#                       into the cache; prints the directory holding it
#
# A plain `go install github.com/containerd/nerdctl/v2/cmd/nerdctl@VERSION`
# cannot build v2.4.2: its go.mod has a replace directive (go install
# refuses those), and one of its requirements is a version the module proxy
# does not serve. So the module is built in a copy of its source (from the
# module cache, `go mod download`) whose go.mod is adjusted:
#   - github.com/containerd/nerdctl/mod/tigron v0.0.0 (replaced by
#     ./mod/tigron, a nested module the module zip does not contain) is
#     dropped: only nerdctl's test helpers (pkg/testutil) import it;
#   - github.com/moby/moby/v2 v2.0.0-beta.28 is not served: the newest
#     version the proxy lists is required instead (MOBY_VERSION; nerdctl
#     uses its pkg/sysinfo and pkg/meminfo only, for `nerdctl info`).
# The substitutions are written to SUBSTITUTED next to the binary.
set -euo pipefail
NERDCTL_VERSION=${NERDCTL_VERSION:-v2.4.2}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${CKPT_CACHE:-$repo/.cache}
out=$cache/nerdctl-$NERDCTL_VERSION
export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-buildvcs=false

build() {
	if [ -x "$out/nerdctl" ]; then
		echo "$out"
		return 0
	fi
	local mod src moby
	mod=$(go mod download -json "github.com/containerd/nerdctl/v2@$NERDCTL_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$mod" ] || { echo "nerdctl.sh: go mod download gave no source directory" >&2; return 1; }
	src=$cache/src/nerdctl-$NERDCTL_VERSION
	rm -rf "$src"
	mkdir -p "$cache/src" "$out"
	cp -r "$mod" "$src"
	chmod -R u+w "$src"
	cd "$src"
	sed -i '/github.com\/containerd\/nerdctl\/mod\/tigron/d' go.mod
	moby=${MOBY_VERSION:-$(go list -m -json github.com/moby/moby/v2@latest | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')}
	go mod edit -require="github.com/moby/moby/v2@$moby"
	go build -mod=mod -o "$out/nerdctl.tmp" ./cmd/nerdctl >&2
	{
		echo "nerdctl $NERDCTL_VERSION built from a copy of its module with go.mod changed:"
		echo "  dropped: github.com/containerd/nerdctl/mod/tigron v0.0.0 => ./mod/tigron (test helpers only; not in the module zip)"
		echo "  github.com/moby/moby/v2 v2.0.0-beta.28 (not served) => $moby (the newest the proxy lists)"
	} >"$out/SUBSTITUTED"
	mv "$out/nerdctl.tmp" "$out/nerdctl"
	echo "$out"
}

case ${1:-} in
build) build ;;
*) echo "usage: nerdctl.sh build" >&2; exit 2 ;;
esac
