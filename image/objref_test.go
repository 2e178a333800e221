package image

import (
	"reflect"
	"testing"
)

// TestSetObjref: the objref of every record type that defines an object
// is set and read through its `ckpt:"objref"` field, and no other type
// takes one.
func TestSetObjref(t *testing.T) {
	defining := 0
	for _, ti := range registry {
		if ti.retired {
			continue
		}
		rec := ti.new()
		ok := SetObjref(rec, 7)
		if ok != (byGoType[reflect.TypeOf(rec)].objref >= 0) {
			t.Errorf("%s: SetObjref says %v", ti.name, ok)
		}
		if want := map[bool]uint32{true: 7, false: 0}[ok]; Objref(rec) != want {
			t.Errorf("%s: Objref %d after SetObjref, want %d", ti.name, Objref(rec), want)
		}
		if ok {
			defining++
		}
	}
	if !SetObjref(&RegFile{}, 1) || !SetObjref(&InetSocket{}, 1) || SetObjref(&Task{}, 1) || SetObjref(&Fd{}, 1) {
		t.Error("REG_FILE and INET_SOCKET define objects, TASK and FD do not")
	}
	if defining < 15 {
		t.Errorf("only %d record types define objects", defining)
	}
}
