package restore

import (
	"testing"

	"github.com/ckpt/ckpt/image"
)

// TestKindTable: every record an FD can refer to is taken by a kind and
// opened by it; a unix socket is taken, and opened from what
// makeUnixSockets made.
func TestKindTable(t *testing.T) {
	for _, rec := range []image.Record{&image.RegFile{}, &image.ExtFile{}, &image.EventFd{}, &image.Epoll{}, &image.Pipe{},
		&image.Fifo{}, &image.MemfdFile{}, &image.TimerFd{}, &image.SignalFd{}, &image.Inotify{}, &image.PidFd{},
		&image.DeletedOpen{}, &image.TtyFile{}, &image.InetSocket{}} {
		if byRecord[rec.Type()] == nil {
			t.Errorf("%v: no kind takes it", rec.Type())
		}
		if byOpen[rec.Type()] == nil {
			t.Errorf("%v: no kind opens it", rec.Type())
		}
	}
	if byRecord[image.TypeUnixSk] == nil || byOpen[image.TypeUnixSk] != nil {
		t.Error("UNIX_SK: taken by its kind, opened from ctlFiles")
	}
	// A kind's records in a task's section are refused before any TASK.
	rs := &restorer{objs: map[uint32]image.Record{}}
	if ok, err := rs.takeKind(nil, &image.EventFd{Objref: 1}); !ok || err == nil {
		t.Errorf("EVENTFD before any TASK: taken %v, %v", ok, err)
	}
}
