package guard

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// FaultEnv is the fault-injection switch: when it names a phase of a
// checkpoint or a restore (checkpoint.FaultPhases, restore.FaultPhases),
// ckpt kills itself with SIGKILL on reaching it, as the OOM killer or an
// impatient user would. It is how the tests check that a dead ckpt leaves
// nothing stopped, frozen, locked or half-restored behind; nothing else in
// ckpt looks at whether it is being tested.
const FaultEnv = "CKPT_FAULT"

var faultPhase = sync.OnceValue(func() string { return os.Getenv(FaultEnv) })

// Fault kills ckpt if the switch names phase.
func Fault(phase string) {
	if faultPhase() != phase {
		return
	}
	_ = unix.Kill(os.Getpid(), unix.SIGKILL)
	select {} // the signal ends every thread
}
