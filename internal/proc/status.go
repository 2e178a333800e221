package proc

// Status holds the fields of /proc/PID/status a checkpointer needs
// (fs/proc/array.c:proc_pid_status()).
type Status struct {
	Name                           string // comm, with the kernel's escapes of '\n' and '\\' undone
	Umask                          uint32
	State                          byte // the letter: R, S, D, T, t, Z, X, I
	Tgid, Pid, PPid, TracerPid     int
	Uid, Gid                       [4]uint32 // real, effective, saved, fs
	Groups                         []uint32
	NStgid, NSpid, NSpgid, NSsid   []int // outermost namespace first, as printed
	Threads                        int
	SigPnd, ShdPnd, SigBlk, SigIgn uint64
	SigCgt                         uint64
	CapInh, CapPrm, CapEff, CapBnd uint64
	CapAmb                         uint64
	NoNewPrivs, Seccomp            int
	SeccompFilters                 int
	CpusAllowedList                string
}

// ReadStatus reads /proc/PID/status.
func ReadStatus(pid int) (*Status, error) {
	return readStatus(pidPath(pid, "status"))
}

// ReadTaskStatus reads /proc/PID/task/TID/status: the thread's own signal
// mask, pending signals and credentials.
func ReadTaskStatus(pid, tid int) (*Status, error) {
	return readStatus(taskPath(pid, tid, "status"))
}

func readStatus(path string) (*Status, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return nil, readErr(path, err)
	}
	s := new(Status)
	if err := s.parse(*buf); err != nil {
		return nil, readErr(path, err)
	}
	return s, nil
}

func (s *Status) parse(data []byte) error {
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		key, val, ok := cutByte(line, ':')
		if !ok {
			continue
		}
		if string(key) == "Name" {
			// "Name:\t" then the name as is: blanks in it are its own.
			if len(val) > 0 && val[0] == '\t' {
				val = val[1:]
			}
			s.Name = unescapeComm(val)
			continue
		}
		val = trimSpace(val)
		var err error
		switch string(key) {
		case "Umask":
			s.Umask, err = statusUint32(line, val, 8)
		case "State":
			if len(val) == 0 {
				return syntaxErr("state", line)
			}
			s.State = val[0]
		case "Tgid":
			s.Tgid, err = statusInt(line, val)
		case "Pid":
			s.Pid, err = statusInt(line, val)
		case "PPid":
			s.PPid, err = statusInt(line, val)
		case "TracerPid":
			s.TracerPid, err = statusInt(line, val)
		case "Uid":
			err = statusIds(line, val, &s.Uid)
		case "Gid":
			err = statusIds(line, val, &s.Gid)
		case "Groups":
			s.Groups, err = statusGroups(line, val)
		case "NStgid":
			s.NStgid, err = statusInts(line, val)
		case "NSpid":
			s.NSpid, err = statusInts(line, val)
		case "NSpgid":
			s.NSpgid, err = statusInts(line, val)
		case "NSsid":
			s.NSsid, err = statusInts(line, val)
		case "Threads":
			s.Threads, err = statusInt(line, val)
		case "SigPnd":
			s.SigPnd, err = statusHex(line, val)
		case "ShdPnd":
			s.ShdPnd, err = statusHex(line, val)
		case "SigBlk":
			s.SigBlk, err = statusHex(line, val)
		case "SigIgn":
			s.SigIgn, err = statusHex(line, val)
		case "SigCgt":
			s.SigCgt, err = statusHex(line, val)
		case "CapInh":
			s.CapInh, err = statusHex(line, val)
		case "CapPrm":
			s.CapPrm, err = statusHex(line, val)
		case "CapEff":
			s.CapEff, err = statusHex(line, val)
		case "CapBnd":
			s.CapBnd, err = statusHex(line, val)
		case "CapAmb":
			s.CapAmb, err = statusHex(line, val)
		case "NoNewPrivs":
			s.NoNewPrivs, err = statusInt(line, val)
		case "Seccomp":
			s.Seccomp, err = statusInt(line, val)
		case "Seccomp_filters":
			s.SeccompFilters, err = statusInt(line, val)
		case "Cpus_allowed_list":
			s.CpusAllowedList = string(val)
		}
		if err != nil {
			return err
		}
	}
	if s.Pid == 0 {
		return syntaxErr("no Pid line", nil)
	}
	return nil
}

func statusInt(line, val []byte) (int, error) {
	v, ok := parseInt(val)
	if !ok {
		return 0, syntaxErr("number", line)
	}
	return int(v), nil
}

func statusUint32(line, val []byte, base uint64) (uint32, error) {
	v, ok := parseUint(val, base)
	if !ok || v > 1<<32-1 {
		return 0, syntaxErr("number", line)
	}
	return uint32(v), nil
}

func statusHex(line, val []byte) (uint64, error) {
	v, ok := parseHex(val)
	if !ok {
		return 0, syntaxErr("hex mask", line)
	}
	return v, nil
}

// statusIds parses the four ids of a Uid or Gid line.
func statusIds(line, val []byte, ids *[4]uint32) error {
	for i := range ids {
		var f []byte
		f, val = nextField(val)
		v, err := statusUint32(line, f, 10)
		if err != nil {
			return err
		}
		ids[i] = v
	}
	return nil
}

func statusGroups(line, val []byte) ([]uint32, error) {
	var gs []uint32
	for {
		var f []byte
		f, val = nextField(val)
		if len(f) == 0 {
			return gs, nil
		}
		g, err := statusUint32(line, f, 10)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
}

func statusInts(line, val []byte) ([]int, error) {
	var out []int
	for {
		var f []byte
		f, val = nextField(val)
		if len(f) == 0 {
			return out, nil
		}
		v, err := statusInt(line, f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// unescapeComm undoes fs/proc/array.c:proc_task_name(), which escapes only
// '\n' and '\\' in the status Name line (seq_escape_str with ESCAPE_SPACE |
// ESCAPE_SPECIAL limited to "\n\\"). Other escapes are decoded too, in
// case a kernel widens the set.
func unescapeComm(b []byte) string {
	i := 0
	for i < len(b) && b[i] != '\\' {
		i++
	}
	if i == len(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for ; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			c = '\n'
		case 't':
			c = '\t'
		case 'r':
			c = '\r'
		case 'f':
			c = '\f'
		case 'v':
			c = '\v'
		case 'e':
			c = 0x1b
		default: // "\\", "\"" and anything unknown stand for themselves
			c = b[i]
		}
		out = append(out, c)
	}
	return string(out)
}
