package image

import (
	"errors"
	"fmt"
	"io"
)

// Summary describes a valid image: what a restore of it would make.
type Summary struct {
	Records uint64            // every record, HEADER and TAIL included
	Bytes   uint64            // stream length, TAIL included
	Pages   uint64            // pages in PAGES records
	Counts  map[string]uint64 // records by type name; skipped unknown types as UNKNOWN(0x...)
	Header  *Header
	// Container is the CONTAINER record following the HEADER, if any.
	Container *Container
	// Tasks are the PSTREE's entries (parents first), Threads the THREAD
	// records, Files the fds (FD records), Vmas the mappings and
	// VmaBytes their total size.
	Tasks    []Task
	Tids     []int32 // the THREAD records' tids, in order
	Threads  uint64
	Files    uint64
	Vmas     uint64
	VmaBytes uint64
	// Digest is the TAIL's: with Records and Bytes, the identity a child
	// image's PARENT record names.
	Digest uint64
	// Parent is the PARENT record of a child image (rec_chain.go).
	Parent *Parent
	// ForkPids are the tasks whose sections hold FORK_PAGES (rec_fork.go).
	ForkPids map[int32]bool
}

// PidNs reports whether the image is a whole pid namespace (its first task
// was the namespace's init): its pids are restored in a new namespace, not
// the restorer's.
func (s *Summary) PidNs() bool {
	return len(s.Tasks) > 0 && s.Tasks[0].Flags&TaskFlagPidnsInit != 0
}

// Validate reads a whole image, checking framing, record decoding, objrefs,
// path fields (CheckPaths), the bounds of queued data (bounds.go), that the
// PSTREE lists each task once, the tail digest, and that nothing follows
// the TAIL. Errors are *FormatError, as from Reader.Next.
func Validate(r io.Reader) (*Summary, error) {
	return validate(NewReader(r, Options{}))
}

func validate(rd *Reader) (*Summary, error) {
	s := &Summary{Counts: map[string]uint64{}}
	var b bounds
	var pids map[int32]bool // the PSTREE's
	var cur int32           // the TASK whose section this is
	rd.onSkip = func(t Type) { s.Counts[t.String()]++ }
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if msg := checkRecordPaths(rec); msg != "" {
			return nil, formatErr(rd.RecordOffset(), rec.Type(), ErrBadPayload, "%s", msg)
		}
		s.Counts[rec.Type().String()]++
		if detail := b.check(rec); detail != "" {
			return nil, formatErr(rd.RecordOffset(), rec.Type(), ErrOverCapacity, "%s", detail)
		}
		detail := ""
		switch x := rec.(type) {
		case *Container:
			if rd.records == 2 {
				s.Container = x
			}
		case *Pages:
			s.Pages += uint64(x.NrPages)
		case *Tail:
			s.Digest = x.Digest
		case *Parent:
			if s.Parent != nil {
				detail = "a second PARENT"
				break
			}
			s.Parent = x
		case *Pstree:
			if pids != nil {
				detail = "a second PSTREE"
				break
			}
			pids = make(map[int32]bool, len(x.Tasks))
			for _, t := range x.Tasks {
				if t.Pid <= 0 || pids[t.Pid] {
					detail = fmt.Sprintf("PSTREE lists pid %d twice or as no pid", t.Pid)
					break
				}
				pids[t.Pid] = true
			}
			s.Tasks = x.Tasks
		case *Task:
			cur = x.Pid
		case *ForkPages:
			if s.ForkPids == nil {
				s.ForkPids = map[int32]bool{}
			}
			s.ForkPids[cur] = true
		case *Thread:
			s.Threads++
			s.Tids = append(s.Tids, x.Tid)
		case *Fd:
			s.Files++
		case *Vma:
			s.Vmas++
			if x.End > x.Start {
				s.VmaBytes += x.End - x.Start
			}
		}
		if detail != "" {
			return nil, formatErr(rd.RecordOffset(), rec.Type(), ErrBadPayload, "%s", detail)
		}
	}
	if _, err := rd.br.ReadByte(); err == nil {
		return nil, formatErr(rd.off, 0, ErrBadLength, "data follows the TAIL")
	} else if !errors.Is(err, io.EOF) {
		return nil, formatErr(rd.off, 0, err, "reading after the TAIL")
	}
	s.Records, s.Bytes, s.Header = rd.records, uint64(rd.off), rd.hdr
	return s, nil
}
