package image

// Netns (NETNS, type 116) describes the tree's private network namespace
// (the first task has TaskFlagNetns): only the loopback is supported, with
// its default addresses.
type Netns struct {
	LoFlags uint32 // NetnsLoUp or 0
}

// Netns.LoFlags values: IFF_UP of include/uapi/linux/if.h.
const NetnsLoUp uint32 = 1

func (*Netns) Type() Type { return TypeNetns }
