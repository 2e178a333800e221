package image

// SeccompFilter (SECCOMP_FILTER, type 121, object) is one seccomp filter
// of a filter chain: the filter installed before it is Prev. Tasks and
// threads whose chains start with the same filters share those objects.
type SeccompFilter struct {
	Objref uint32 `ckpt:"objref"`
	Prev   uint32 `ckpt:"ref"` // the filter installed before this one, 0 if none
	Flags  uint32 // SECCOMP_FILTER_FLAG_LOG (2) or 0
	// Prog is the classic BPF program, an array of struct sock_filter
	// (include/uapi/linux/filter.h), 8 bytes each.
	Prog []byte
}

// Seccomp (SECCOMP, type 122) is the seccomp state of one thread of the
// task: its mode and, in filter mode, its newest filter. Threads without
// one had seccomp disabled.
type Seccomp struct {
	Tid    int32  // as in THREAD
	Mode   uint32 // SECCOMP_MODE_STRICT 1 or SECCOMP_MODE_FILTER 2
	Filter uint32 `ckpt:"ref"` // mode 2: the newest filter's objref; else 0
}

// Seccomp modes, include/uapi/linux/seccomp.h.
const (
	SeccompModeStrict uint32 = 1
	SeccompModeFilter uint32 = 2
)

func (*SeccompFilter) Type() Type { return TypeSeccompFilter }
func (*Seccomp) Type() Type       { return TypeSeccomp }
