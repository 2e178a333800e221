package proc

import "strings"

// VmFlags holds the two-letter codes of an smaps "VmFlags:" line, one bit
// per code. The bit numbers are this package's own: the kernel's VM_* bits
// move between versions and configs, the letters do not
// (fs/proc/task_mmu.c:show_smap_vma_flags()).
type VmFlags uint64

// The codes, named after their letters; each comment gives the kernel flag.
const (
	VmRd VmFlags = 1 << iota // VM_READ
	VmWr                     // VM_WRITE
	VmEx                     // VM_EXEC
	VmSh                     // VM_SHARED
	VmMr                     // VM_MAYREAD
	VmMw                     // VM_MAYWRITE
	VmMe                     // VM_MAYEXEC
	VmMs                     // VM_MAYSHARE
	VmGd                     // VM_GROWSDOWN
	VmPf                     // VM_PFNMAP
	VmDw                     // VM_DENYWRITE (gone since 5.15)
	VmLo                     // VM_LOCKED
	VmIo                     // VM_IO
	VmSr                     // VM_SEQ_READ
	VmRr                     // VM_RAND_READ
	VmDc                     // VM_DONTCOPY (MADV_DONTFORK)
	VmDe                     // VM_DONTEXPAND
	VmAc                     // VM_ACCOUNT
	VmNr                     // VM_NORESERVE
	VmHt                     // VM_HUGETLB
	VmSf                     // VM_SYNC (MAP_SYNC)
	VmNl                     // VM_NONLINEAR (gone since 4.0)
	VmAr                     // VM_ARCH_1 (x86: VM_PAT)
	VmWf                     // VM_WIPEONFORK
	VmDd                     // VM_DONTDUMP
	VmSd                     // VM_SOFTDIRTY (only with CONFIG_MEM_SOFT_DIRTY)
	VmMm                     // VM_MIXEDMAP
	VmHg                     // VM_HUGEPAGE (MADV_HUGEPAGE)
	VmNh                     // VM_NOHUGEPAGE (MADV_NOHUGEPAGE)
	VmMg                     // VM_MERGEABLE (KSM)
	VmUm                     // VM_UFFD_MISSING
	VmUw                     // VM_UFFD_WP
	VmSs                     // VM_SHADOW_STACK
	VmLf                     // VM_LOCKONFAULT (mlock2 MLOCK_ONFAULT)
	VmBt                     // VM_ARM64_BTI
	VmMt                     // VM_MTE
	VmUi                     // VM_UFFD_MINOR
	VmDp                     // VM_DROPPABLE (MAP_DROPPABLE)
	VmSl                     // VM_SEALED (mseal)
	VmGu                     // VM_GROWSUP
	VmMp                     // VM_MPX (gone since 5.6)

	// VmUnknown is set when the line held a code this package does not
	// know: a newer kernel's flag, which a checkpointer should not drop
	// silently.
	VmUnknown VmFlags = 1 << 63
)

// vmFlagCodes lists the codes in bit order.
var vmFlagCodes = [...]string{
	"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf",
	"dw", "lo", "io", "sr", "rr", "dc", "de", "ac", "nr", "ht",
	"sf", "nl", "ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg",
	"um", "uw", "ss", "lf", "bt", "mt", "ui", "dp", "sl", "gu",
	"mp",
}

// vmFlagIndex maps a code's two letters, as (c0-'a')*26+(c1-'a'), to its
// bit number plus one; 0 means unknown.
var vmFlagIndex = func() (t [26 * 26]uint8) {
	for i, c := range vmFlagCodes {
		t[int(c[0]-'a')*26+int(c[1]-'a')] = uint8(i + 1)
	}
	return t
}()

// vmFlag returns the flag for a two-letter code, or 0.
func vmFlag(c0, c1 byte) VmFlags {
	if c0 < 'a' || c0 > 'z' || c1 < 'a' || c1 > 'z' {
		return 0
	}
	if i := vmFlagIndex[int(c0-'a')*26+int(c1-'a')]; i != 0 {
		return 1 << (i - 1)
	}
	return 0
}

// Has reports whether the flag with the given two-letter smaps code is set.
// An unknown code reports false.
func (f VmFlags) Has(code string) bool {
	if len(code) != 2 {
		return false
	}
	b := vmFlag(code[0], code[1])
	return b != 0 && f&b != 0
}

// String returns the codes as smaps prints them, space separated, with
// "??" for VmUnknown.
func (f VmFlags) String() string {
	var sb strings.Builder
	for i, c := range vmFlagCodes {
		if f&(1<<i) != 0 {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(c)
		}
	}
	if f&VmUnknown != 0 {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("??")
	}
	return sb.String()
}

// parseVmFlags parses the value of a "VmFlags:" line.
func parseVmFlags(b []byte) VmFlags {
	var f VmFlags
	for {
		var code []byte
		code, b = nextField(b)
		if len(code) == 0 {
			return f
		}
		var bit VmFlags
		if len(code) == 2 {
			bit = vmFlag(code[0], code[1])
		}
		if bit == 0 {
			bit = VmUnknown
		}
		f |= bit
	}
}

// VmFlagCodes returns every code this package knows, in bit order: the
// rows docs/state.md must have.
func VmFlagCodes() []string { return append([]string(nil), vmFlagCodes[:]...) }
