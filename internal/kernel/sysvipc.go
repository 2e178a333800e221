package kernel

// System V IPC calls x/sys/unix lacks (semctl, msgctl, msgrcv, msgsnd, shmctl
// with our structs), from ipc/sem.c, ipc/msg.c and ipc/shm.c.

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// SemGetAll returns the values of the n semaphores of set id (GETALL).
func SemGetAll(id, n int) ([]uint16, error) {
	vals := make([]uint16, max(n, 1))
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, GETALL, uintptr(unsafe.Pointer(&vals[0])), 0, 0)
	if e != 0 {
		return nil, fmt.Errorf("semctl(%d, GETALL): %w", id, e)
	}
	return vals[:n], nil
}

// SemSetAll sets every semaphore of set id (SETALL).
func SemSetAll(id int, vals []uint16) error {
	if len(vals) == 0 {
		return nil
	}
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, SETALL, uintptr(unsafe.Pointer(&vals[0])), 0, 0)
	return errnoErr(e)
}

// SemStat is semctl(IPC_STAT).
func SemStat(id int) (*SemidDs, error) {
	var ds SemidDs
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, unix.IPC_STAT, uintptr(unsafe.Pointer(&ds)), 0, 0)
	return &ds, errnoErr(e)
}

// SemSet is semctl(IPC_SET): the owner and mode in ds.Perm.
func SemSet(id int, ds *SemidDs) error {
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, unix.IPC_SET, uintptr(unsafe.Pointer(ds)), 0, 0)
	return errnoErr(e)
}

// SemGet is semget(2).
func SemGet(key, nsems, flags int) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_SEMGET, uintptr(key), uintptr(nsems), uintptr(flags))
	return int(r), errnoErr(e)
}

// MsgGet is msgget(2).
func MsgGet(key, flags int) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_MSGGET, uintptr(key), uintptr(flags), 0)
	return int(r), errnoErr(e)
}

// MsgStat is msgctl(IPC_STAT).
func MsgStat(id int) (*MsqidDs, error) {
	var ds MsqidDs
	_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_STAT, uintptr(unsafe.Pointer(&ds)))
	return &ds, errnoErr(e)
}

// MsgSet is msgctl(IPC_SET): owner, mode and msg_qbytes.
func MsgSet(id int, ds *MsqidDs) error {
	_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_SET, uintptr(unsafe.Pointer(ds)))
	return errnoErr(e)
}

// MsgCopy returns the type and text of the message at index i of queue id
// without taking it out (msgrcv with MSG_COPY|IPC_NOWAIT); max bounds the
// text.
func MsgCopy(id, i, max int) (int64, []byte, error) {
	buf := make([]byte, 8+max)
	r, _, e := unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(max),
		uintptr(i), MSG_COPY|unix.IPC_NOWAIT, 0)
	if e != 0 {
		return 0, nil, e
	}
	return int64(binary.LittleEndian.Uint64(buf)), buf[8 : 8+r], nil
}

// MsgSend queues one message without waiting (msgsnd with IPC_NOWAIT).
func MsgSend(id int, mtype int64, text []byte) error {
	buf := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(text)), uint64(mtype))
	buf = append(buf, text...)
	_, _, e := unix.Syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(text)),
		unix.IPC_NOWAIT, 0, 0)
	return errnoErr(e)
}

// ShmAttach attaches segment id at a place of the kernel's choosing and
// returns the attachment, its length rounded up to whole pages (the last
// page's tail past the segment's size is there too, reading as zeros).
func ShmAttach(id, flags int) ([]byte, error) {
	b, err := unix.SysvShmAttach(id, 0, flags)
	if err != nil {
		return nil, err
	}
	n := (len(b) + os.Getpagesize() - 1) &^ (os.Getpagesize() - 1)
	return unsafe.Slice(&b[0], n), nil
}

// ShmDetach detaches an attachment ShmAttach made.
func ShmDetach(b []byte) error {
	return unix.SysvShmDetach(b)
}

// ShmStat is shmctl(IPC_STAT).
func ShmStat(id int) (*unix.SysvShmDesc, error) {
	var ds unix.SysvShmDesc
	_, _, e := unix.Syscall(unix.SYS_SHMCTL, uintptr(id), unix.IPC_STAT, uintptr(unsafe.Pointer(&ds)))
	return &ds, errnoErr(e)
}

// ShmCtl is shmctl with a command that takes ds or nothing (IPC_SET,
// IPC_RMID, SHM_LOCK).
func ShmCtl(id, cmd int, ds *unix.SysvShmDesc) error {
	_, _, e := unix.Syscall(unix.SYS_SHMCTL, uintptr(id), uintptr(cmd), uintptr(unsafe.Pointer(ds)))
	return errnoErr(e)
}
