package ptrace

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// VdsoSyscallOffset returns the offset, from the start of the [vdso]
// mapping, of a syscall instruction (0f 05). Every process on a kernel (of
// one ABI) maps the same vDSO image, so the offset found in our own holds
// in any tracee: add it to the tracee's [vdso] start. Computed once.
func VdsoSyscallOffset() (uint64, error) { return vdsoSyscallOffset() }

var vdsoSyscallOffset = sync.OnceValues(func() (uint64, error) {
	start, end, err := selfVdso()
	if err != nil {
		return 0, err
	}
	b := make([]byte, end-start)
	if err := ReadMem(os.Getpid(), start, b); err != nil {
		return 0, fmt.Errorf("read our vdso: %w", err)
	}
	// Any 0f 05 will do, even inside a longer instruction: execution starts
	// at it, and from there the CPU decodes a syscall.
	i := bytes.Index(b, []byte{0x0f, 0x05})
	if i < 0 {
		return 0, fmt.Errorf("no syscall instruction in our vdso at %#x-%#x", start, end)
	}
	return uint64(i), nil
})

func selfVdso() (start, end uint64, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasSuffix(line, " [vdso]") {
			continue
		}
		lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-")
		if !ok {
			break
		}
		if start, err = strconv.ParseUint(lo, 16, 64); err != nil {
			return 0, 0, fmt.Errorf("parse /proc/self/maps line %q: %w", line, err)
		}
		if end, err = strconv.ParseUint(hi, 16, 64); err != nil {
			return 0, 0, fmt.Errorf("parse /proc/self/maps line %q: %w", line, err)
		}
		return start, end, nil
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	return 0, 0, fmt.Errorf("no [vdso] mapping in /proc/self/maps")
}
