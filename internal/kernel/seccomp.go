package kernel

// SockFilterLen is sizeof(struct sock_filter) (include/uapi/linux/filter.h):
// code u16, jt u8, jf u8, k u32. A seccomp filter is an array of them.
const SockFilterLen = 8

// SeccompMetadata is struct seccomp_metadata (include/uapi/linux/ptrace.h),
// the argument of PTRACE_SECCOMP_GET_METADATA: which filter (0 = the
// oldest) and its SECCOMP_FILTER_FLAG_* flags (the kernel reports only
// SECCOMP_FILTER_FLAG_LOG).
type SeccompMetadata struct {
	FilterOff uint64
	Flags     uint64
}

// SockFprogLen is sizeof(struct sock_fprog) (include/uapi/linux/filter.h)
// on x86_64: len u16, 6 bytes of padding, filter pointer.
const SockFprogLen = 16
