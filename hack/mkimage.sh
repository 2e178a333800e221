#!/usr/bin/env bash
# mkimage.sh OUT.tar [REF]: build, without a network, an OCI image (an
# image layout in a tar, as `ctr image import` and `skopeo copy oci-archive:`
# take) holding one layer: the busybox-static rootfs of hack/mkbundle.sh.
# REF (default docker.io/library/ckpt-busybox:latest) is the name the
# image gets when imported. The layer and the JSON documents are built
# deterministically (fixed times and owners): the same busybox gives the
# same digests. IMAGE_CMD (a JSON array, default ["sh"]) is the image's
# Cmd: a pod's sandbox ("pause") image is this one with a command that
# waits forever.
set -euo pipefail
out=${1:?usage: mkimage.sh OUT.tar [REF]}
ref=${2:-docker.io/library/ckpt-busybox:latest}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# mkbundle.sh writes a config.json with ckpt; only its rootfs is used.
CKPT=${CKPT:-$here/../bin/ckpt} "$here/mkbundle.sh" "$tmp/bundle" >/dev/null
python3 - "$tmp/bundle/rootfs" "$tmp/layout" "$ref" "${IMAGE_CMD:-[\"sh\"]}" <<'PY'
import hashlib, io, json, os, sys, tarfile

rootfs, layout, ref, cmd = sys.argv[1:]
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs)

def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}

def layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirs, files in os.walk(rootfs):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(dirpath, name)
                ti = tar.gettarinfo(path, os.path.relpath(path, rootfs))
                ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, 0, "", ""
                if ti.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(ti, f)
                else:
                    tar.addfile(ti)
    return buf.getvalue()

def js(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":")).encode()

lay = layer()
layer_desc = blob(lay)
config = {
    "architecture": "amd64", "os": "linux",
    "config": {"Cmd": json.loads(cmd), "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "WorkingDir": "/"},
    "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
    "history": [{"created_by": "ckpt hack/mkimage.sh: busybox-static"}],
}
config_desc = blob(js(config))
manifest = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **config_desc),
    "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar", **layer_desc)],
}
manifest_desc = blob(js(manifest))
tag = ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else "latest"
index = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                       annotations={"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag})],
}
with open(os.path.join(layout, "index.json"), "wb") as f:
    f.write(js(index))
with open(os.path.join(layout, "oci-layout"), "wb") as f:
    f.write(js({"imageLayoutVersion": "1.0.0"}))
PY
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/layout" -cf "$out" oci-layout index.json blobs
