package image

// TypeTmpfile is TMPFILE's type number (format 3.1).
const TypeTmpfile Type = 323

var _ = registerType(typeInfo{typ: TypeTmpfile, name: "TMPFILE", new: func() Record { return new(Tmpfile) }})

// Tmpfile (TMPFILE, type 323) says that the DELETED_FILE right after it
// was made with open(2)'s O_TMPFILE and never linked: restore makes it
// the same way, so that it has no name but the one the kernel gives such
// a file ("#INO"), can be linked (linkat(2)) as it could, and its open
// file description carries the O_TMPFILE flags.
type Tmpfile struct {
	Dev      uint64 // the DELETED_FILE's Dev
	Ino      uint64 // the DELETED_FILE's Ino
	Flags    uint32 // open(2) flags of the one description made by O_TMPFILE (O_TMPFILE among them); O_TMPFILE|O_RDWR if no task holds it
	Reserved uint32
}

func (*Tmpfile) Type() Type { return TypeTmpfile }
