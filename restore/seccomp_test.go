package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestCheckSeccompFilterRefuses(t *testing.T) {
	rs := &restorer{objs: map[uint32]image.Record{1: &image.SeccompFilter{Objref: 1}, 2: &image.Fs{Objref: 2}}}
	ok := []*image.SeccompFilter{
		{Objref: 3, Prog: make([]byte, 8)},
		{Objref: 3, Prev: 1, Flags: 2, Prog: make([]byte, 4096*8)},
	}
	for _, f := range ok {
		if err := rs.checkSeccompFilter(f); err != nil {
			t.Errorf("filter %d after %d refused: %v", f.Objref, f.Prev, err)
		}
	}
	bad := map[string]*image.SeccompFilter{
		"empty program":        {Objref: 3},
		"partial instruction":  {Objref: 3, Prog: make([]byte, 12)},
		"too long":             {Objref: 3, Prog: make([]byte, 4097*8)},
		"unknown flag":         {Objref: 3, Flags: 1, Prog: make([]byte, 8)},
		"prev is not a filter": {Objref: 3, Prev: 2, Prog: make([]byte, 8)},
	}
	for name, f := range bad {
		if err := rs.checkSeccompFilter(f); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	t.Run("seccomp", func(t *testing.T) {
		for name, x := range map[string]*image.Seccomp{
			"strict with a filter":   {Tid: 1, Mode: 1, Filter: 1},
			"filter mode, no filter": {Tid: 1, Mode: 2},
			"filter is not a filter": {Tid: 1, Mode: 2, Filter: 2},
			"mode 3":                 {Tid: 1, Mode: 3},
		} {
			if err := rs.addSeccomp(&taskPlan{}, x); !errors.Is(err, ErrBadImage) {
				t.Errorf("%s: %v, want ErrBadImage", name, err)
			}
		}
		tp := &taskPlan{}
		if err := rs.addSeccomp(tp, &image.Seccomp{Tid: 1, Mode: 2, Filter: 1}); err != nil {
			t.Fatal(err)
		}
		if err := rs.addSeccomp(tp, &image.Seccomp{Tid: 1, Mode: 1}); !errors.Is(err, ErrBadImage) {
			t.Errorf("a second SECCOMP for a thread: %v, want ErrBadImage", err)
		}
	})
}
