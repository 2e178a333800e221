package restore

import (
	"errors"
	"strings"
	"testing"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/allow"
)

// ttyRestorer is a restorer that has read a PSTREE: session 10 (leader
// 10, group 11 in it), and task 20 in session 10 whose leader is outside.
func ttyRestorer(shellJob bool) *restorer {
	rs := &restorer{byPid: map[int32]*taskPlan{}, objs: map[uint32]image.Record{}, opts: Options{Allow: allow.Allow{ShellJob: shellJob}}, tree: true}
	for _, tk := range []image.Task{{Pid: 10, Pgid: 10, Sid: 10}, {Pid: 11, PPid: 10, Pgid: 11, Sid: 10}} {
		t := newPlan(tk)
		rs.plans = append(rs.plans, t)
		rs.byPid[tk.Pid] = t
	}
	return rs
}

func TestHandleTtyRefuses(t *testing.T) {
	good := image.Tty{TtyID: 1, Kind: image.TtyPty, Sid: 10, Pgrp: 11}
	if ok, err := ttyRestorer(false).handleTty(&good); !ok || err != nil {
		t.Fatalf("a good TTY refused: %v", err)
	}
	bad := map[string]func(*image.Tty){
		"unknown kind":              func(x *image.Tty) { x.Kind = 3 },
		"unknown flag":              func(x *image.Tty) { x.Flags = 16 },
		"session without a leader":  func(x *image.Tty) { x.Sid = 20 },
		"group not in the session":  func(x *image.Tty) { x.Pgrp = 12 },
		"foreground of no session":  func(x *image.Tty) { x.Sid = 0 },
		"a group that is no task's": func(x *image.Tty) { x.Pgrp = 99 },
	}
	for name, damage := range bad {
		x := good
		damage(&x)
		if _, err := ttyRestorer(false).handleTty(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	rs := ttyRestorer(false)
	g := good
	if _, err := rs.handleTty(&g); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.handleTty(&g); !errors.Is(err, ErrBadImage) {
		t.Errorf("a second TTY with one TtyID: %v, want ErrBadImage", err)
	}
	for name, rec := range map[string]image.Record{
		"data of an unknown tty":   &image.TtyData{TtyID: 2, Dir: image.TtyDataInput, Data: []byte("x")},
		"data in no direction":     &image.TtyData{TtyID: 1, Dir: 3},
		"too much data":            &image.TtyData{TtyID: 1, Dir: image.TtyDataOutput, Data: make([]byte, 1<<20)},
		"a file before any task":   &image.TtyFile{Objref: 5, Flags: 2, TtyID: 1, Side: image.TtySlave},
		"a tty after a task":       &image.Tty{TtyID: 3, Kind: image.TtyPty},
		"data after a task":        &image.TtyData{TtyID: 1, Dir: image.TtyDataInput},
		"a file of an unknown tty": &image.TtyFile{Objref: 5, Flags: 2, TtyID: 7, Side: image.TtySlave},
		"a write-only master":      &image.TtyFile{Objref: 5, Flags: 1, TtyID: 1, Side: image.TtyMaster},
		"an unknown side":          &image.TtyFile{Objref: 5, Flags: 2, TtyID: 1, Side: 4},
	} {
		rs := ttyRestorer(false)
		g := good
		if _, err := rs.handleTty(&g); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, "after a task") || strings.Contains(name, "unknown tty") || strings.Contains(name, "master") || strings.Contains(name, "side") {
			rs.cur = rs.plans[0]
		}
		if _, err := rs.handleTty(rec); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	// An external terminal needs --shell-job: not a bad image, a refusal.
	ext := &image.Tty{TtyID: 0x80000001, Kind: image.TtyExternal, Sid: 10, Pgrp: 11}
	if _, err := ttyRestorer(false).handleTty(ext); err == nil || errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), "--shell-job") {
		t.Errorf("an external terminal without --shell-job: %v, want a refusal naming --shell-job", err)
	}
	if _, err := ttyRestorer(true).handleTty(ext); err != nil {
		t.Errorf("an external terminal with --shell-job: %v", err)
	}
}

func TestTtyAttrRefuses(t *testing.T) {
	tty := image.Tty{TtyID: 1, Kind: image.TtyPty}
	good := image.TtyAttr{TtyID: 1, Mode: 0o620, Uid: 5, Gid: 5}
	rs := ttyRestorer(false)
	if _, err := rs.handleTty(&tty); err != nil {
		t.Fatal(err)
	}
	if ok, err := rs.handleTty(&good); !ok || err != nil {
		t.Fatalf("a good TTY_ATTR refused: %v", err)
	}
	if _, err := rs.handleTty(&good); !errors.Is(err, ErrBadImage) {
		t.Errorf("a second TTY_ATTR: %v, want ErrBadImage", err)
	}
	for name, x := range map[string]image.TtyAttr{
		"no such tty":    {TtyID: 2, Mode: 0o620},
		"file type bits": {TtyID: 1, Mode: 0o20620},
	} {
		rs := ttyRestorer(false)
		if _, err := rs.handleTty(&tty); err != nil {
			t.Fatal(err)
		}
		if _, err := rs.handleTty(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
	rs = ttyRestorer(false)
	rs.cur = newPlan(image.Task{Pid: 10})
	if _, err := rs.handleTty(&good); !errors.Is(err, ErrBadImage) {
		t.Errorf("TTY_ATTR in a task's section: %v, want ErrBadImage", err)
	}
}
