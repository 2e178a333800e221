package proc

import "bytes"

// Stat is /proc/PID/stat (fs/proc/array.c:do_task_stat()), field names
// after proc_pid_stat(5). Fields the kernel hides from a reader without
// ptrace access read as 0.
type Stat struct {
	Pid                                  int
	Comm                                 string // as is: may hold spaces, parentheses, newlines
	State                                byte
	PPid, Pgrp, Session, TtyNr, Tpgid    int
	Flags                                uint32 // PF_*
	Utime, Stime                         uint64 // clock ticks
	Priority, Nice                       int64
	NumThreads                           int
	StartTime                            uint64 // clock ticks after boot
	Vsize                                uint64 // bytes
	Rss                                  int64  // pages
	StartCode, EndCode, StartStack       uint64
	Signal, Blocked, SigIgnore, SigCatch uint64 // signals 1-31 only; Status has the full masks
	ExitSignal, Processor                int
	RtPriority, Policy                   uint32
	StartData, EndData, StartBrk         uint64
	ArgStart, ArgEnd, EnvStart, EnvEnd   uint64
	ExitCode                             int // waitpid status, for a zombie
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (*Stat, error) {
	return readStat(pidPath(pid, "stat"))
}

// ReadTaskStat reads /proc/PID/task/TID/stat.
func ReadTaskStat(pid, tid int) (*Stat, error) {
	return readStat(taskPath(pid, tid, "stat"))
}

func readStat(path string) (*Stat, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := readAll(path, buf); err != nil {
		return nil, readErr(path, err)
	}
	s := new(Stat)
	if err := s.parse(*buf); err != nil {
		return nil, readErr(path, err)
	}
	return s, nil
}

// statFields is the number of fields do_task_stat() prints since 3.5.
const statFields = 52

func (s *Stat) parse(data []byte) error {
	line := bytes.TrimRight(data, "\n")
	// comm is printed raw between "(" and ")"; nothing after it holds a
	// ')', so the last one ends it.
	open := bytes.IndexByte(line, '(')
	closing := bytes.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return syntaxErr("comm", line)
	}
	pid, ok := parseInt(trimSpace(line[:open]))
	if !ok {
		return syntaxErr("pid", line)
	}
	s.Pid = int(pid)
	s.Comm = string(line[open+1 : closing])

	// f[i] is field i+1 of proc_pid_stat(5); fields 1 and 2 are done.
	var f [statFields][]byte
	rest := line[closing+1:]
	n := 2
	for ; n < statFields; n++ {
		f[n], rest = nextField(rest)
		if len(f[n]) == 0 {
			break
		}
	}
	if n < statFields {
		return syntaxErr("too few fields", line)
	}
	if len(f[2]) != 1 {
		return syntaxErr("state", line)
	}
	s.State = f[2][0]

	p := statParser{line: line}
	s.PPid = p.int(f[3])
	s.Pgrp = p.int(f[4])
	s.Session = p.int(f[5])
	s.TtyNr = p.int(f[6])
	s.Tpgid = p.int(f[7])
	s.Flags = uint32(p.uint(f[8]))
	s.Utime = p.uint(f[13])
	s.Stime = p.uint(f[14])
	s.Priority = p.int64(f[17])
	s.Nice = p.int64(f[18])
	s.NumThreads = p.int(f[19])
	s.StartTime = p.uint(f[21])
	s.Vsize = p.uint(f[22])
	s.Rss = p.int64(f[23])
	s.StartCode = p.uint(f[25])
	s.EndCode = p.uint(f[26])
	s.StartStack = p.uint(f[27])
	s.Signal = p.uint(f[30])
	s.Blocked = p.uint(f[31])
	s.SigIgnore = p.uint(f[32])
	s.SigCatch = p.uint(f[33])
	s.ExitSignal = p.int(f[37])
	s.Processor = p.int(f[38])
	s.RtPriority = uint32(p.uint(f[39]))
	s.Policy = uint32(p.uint(f[40]))
	s.StartData = p.uint(f[44])
	s.EndData = p.uint(f[45])
	s.StartBrk = p.uint(f[46])
	s.ArgStart = p.uint(f[47])
	s.ArgEnd = p.uint(f[48])
	s.EnvStart = p.uint(f[49])
	s.EnvEnd = p.uint(f[50])
	s.ExitCode = p.int(f[51])
	return p.err
}

// statParser keeps the first parse error so the field list reads flat.
type statParser struct {
	line []byte
	err  error
}

func (p *statParser) int64(b []byte) int64 {
	v, ok := parseInt(b)
	if !ok && p.err == nil {
		p.err = syntaxErr("number "+string(b), p.line)
	}
	return v
}

func (p *statParser) int(b []byte) int { return int(p.int64(b)) }

func (p *statParser) uint(b []byte) uint64 {
	v, ok := parseDec(b)
	if !ok && p.err == nil {
		p.err = syntaxErr("number "+string(b), p.line)
	}
	return v
}
