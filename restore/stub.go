package restore

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

const (
	stubPages    = 2 // code page, then a page of zeroes for arguments
	stubCodeOff  = 0x80
	elfHeaderLen = 64
	elfPhdrLen   = 56
)

// buildStub returns a static x86_64 ELF executable that loads stubPages
// pages read-write-execute at base and runs stubCode.
func buildStub(base uint64) []byte {
	img := make([]byte, stubCodeOff+len(stubCode))
	le := binary.LittleEndian
	// ELF header (struct elf64_hdr).
	copy(img, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* EV_CURRENT */})
	le.PutUint16(img[16:], 2) // ET_EXEC
	le.PutUint16(img[18:], elfMachine)
	le.PutUint32(img[20:], 1) // e_version
	le.PutUint64(img[24:], base+stubCodeOff)
	le.PutUint64(img[32:], elfHeaderLen) // e_phoff
	le.PutUint16(img[52:], elfHeaderLen)
	le.PutUint16(img[54:], elfPhdrLen)
	le.PutUint16(img[56:], 1) // e_phnum
	// One PT_LOAD program header (struct elf64_phdr).
	ph := img[elfHeaderLen:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 7) // PF_R|PF_W|PF_X
	le.PutUint64(ph[8:], 0) // p_offset
	le.PutUint64(ph[16:], base)
	le.PutUint64(ph[24:], base)
	le.PutUint64(ph[32:], uint64(len(img)))
	le.PutUint64(ph[40:], stubPages*pageSize)
	le.PutUint64(ph[48:], pageSize)
	copy(img[stubCodeOff:], stubCode)
	return img
}

// stub is a running stub process, not yet seized.
type stub struct {
	cmd  *exec.Cmd
	base uint64

	// adopted is the pid of a stub someone else started (adopt.go), else 0.
	adopted int
}

func (s *stub) pid() int {
	if s.adopted != 0 {
		return s.adopted
	}
	return s.cmd.Process.Pid
}
func (s *stub) syscallAddr() uint64 { return s.base + stubCodeOff + stubSyscallOff }

// startStub execs a stub loaded at base. extra become the stub's fds from
// stubFirstFd on (nil entries stay closed); stdio is ours. It returns once
// the stub runs its own code (it closed the sync pipe).
func startStub(base uint64, extra []*os.File) (*stub, error) {
	var cmd *exec.Cmd
	_, err := runStub(base, func(syncW, memfd *os.File) (int, error) {
		// fd 3: sync pipe the stub closes; fd 4: the stub's own executable.
		cmd = &exec.Cmd{
			Path:       "/proc/self/fd/4",
			Args:       []string{"ckpt-stub"},
			Stdin:      os.Stdin,
			Stdout:     os.Stdout,
			Stderr:     os.Stderr,
			ExtraFiles: append([]*os.File{syncW, memfd}, extra...),
			// Until it is traced (with PTRACE_O_EXITKILL) nothing else
			// ends it if ckpt dies. This thread, the tracer's, lives
			// as long as the stub.
			SysProcAttr: &unix.SysProcAttr{Pdeathsig: unix.SIGKILL},
		}
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("exec stub: %w", err)
		}
		return cmd.Process.Pid, nil
	})
	if err != nil {
		if cmd != nil && cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return nil, err
	}
	return &stub{cmd: cmd, base: base}, nil
}

// runStub writes a stub loaded at base into a memfd and has start run it,
// given the write end of a sync pipe and the memfd (its fds 3 and 4); it
// returns the stub's pid once the stub runs its own code, which closes the
// pipe first thing.
func runStub(base uint64, start func(syncW, memfd *os.File) (int, error)) (int, error) {
	mfd, err := unix.MemfdCreate("ckpt-stub", unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if err != nil {
		return 0, fmt.Errorf("memfd_create: %w", err)
	}
	memfd := os.NewFile(uintptr(mfd), "ckpt-stub")
	defer memfd.Close()
	if _, err := memfd.Write(buildStub(base)); err != nil {
		return 0, fmt.Errorf("write stub: %w", err)
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer syncR.Close()
	pid, err := start(syncW, memfd)
	syncW.Close()
	if err != nil {
		return 0, err
	}
	var b [1]byte
	if n, _ := syncR.Read(b[:]); n != 0 {
		return pid, fmt.Errorf("stub %d wrote to its sync pipe", pid)
	}
	return pid, nil
}

// stubFirstFd is the fd number the first of startStub's extra files gets.
const stubFirstFd = 5

// kill ends the stub and reaps it.
func (s *stub) kill() {
	if s.adopted != 0 {
		// It is the root task; on failure the restore's abort kills it.
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}
