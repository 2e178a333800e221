#!/usr/bin/env bash
# bench.sh: what `make bench` runs. Makes sure CRIU 4.1.1 is there as
# criu-anchor (the installer uses apt and a Debian source package; it is
# idempotent and quick once installed), builds the bench and runs it against
# bin/ckpt. If CRIU cannot be installed, the bench runs ckpt alone and the
# report says in capitals that the CRIU figures are missing.
#
# Knobs (environment): BENCH_RUNS (5; BENCH_RUNS=1 takes about 13 minutes
# on a quiet machine), BENCH_SIZES (64,1024,4096 MiB), BENCH_QUICK=1 (64
# MiB, quick scale, small servers, 2 runs, report left alone), BENCH_KINDS
# (anon,halfzero,filemap,dirty,threads,tree,fds), BENCH_SCALE (full, quick
# or none: the scaling tables), BENCH_SERVERS (redis-1G,redis-1G-unix,
# nginx,pyhttp,redis-4G-unix-lazy, or none), BENCH_POINT_BUDGET (5m: a
# scaling point a tool's growth says would take longer is left out, with
# the extrapolation in the report), BENCH_DIR (/var/tmp), CRIU_INSTALLER
# (the install script; default: shared/tools beside the checkout,
# ../shared/tools/install-criu-anchor.sh). The real programs are Debian's
# redis-server, nginx-light and python3 (hack/deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
installer=${CRIU_INSTALLER:-../shared/tools/install-criu-anchor.sh}

no_criu=
# Run through bash: a read-only copy of shared/ may have lost its mode bits.
if [ -r "$installer" ]; then
	if ! bash "$installer" >&2; then
		no_criu="installing criu-anchor with $installer failed"
	fi
elif ! command -v criu-anchor >/dev/null; then
	no_criu="criu-anchor is not installed and there is no installer at $installer"
fi

if [ "${BENCH_SERVERS:-}" != none ]; then
	for p in /usr/bin/redis-server /usr/sbin/nginx /usr/bin/python3; do
		[ -x "$p" ] || { echo "bench: $p missing: run hack/deps.sh (or BENCH_SERVERS=none)" >&2; exit 1; }
	done
fi
[ -x bin/ckpt ] || "$GO" build -o bin/ckpt ./cmd/ckpt
"$GO" build -o bin/ckpt-bench ./bench/cmd/ckpt-bench
exec bin/ckpt-bench -ckpt bin/ckpt ${no_criu:+-no-criu "$no_criu"}
