package kernel

import "encoding/binary"

// Siginfo is a raw siginfo_t as the kernel copies it to user space.
// From include/uapi/asm-generic/siginfo.h (SI_MAX_SIZE = 128). It is kept
// as bytes because the meaning of everything past si_code depends on the
// signal and si_code; the accessors decode the common members at their
// 64-bit offsets.
type Siginfo [128]byte

// Signo returns si_signo.
func (s *Siginfo) Signo() int32 { return int32(binary.NativeEndian.Uint32(s[0:])) }

// Errno returns si_errno.
func (s *Siginfo) Errno() int32 { return int32(binary.NativeEndian.Uint32(s[4:])) }

// Code returns si_code (SI_USER, SI_QUEUE, SI_TKILL, ... or a signal-specific code).
func (s *Siginfo) Code() int32 { return int32(binary.NativeEndian.Uint32(s[8:])) }

// Pid returns si_pid, meaningful for kill, sigqueue, tkill and SIGCHLD.
// The union starts at offset 16: three ints and 4 bytes of padding precede it.
func (s *Siginfo) Pid() int32 { return int32(binary.NativeEndian.Uint32(s[16:])) }

// Uid returns si_uid, meaningful for kill, sigqueue, tkill and SIGCHLD.
func (s *Siginfo) Uid() uint32 { return binary.NativeEndian.Uint32(s[20:]) }

// Value returns si_value (sival_ptr; sival_int is its low 32 bits), meaningful
// for sigqueue (SI_QUEUE), POSIX timers and mq_notify.
func (s *Siginfo) Value() uint64 { return binary.NativeEndian.Uint64(s[24:]) }
