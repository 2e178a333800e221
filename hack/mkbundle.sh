#!/usr/bin/env bash
# mkbundle.sh DIR [ARG...]: build an OCI bundle in DIR from Debian's
# busybox-static, without a network: DIR/rootfs holds /bin/busybox and a
# link per applet, DIR/config.json is `ckpt spec`'s example with the given
# process args (default: sh), no terminal, and a writable rootfs.
# CKPT (default bin/ckpt) is the ckpt binary that writes the spec.
set -euo pipefail
dir=${1:?usage: mkbundle.sh DIR [ARG...]}
shift
ckpt=${CKPT:-$(dirname "$0")/../bin/ckpt}
bb=/bin/busybox
if ! "$bb" --list >/dev/null 2>&1 || ! file -L "$bb" | grep -q 'statically linked'; then
	echo "mkbundle: $bb is not busybox-static: run hack/deps.sh" >&2
	exit 1
fi
mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,tmp,etc,root}
cp "$bb" "$dir/rootfs/bin/busybox"
for a in $("$bb" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/rootfs/etc/passwd"
echo 'root:x:0:' >"$dir/rootfs/etc/group"
rm -f "$dir/config.json"
"$ckpt" spec --bundle "$dir"
args='["sh"]'
if [ $# -gt 0 ]; then
	args=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")
fi
python3 - "$dir/config.json" "$args" <<'PY'
import json, sys
path, args = sys.argv[1], json.loads(sys.argv[2])
c = json.load(open(path))
c["process"]["args"] = args
c["process"]["terminal"] = False
c["root"]["readonly"] = False
json.dump(c, open(path, "w"), indent="\t")
PY
