// containerd-shim-ckpt-v2 is containerd's shim for runtime type
// io.containerd.ckpt.v2: containers run by the ckpt OCI runtime, whose
// checkpoints containerd stores as images (see docs/containerd.md).
package main

import (
	"context"

	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/manager"
	"github.com/containerd/containerd/v2/pkg/shim"

	"github.com/ckpt/ckpt/oci"
	ckptshim "github.com/ckpt/ckpt/shim"
)

func main() {
	shim.RunShim(context.Background(), ckptshim.Manager(manager.NewShimManager(oci.RuntimeType)))
}
