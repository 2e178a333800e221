package sysvipc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// inNewIpcns runs fn on a thread of its own in a new, empty IPC namespace;
// the thread exits with it.
func inNewIpcns(t *testing.T, fn func() error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a new IPC namespace")
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestMsgCopyLeavesTheQueue(t *testing.T) {
	inNewIpcns(t, func() error {
		id, err := kernel.MsgGet(unix.IPC_PRIVATE, 0o600)
		if err != nil {
			return err
		}
		texts := [][]byte{[]byte("one"), {}, bytes.Repeat([]byte{7}, 300)}
		for i, text := range texts {
			if err := kernel.MsgSend(id, int64(i+1), text); err != nil {
				return err
			}
		}
		for round := 0; round < 2; round++ {
			for i, want := range texts {
				mtype, text, err := kernel.MsgCopy(id, i, 300)
				if err != nil {
					return fmt.Errorf("copy %d: %w", i, err)
				}
				if mtype != int64(i+1) || !bytes.Equal(text, want) {
					return fmt.Errorf("message %d: type %d %q", i, mtype, text)
				}
			}
		}
		if _, _, err := kernel.MsgCopy(id, 2, 299); !errors.Is(err, unix.E2BIG) {
			return fmt.Errorf("copy into too small a buffer: %w, want E2BIG", err)
		}
		ds, err := kernel.MsgStat(id)
		if err != nil {
			return err
		}
		if ds.Qnum != 3 || ds.Cbytes != 303 {
			return fmt.Errorf("after copies: %d messages of %d bytes, want 3 of 303", ds.Qnum, ds.Cbytes)
		}
		rows, err := Rows("msg")
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("/proc/sysvipc/msg has %d rows in a namespace with one queue", len(rows))
		}
		n, err := Nums(rows[0], 1, 2, 4)
		if err != nil {
			return err
		}
		if n[0] != int64(id) || n[1] != 0o600 || n[2] != 3 {
			return fmt.Errorf("/proc/sysvipc/msg row %q: id, mode, qnum %v", rows[0], n)
		}
		return nil
	})
}

func TestSemValues(t *testing.T) {
	inNewIpcns(t, func() error {
		id, err := kernel.SemGet(unix.IPC_PRIVATE, 3, 0o600)
		if err != nil {
			return err
		}
		want := []uint16{32767, 0, 9}
		if err := kernel.SemSetAll(id, want); err != nil {
			return err
		}
		got, err := kernel.SemGetAll(id, 3)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("GETALL %v, want %v", got, want)
		}
		ds, err := kernel.SemStat(id)
		if err != nil {
			return err
		}
		if ds.Nsems != 3 || ds.Perm.Mode&0o777 != 0o600 {
			return fmt.Errorf("IPC_STAT: %d semaphores, mode %#o", ds.Nsems, ds.Perm.Mode)
		}
		return nil
	})
}
