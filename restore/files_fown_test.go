package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

func TestAddFileOwnerRefuses(t *testing.T) {
	tp := newPlan(image.Task{Pid: 5})
	tp.files = &image.Files{Objref: 1, NrFds: 1}
	tp.fds = []image.Fd{{Fd: 4, File: 2}}
	rs := &restorer{byPid: map[int32]*taskPlan{5: tp}}
	good := image.FileOwner{Fd: 4, Flags: image.FileOwnerAsync, OwnerType: kernel.F_OWNER_PGRP, Pid: 5, Signal: 34}
	if err := rs.addFileOwner(tp, &good); err != nil {
		t.Fatalf("a good record refused: %v", err)
	}
	bad := map[string]func(*image.FileOwner){
		"unknown fd":     func(x *image.FileOwner) { x.Fd = 5 },
		"unknown flag":   func(x *image.FileOwner) { x.Flags = 2 },
		"reserved":       func(x *image.FileOwner) { x.Reserved = 1 },
		"owner type 3":   func(x *image.FileOwner) { x.OwnerType = 3 },
		"signal 65":      func(x *image.FileOwner) { x.Signal = 65 },
		"owner not ours": func(x *image.FileOwner) { x.Pid = 6 },
		"negative owner": func(x *image.FileOwner) { x.Pid = -5 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if err := rs.addFileOwner(tp, &x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: got %v, want a bad image", name, err)
		}
	}
	early := newPlan(image.Task{Pid: 5})
	if err := rs.addFileOwner(early, &good); !errors.Is(err, ErrBadImage) {
		t.Errorf("before FILES: got %v, want a bad image", err)
	}
}
