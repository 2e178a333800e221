package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// initComm is the name libcontainer's nsexec gives a container's init
// until it execs the container's process.
const initComm = "runc:[2:INIT]"

// execWait bounds how long a checkpoint waits for a just-started init to
// exec its process.
const execWait = 10 * time.Second

// waitExeced waits until a running container's init has exec'd the
// container's process. `run -d` and `start` return once the init is told
// to go on, as runc's do, and the init execs a moment later: a checkpoint
// in between would find libcontainer's init code, mapped from the
// runtime's own binary outside the container, instead of the container's
// process.
func waitExeced(pid int) error {
	deadline := time.Now().Add(execWait)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil {
			return fmt.Errorf("container init %d: %w", pid, err)
		}
		if strings.TrimSpace(string(b)) != initComm {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container init %d has not exec'd the container's process after %v: it is still libcontainer's init", pid, execWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
