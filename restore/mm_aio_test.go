package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestAddAioRingRefuses(t *testing.T) {
	plan := func() *taskPlan {
		tp := newPlan(image.Task{Pid: 5})
		tp.mm = &image.Mm{NrVmas: 1}
		tp.vmas = []image.Vma{{Start: 0x10000, End: 0x20000, Kind: image.VmaAnon}}
		return tp
	}
	rs := &restorer{}
	// 127 events fill one page; 128 take two.
	good := image.AioRing{Start: 0x30000, End: 0x31000, NrEvents: 127, Head: 120, Tail: 2,
		Events: make([]image.AioEvent, 9)}
	if err := rs.addAioRing(plan(), &good); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.AioRing){
		"unaligned":          func(x *image.AioRing) { x.Start++ },
		"empty":              func(x *image.AioRing) { x.End = x.Start },
		"reserved":           func(x *image.AioRing) { x.Reserved = 1 },
		"no events":          func(x *image.AioRing) { x.NrEvents, x.Head, x.Tail, x.Events = 0, 0, 0, nil },
		"too many events":    func(x *image.AioRing) { x.NrEvents = 1 << 30 },
		"size not the ring":  func(x *image.AioRing) { x.NrEvents = 128 },
		"head past the end":  func(x *image.AioRing) { x.Head = 127 },
		"tail past the end":  func(x *image.AioRing) { x.Tail = 200 },
		"events not pending": func(x *image.AioRing) { x.Events = x.Events[:8] },
		"over a VMA":         func(x *image.AioRing) { x.Start, x.End = 0x1f000, 0x20000 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := rs.addAioRing(plan(), &x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
	twice := plan()
	if err := rs.addAioRing(twice, &good); err != nil {
		t.Fatal(err)
	}
	if err := rs.addAioRing(twice, &good); !errors.Is(err, ErrBadImage) {
		t.Errorf("the same ring twice: got %v, want a bad image", err)
	}
	early := plan()
	early.vmas = nil
	if err := rs.addAioRing(early, &good); !errors.Is(err, ErrBadImage) {
		t.Errorf("before the VMAs: got %v, want a bad image", err)
	}
	late := plan()
	late.memReady = true
	if err := rs.addAioRing(late, &good); !errors.Is(err, ErrBadImage) {
		t.Errorf("after the pages began: got %v, want a bad image", err)
	}
}
