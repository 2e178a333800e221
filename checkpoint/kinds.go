package checkpoint

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
)

// The checkpoint's table of file kinds. Each kind of open file a task can
// hold (regular file, pipe, FIFO, socket, terminal, eventfd, timerfd,
// inotify...) registers one row from its own file, with registerFileKind
// in an init function: which fds are of the kind and how one is saved.
// collectFiles walks the table for every fd; an fd no row takes is
// refused, named (dumpFile). Objects' objrefs are set from the records'
// own `ckpt:"objref"` fields (image.SetObjref). docs/adding-a-kind.md says
// how to add a kind.

// fileKind is one row of the table.
type fileKind struct {
	name string
	// modes are the file types (S_IFREG, S_IFSOCK...) of the kind's fds;
	// none means any (anonymous inodes have none of them).
	modes []uint32
	// is tells whether an fd of one of those types is of the kind.
	// fallback rows (is nil) take the fds of their types no other row
	// takes.
	is       func(p *process, of *openFd) bool
	fallback bool
	// dump saves the description of; obj names the fd for messages.
	dump func(d *dumper, p *process, of *openFd, obj string) (image.Record, error)
	// extra, if set, are the records written right after rec (an
	// established TCP socket's stream and queues).
	extra func(d *dumper, rec image.Record) []image.Record
}

var fileKinds []*fileKind

// registerFileKind adds a row; a malformed one is a programming error,
// caught at start-up.
func registerFileKind(k fileKind) {
	if k.dump == nil || (k.is == nil) != k.fallback {
		panic(fmt.Sprintf("checkpoint: file kind %q: a dump, and is unless it is a fallback", k.name))
	}
	if k.fallback {
		for _, o := range fileKinds {
			for _, m := range k.modes {
				if o.fallback && slices.Contains(o.modes, m) {
					panic(fmt.Sprintf("checkpoint: file kinds %q and %q both fall back for mode %#o", o.name, k.name, m))
				}
			}
		}
	}
	fileKinds = append(fileKinds, &k)
}

// fileKindOf finds the row that takes an fd: the first one whose test
// says so, else the fallback of its file type; nil if none.
func fileKindOf(p *process, of *openFd) *fileKind {
	mode := of.st.Mode & unix.S_IFMT
	var fb *fileKind
	for _, k := range fileKinds {
		if len(k.modes) > 0 && !slices.Contains(k.modes, mode) {
			continue
		}
		if k.fallback {
			fb = k
		} else if k.is(p, of) {
			return k
		}
	}
	return fb
}

// anonKind is the test of a kind of anonymous inode, by what its fd's
// link reads.
func anonKind(link string) func(*process, *openFd) bool {
	return func(_ *process, of *openFd) bool { return of.link == link }
}
