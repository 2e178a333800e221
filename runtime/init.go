package runtime

import (
	"os"

	// The device cgroup controller is registered by importing it: without
	// it libcontainer cannot apply a spec's device rules.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	// nsenter's C constructor joins and creates the container's namespaces
	// in "ckpt init" before the Go runtime starts threads; it does nothing
	// in any other invocation of the binary.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// InitArg is the argument libcontainer runs this binary with to become a
// container's init (or an exec'd process) before it execs the process.
const InitArg = "init"

func init() {
	// libcontainer starts "/proc/self/exe init" (a sealed copy of us) for
	// every process it puts in a container: that copy must do the
	// container's setup and exec, and never reach main.
	if len(os.Args) > 1 && os.Args[1] == InitArg {
		libcontainer.Init()
	}
}
