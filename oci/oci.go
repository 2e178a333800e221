// Package oci describes ckpt's checkpoint image as containerd stores it:
// the media types of its parts and the layout of the checkpoint layer (the
// directory a shim's checkpoint is written into, packed by containerd as a
// tar), and checks an unpacked layer before a restore touches anything.
//
// containerd's client builds the checkpoint image itself (`ctr task
// checkpoint`, `ctr containers checkpoint`): the shim only fills the
// checkpoint directory. The names here are the ones containerd's tooling
// recognises; docs/containerd.md describes the image.
package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ckpt/ckpt/image"
)

// Media types of the containerd checkpoint image's parts that ckpt reads
// (docs/containerd.md lists them all). containerd picks the layer to
// unpack for a restore by MediaTypeCheckpoint: a checkpoint layer must
// carry exactly this type.
const (
	// MediaTypeCheckpoint is the checkpoint layer: a tar of the checkpoint
	// directory (for ckpt, ImageName alone).
	MediaTypeCheckpoint = "application/vnd.containerd.container.criu.checkpoint.criu.tar"
	// MediaTypeCheckpointConfig is the container's OCI spec (a protobuf Any).
	MediaTypeCheckpointConfig = "application/vnd.containerd.container.checkpoint.config.v1+proto"
)

// Annotations and labels containerd puts on a checkpoint image.
const (
	// AnnotationRefName on the index names the base image (`ctr
	// containers checkpoint`).
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationRuntime on the index names the runtime type to restore
	// with (RuntimeType).
	AnnotationRuntime = "io.containerd.checkpoint.runtime"
	// AnnotationSnapshotter on the index names the snapshotter the rw
	// layer was taken from and the restored container gets.
	AnnotationSnapshotter = "io.containerd.checkpoint.snapshotter"
	// LabelCheckpoint ("true") marks a checkpoint image in the image store.
	LabelCheckpoint = "containerd.io/checkpoint"
)

// RootfsCopyAnnotation, "true" in a bundle's config.json, lets the OCI
// runtime's restore take a root file system other than the checkpointed
// container's (another mount holding the same files). The shim sets it on
// a restore: containerd restores into a new snapshot of the base image
// with the checkpointed rw-layer diff applied.
const RootfsCopyAnnotation = "io.ckpt.restore.rootfs-copy"

// RuntimeType is the containerd runtime type served by
// containerd-shim-ckpt-v2.
const RuntimeType = "io.containerd.ckpt.v2"

// ImageName is the engine's image inside the checkpoint layer (the same
// name the OCI runtime's --image-path directory holds).
const ImageName = image.FileName

// Checkpoint is what CheckDir found in a checkpoint directory.
type Checkpoint struct {
	Container *image.Container
	// FirstPid is the image's first task; SharedPidns says it was not
	// its pid namespace's init: the container shared a pod's pid
	// namespace, and its processes go back only into a shared one.
	FirstPid    int32
	SharedPidns bool
}

// CheckDir checks an unpacked checkpoint layer: it must hold ImageName,
// a complete, valid ckpt image (image.Open: framing, payloads, bounds and
// digest checked) of a container (a CONTAINER record after the HEADER),
// which it describes. The error names the directory and what is wrong
// with it. The shim checks here, before the runc shim makes anything: a
// restore refused later would leave a created task behind.
func CheckDir(dir string) (*Checkpoint, error) {
	im, err := image.Open(filepath.Join(dir, ImageName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint %s holds no %s: not a ckpt checkpoint (made by another runtime?)", dir, ImageName)
	}
	if err != nil {
		return nil, CorruptImage(dir, err)
	}
	defer im.Close()
	if im.Container == nil {
		return nil, fmt.Errorf("checkpoint %s: image %s is a process's, not a container's (no CONTAINER record)", dir, ImageName)
	}
	c := &Checkpoint{Container: im.Container}
	if ts := im.Summary.Tasks; len(ts) > 0 {
		c.FirstPid, c.SharedPidns = ts[0].Pid, ts[0].Flags&image.TaskFlagPidnsInit == 0
	}
	return c, nil
}

// CheckPidns refuses a restore whose bundle (spec) puts the checkpoint
// into the wrong kind of pid namespace: a container that shared a pod's
// pid namespace (its processes a subtree under the pod's init) into one
// of its own, where its first process would have to be the init, or a
// container that had its own into a shared one.
func CheckPidns(c *Checkpoint, spec *specs.Spec) error {
	shared := false
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				shared = ns.Path != ""
			}
		}
	}
	switch {
	case c.SharedPidns && !shared:
		return fmt.Errorf("the checkpoint is of a container that shared its pod's pid namespace (its first process %d was not the namespace's init): "+
			"it is restored only into a shared pid namespace (a pod's, through CRI), not into one of its own", c.FirstPid)
	case !c.SharedPidns && shared:
		return fmt.Errorf("the checkpoint is of a container with a pid namespace of its own (its first process %d was the init): "+
			"it cannot be restored into a shared pid namespace", c.FirstPid)
	}
	return nil
}

// RestoreFlagAnnotation, followed by a restore flag's name
// (tcp-established, file-locks, ext-unix-sk) and "true" in a bundle's
// config.json, gives the OCI runtime's restore that flag: containerd's
// runc-shim code runs `restore` with none, so the shim passes the
// handler's defaults (docs/kubernetes.md) this way.
const RestoreFlagAnnotation = "io.ckpt.restore.flag."

// CorruptImage is the error for an image of checkpoint directory dir that
// does not validate, or cannot be read.
func CorruptImage(dir string, err error) error {
	var fe *image.FormatError
	if errors.As(err, &fe) {
		return fmt.Errorf("checkpoint %s: corrupt image %s: %w", dir, ImageName, err)
	}
	return fmt.Errorf("checkpoint %s: %w", dir, err)
}
