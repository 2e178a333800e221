package kernel

import (
	"structs"

	"golang.org/x/sys/unix"
)

// System V IPC constants that golang.org/x/sys/unix lacks.
const (
	// include/uapi/linux/msg.h
	MSG_NOERROR = 0o10000
	MSG_COPY    = 0o40000 // msgrcv: copy the message at index msgtyp, leave it queued
	// include/uapi/linux/sem.h
	GETVAL   = 12
	GETALL   = 13
	GETNCNT  = 14
	SETALL   = 17
	SEM_UNDO = 0x1000
	// include/uapi/linux/shm.h
	SHM_LOCK   = 11
	SHM_REMAP  = 0o40000
	SHM_EXEC   = 0o100000
	SHM_DEST   = 0o1000
	SHM_LOCKED = 0o2000
	// SEMVMX is the largest semaphore value, SEMAEM the largest undo
	// adjustment (include/uapi/linux/sem.h).
	SEMVMX = 32767
	SEMAEM = SEMVMX
)

// MsqidDs mirrors struct msqid64_ds (include/uapi/asm-generic/msgbuf.h,
// the x86_64 layout): what msgctl(IPC_STAT) fills and IPC_SET reads.
type MsqidDs struct {
	_      structs.HostLayout
	Perm   unix.SysvIpcPerm
	Stime  int64
	Rtime  int64
	Ctime  int64
	Cbytes uint64
	Qnum   uint64
	Qbytes uint64
	Lspid  int32
	Lrpid  int32
	_      [2]uint64
}

// SemidDs mirrors struct semid64_ds (arch/x86/include/uapi/asm/sembuf.h,
// x86_64): what semctl(IPC_STAT) fills and IPC_SET reads.
type SemidDs struct {
	_     structs.HostLayout
	Perm  unix.SysvIpcPerm
	Otime int64
	_     uint64
	Ctime int64
	_     uint64
	Nsems uint64
	_     [2]uint64
}

// Sembuf mirrors struct sembuf (include/uapi/linux/sem.h): one semop(2)
// operation.
type Sembuf struct {
	_   structs.HostLayout
	Num uint16
	Op  int16
	Flg int16
}
