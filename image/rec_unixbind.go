package image

// TypeUnixBind is UNIX_BIND's type number (format 3.1).
const TypeUnixBind Type = 322

var _ = registerType(typeInfo{typ: TypeUnixBind, name: "UNIX_BIND", new: func() Record { return new(UnixBind) }})

// UnixBind (UNIX_BIND, type 322) says where a unix socket bound to a
// relative path was bound from: the kernel keeps the name as bind(2) was
// given it, resolved against the binder's current directory of the time,
// which may have changed since. It follows the UNIX_SK of its socket
// (after its UNIX_QUEUEs and SOCK_STATE).
type UnixBind struct {
	Ino   uint32 // the socket, as in UNIX_SK
	Flags uint32 // none defined: 0
	Dir   []byte // absolute path (in the tasks' root) of the directory Name is relative to
}

func (*UnixBind) Type() Type { return TypeUnixBind }
