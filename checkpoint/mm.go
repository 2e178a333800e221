package checkpoint

import (
	"strings"

	"github.com/ckpt/ckpt/internal/proc"
)

func (d *dumper) collectMm(p *process) error {
	exe, err := proc.Exe(p.pid)
	if err != nil {
		return err
	}
	if strings.HasSuffix(exe, " (deleted)") {
		return unsupported(p.pid, "exe", "the executable %q was deleted", exe)
	}
	st, err := p.paths.stat(exe)
	if err != nil {
		return unsupported(p.pid, "exe", "executable %q not reachable: %v", exe, err)
	}
	auxv, err := proc.Auxv(p.pid)
	if err != nil {
		return err
	}
	s := p.stat
	m := &p.mm
	m.Objref = d.nextObjref()
	m.NrVmas = uint32(len(p.imgVmas))
	m.StartCode, m.EndCode, m.StartData, m.EndData = s.StartCode, s.EndCode, s.StartData, s.EndData
	m.StartBrk, m.StartStack = s.StartBrk, s.StartStack
	m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd = s.ArgStart, s.ArgEnd, s.EnvStart, s.EnvEnd
	m.ExePath, m.ExeDev, m.ExeIno = exe, st.Dev, st.Ino
	m.Auxv = auxv
	return nil
}
