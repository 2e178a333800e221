package image

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Every path-bearing record: the paths the kernel could have printed are
// accepted, made-up ones refused, by CheckPaths and by Validate.
func TestCheckPaths(t *testing.T) {
	long := "/" + strings.Repeat("x", 5000)
	good := []Record{
		&RegFile{Path: "/usr/lib/x.so"},
		&Fs{Cwd: "/tmp", Root: "/"},
		&Fifo{Path: "/tmp/f"},
		&DeletedFile{Path: "/tmp/gone"},
		&InotifyWatch{Path: "/"},
		&Mm{ExePath: "/bin/sh"},
		&Vma{Kind: VmaFile, Path: "/lib/libc.so.6"},
		&Vma{Kind: VmaHeap, Path: "[heap]"},
		&Vma{Kind: VmaShmem, Path: "/memfd:a/../b"},
		&Shmem{Kind: ShmemFile, Name: "/dev/shm/sem.x"},
		&Shmem{Kind: ShmemMemfd, Name: "../../x"},
		&Mount{Kind: MountBind, MountPoint: "/b", Root: "/", BindFrom: "/src"},
		&TmpfsFile{Path: "/l", Link: "/etc/../../../x"}, // a symlink target is only followed inside the root
		&UnixSk{Name: []byte("/tmp/../x/sock")},         // as bound; resolved inside the root
		&UnixSk{Name: []byte("\x00abstract\x00")},
		&UnixSk{},
		&UnixQueue{Sender: []byte("rel")},
		&UnixSk{Name: []byte("tmp/sock")}, // relative: UNIX_BIND says from where
		&UnixBind{Dir: []byte("/tmp/x")},
	}
	for _, r := range good {
		if err := CheckPaths(r); err != nil {
			t.Errorf("%T %+v refused: %v", r, r, err)
		}
	}
	bad := []Record{
		&RegFile{Path: "etc/passwd"},
		&RegFile{Path: "/../../etc/passwd"},
		&RegFile{Path: "/a/\x00b"},
		&RegFile{Path: long},
		&Fs{Cwd: "/tmp/..", Root: "/"},
		&Fs{Cwd: "/", Root: ""},
		&Fifo{Path: "/tmp//f"},
		&DeletedFile{Path: "/"},
		&DeletedFile{Path: "/tmp/./x"},
		&InotifyWatch{Path: "/a/../../../etc"},
		&Mm{ExePath: "bin/sh"},
		&Vma{Kind: VmaFile, Path: "/x/.."},
		&Vma{Kind: VmaDeleted, Path: ""},
		&Vma{Kind: VmaAnon, Path: "\x00"},
		&Shmem{Kind: ShmemFile, Name: "/dev/shm/../../etc/x"},
		&Mount{Kind: MountBind, MountPoint: "/b", Root: "/", BindFrom: "/../etc"},
		&Mount{MountPoint: "/b/", Root: "/"},
		&TmpfsFile{Path: "/h", Flags: TmpfsHardLink, Link: "/../x"},
		&TmpfsFile{Path: "/l", Link: "a\x00"},
		&UnixBind{Dir: []byte("tmp")},
		&UnixBind{Dir: []byte("/tmp/../x")},
		&UnixSk{Name: []byte("/tmp/so\x00ck")},
		&UnixSk{Name: []byte("/" + strings.Repeat("s", 107))},
		&UnixSk{Name: bytes.Repeat([]byte{0}, 109)},
		&UnixQueue{Sender: bytes.Repeat([]byte("s"), 109)},
	}
	for _, r := range bad {
		err := CheckPaths(r)
		if err == nil {
			t.Errorf("%T %+v accepted", r, r)
			continue
		}
		if len(err.Error()) > 400 {
			t.Errorf("%T: a message of %d bytes", r, len(err.Error()))
		}
	}
}

// Validate refuses an image whose path fields are malformed, with a
// FormatError naming the record.
func TestValidateRefusesBadPath(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range []Record{NewHeader(), &DeletedFile{Objref: 1, Path: "/../../etc/cron.d/x"}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Validate(bytes.NewReader(buf.Bytes()))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), "DELETED_FILE path") {
		t.Fatalf("Validate: %v", err)
	}
}
