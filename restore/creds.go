package restore

import (
	"os"
	"slices"

	"github.com/ckpt/ckpt/checkpoint/image"
	"github.com/ckpt/ckpt/internal/proc"
)

// currentCreds are the restorer's own credentials, which the stub and so
// every restored task start with.
func currentCreds() *image.Creds {
	st, err := proc.ReadStatus(os.Getpid())
	if err != nil {
		return nil
	}
	return &image.Creds{
		Uid: st.Uid[0], Euid: st.Uid[1], Suid: st.Uid[2], Fsuid: st.Uid[3],
		Gid: st.Gid[0], Egid: st.Gid[1], Sgid: st.Gid[2], Fsgid: st.Gid[3],
		CapInh: st.CapInh, CapPrm: st.CapPrm, CapEff: st.CapEff, CapBnd: st.CapBnd, CapAmb: st.CapAmb,
		NoNewPrivs: uint32(st.NoNewPrivs), Groups: st.Groups,
	}
}

// credsEqual compares everything but securebits, which the restorer does
// not read from /proc.
func credsEqual(a, b *image.Creds) bool {
	ids := func(c *image.Creds) [8]uint32 {
		return [8]uint32{c.Uid, c.Euid, c.Suid, c.Fsuid, c.Gid, c.Egid, c.Sgid, c.Fsgid}
	}
	caps := func(c *image.Creds) [5]uint64 {
		return [5]uint64{c.CapInh, c.CapPrm, c.CapEff, c.CapBnd, c.CapAmb}
	}
	return ids(a) == ids(b) && caps(a) == caps(b) && a.NoNewPrivs == b.NoNewPrivs &&
		slices.Equal(a.Groups, b.Groups) && b.Securebits == 0
}
