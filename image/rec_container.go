package image

// Container (CONTAINER, type 600) says the tree is a whole OCI container
// checkpointed through ckpt's runtime: restore does not make its
// namespaces, mounts and cgroup but has the runtime build them from a
// bundle, and checks first that the bundle can hold this image. It comes
// right after the HEADER. With it, the first task is its pid namespace's
// init (TaskFlagPidnsInit); its mount namespace is the container's
// (TaskFlagMntns, but the MOUNT records, all of kind MountTmpfs, only carry
// the content of the container's tmpfs mounts, which restore writes into
// the fresh ones the bundle makes); the UTS record, if any, holds the
// container's hostname.
type Container struct {
	ID           string // the container id at checkpoint
	Bundle       string // the bundle directory at checkpoint
	ConfigDigest string // "sha256:" + hex of the bundle's config.json
	Rootfs       string // the rootfs directory at checkpoint
	RootfsDev    uint64 // st_dev of the rootfs directory
	RootfsIno    uint64 // st_ino of the rootfs directory
	Hostname     string // the spec's hostname
	// Mounts lists the mount destinations of the spec, one per line, in
	// order; restore refuses a bundle that lacks one of them.
	Mounts string
}

func (*Container) Type() Type { return TypeContainer }
