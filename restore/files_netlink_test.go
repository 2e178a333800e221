package restore

import (
	"errors"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestCheckNetlinkRefuses(t *testing.T) {
	good := image.NetlinkSk{Objref: 1, Flags: 2, SockType: 3, Protocol: 0, Portid: 5, Connected: 1, DstPortid: 6,
		NlFlags: image.NetlinkAllFlags, Groups: []uint32{1, 8}}
	if err := checkNetlink(&good); err != nil {
		t.Fatalf("a good NETLINK_SK refused: %v", err)
	}
	for name, damage := range map[string]func(*image.NetlinkSk){
		"a stream socket":         func(x *image.NetlinkSk) { x.SockType = 1 },
		"protocol past MAX_LINKS": func(x *image.NetlinkSk) { x.Protocol = 32 },
		"no access mode":          func(x *image.NetlinkSk) { x.Flags = 3 },
		"unknown option bit":      func(x *image.NetlinkSk) { x.NlFlags = 1 << 20 },
		"connected twice":         func(x *image.NetlinkSk) { x.Connected = 2 },
		"connected, not bound":    func(x *image.NetlinkSk) { x.Portid = 0 },
		"group past 32":           func(x *image.NetlinkSk) { x.DstGroup = 33 },
		"too many groups":         func(x *image.NetlinkSk) { x.Groups = make([]uint32, image.NetlinkMaxGroups+1) },
	} {
		x := good
		damage(&x)
		if err := checkNetlink(&x); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: %v, want ErrBadImage", name, err)
		}
	}
}
