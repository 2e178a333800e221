package proc

// VmaStats is a Vma with the memory counters of its smaps entry, in bytes.
type VmaStats struct {
	Vma
	Rss, Pss, SharedClean, SharedDirty, PrivateClean, PrivateDirty uint64
	Referenced, Anonymous, AnonHugePages, Swap, Locked             uint64
}

// Smaps reads /proc/PID/smaps and returns its VMAs with Flags filled. It
// skips the counters; SmapsStats keeps them.
func Smaps(pid int) ([]Vma, error) {
	var vmas []Vma
	err := readSmaps(pid,
		func() *Vma {
			vmas = append(vmas, Vma{})
			return &vmas[len(vmas)-1]
		}, nil)
	return vmas, err
}

// SmapsStats reads /proc/PID/smaps with the counters.
func SmapsStats(pid int) ([]VmaStats, error) {
	var vmas []VmaStats
	err := readSmaps(pid,
		func() *Vma {
			vmas = append(vmas, VmaStats{})
			return &vmas[len(vmas)-1].Vma
		},
		func(key []byte, kb uint64) {
			s := &vmas[len(vmas)-1]
			if p := s.counter(key); p != nil {
				*p = kb << 10
			}
		})
	return vmas, err
}

func (s *VmaStats) counter(key []byte) *uint64 {
	switch string(key) {
	case "Rss":
		return &s.Rss
	case "Pss":
		return &s.Pss
	case "Shared_Clean":
		return &s.SharedClean
	case "Shared_Dirty":
		return &s.SharedDirty
	case "Private_Clean":
		return &s.PrivateClean
	case "Private_Dirty":
		return &s.PrivateDirty
	case "Referenced":
		return &s.Referenced
	case "Anonymous":
		return &s.Anonymous
	case "AnonHugePages":
		return &s.AnonHugePages
	case "Swap":
		return &s.Swap
	case "Locked":
		return &s.Locked
	}
	return nil
}

// readSmaps walks /proc/PID/smaps. A VMA starts with a maps-style header,
// which begins with a lowercase hex digit; its fields ("Rss:   4 kB",
// "VmFlags: rd wr") begin with an uppercase letter. next returns the Vma to
// fill for each header, and field, when not nil, gets every "Key: N kB"
// counter of the current VMA.
func readSmaps(pid int, next func() *Vma, field func(key []byte, kb uint64)) error {
	path := pidPath(pid, "smaps")
	var paths pathCache
	var cur *Vma
	err := forEachLine(path, func(line []byte) error {
		if len(line) == 0 {
			return nil
		}
		if c := line[0]; c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			cur = next()
			return parseVmaHeader(line, cur, &paths)
		}
		if cur == nil {
			return syntaxErr("field before the first VMA", line)
		}
		key, val, ok := cutByte(line, ':')
		if !ok {
			return syntaxErr("field", line)
		}
		if string(key) == "VmFlags" {
			cur.Flags = parseVmFlags(val)
			return nil
		}
		if field == nil {
			return nil
		}
		num, unit := nextField(val)
		if string(trimSpace(unit)) != "kB" {
			return nil // THPeligible, ProtectionKey: not counters
		}
		kb, ok := parseDec(num)
		if !ok {
			return syntaxErr("counter", line)
		}
		field(key, kb)
		return nil
	})
	if err != nil {
		return readErr(path, err)
	}
	return nil
}
