package restore

import (
	"fmt"
	"os"

	"github.com/ckpt/ckpt/image"
)

// Restore's table of object kinds. Each kind of object a task can hold
// (pipe, FIFO, unix or inet socket, terminal, timerfd, inotify, deleted
// file, mount, IPC object...) registers one row, from its own file, with
// registerKind in an init function: the records it takes and what restore
// does with them. Reading the image (handle), opening a task's files
// (openFile), checking the whole image (checkKinds) and letting go of
// what the restorer holds (closeCopies) are walks over this table; a
// kind's state lives in a struct of its own, embedded in the restorer.
// docs/adding-a-kind.md says how to add one.

// kind is one row of the table.
type kind struct {
	name string
	// task: the kind's records come in a task's section; one before any
	// TASK is refused. Otherwise they come between the PSTREE and the
	// first TASK and the kind checks their place itself.
	task bool
	// takes are the kind's record types, each with the function that
	// checks and keeps a record of that type as it is read.
	takes []taker
	// follow, if set, sees every record before it is dispatched. Kinds
	// whose objects come as a run of records (an object, then its data)
	// check there that the run before rec is complete; follow may take
	// rec itself (done), as the contents of an IPC segment.
	follow func(rs *restorer, r *image.Reader, rec image.Record) (done bool, err error)
	// opens are the kind's file descriptions, by record type: how a task
	// is given one.
	opens []opener
	// check runs once the whole image is read, before anything is made
	// of it.
	check func(rs *restorer) error
	// start, if set, readies the kind's state for a restore.
	start func(rs *restorer)
	// close lets go of what the restorer holds of the kind's objects,
	// after the restore or when it fails.
	close func(rs *restorer)
}

// taker takes the records of one type.
type taker struct {
	typ  image.Type
	take func(rs *restorer, r *image.Reader, rec image.Record) error
}

// opener gives a task a file description of one record type, at a fd >=
// min in the task. Either the restorer makes the file (file) and the
// task takes it with pidfd_getfd, or the task makes it (inTask); then the
// restorer keeps a copy for the tasks that share it unless the kind keeps
// its own (keep false). placed, if set, runs once every fd of the task has
// its number (an epoll's watches name fds).
type opener struct {
	typ    image.Type
	file   func(rs *restorer, t *taskPlan, fd image.Fd, obj image.Record) (*os.File, error)
	inTask func(rs *restorer, t *taskPlan, fd image.Fd, obj image.Record, min int) (int, error)
	keep   bool
	placed func(rs *restorer, t *taskPlan, fd image.Fd, obj image.Record) error
}

// typeOf is the record type of R (a pointer to a record struct).
func typeOf[R image.Record]() image.Type {
	var zero R
	return zero.Type()
}

// on makes a taker of a kind's function for records of type R.
func on[R image.Record](fn func(rs *restorer, x R) error) taker {
	return taker{typeOf[R](), func(rs *restorer, _ *image.Reader, rec image.Record) error { return fn(rs, rec.(R)) }}
}

// all makes takers of the record types of a kind that takes its records
// with one function of its own (handleMount, handleTty); ok false from it
// is a programming error.
func all(fn func(rs *restorer, rec image.Record) (bool, error), types ...image.Type) []taker {
	var ts []taker
	for _, typ := range types {
		ts = append(ts, taker{typ, func(rs *restorer, _ *image.Reader, rec image.Record) error {
			ok, err := fn(rs, rec)
			if !ok && err == nil {
				return fmt.Errorf("restore: record %v not taken by its kind", rec.Type())
			}
			return err
		}})
	}
	return ts
}

// object takes a record that defines a file description the tasks'
// FDs refer to: check (if set) it, then keep it by its objref.
func object[R image.Record](check func(rs *restorer, x R) error) taker {
	return on(func(rs *restorer, x R) error {
		if check != nil {
			if err := check(rs, x); err != nil {
				return err
			}
		}
		rs.objs[image.Objref(x)] = x
		return nil
	})
}

// fileOf makes an opener for descriptions of type R that the restorer
// makes.
func fileOf[R image.Record](fn func(rs *restorer, t *taskPlan, fd image.Fd, x R) (*os.File, error)) opener {
	return opener{typ: typeOf[R](), file: func(rs *restorer, t *taskPlan, fd image.Fd, obj image.Record) (*os.File, error) {
		return fn(rs, t, fd, obj.(R))
	}}
}

// inTaskOf makes an opener for descriptions of type R that the task
// makes; keep says whether the restorer keeps a copy for the tasks that
// share it.
func inTaskOf[R image.Record](keep bool, fn func(rs *restorer, t *taskPlan, fd image.Fd, x R, min int) (int, error)) opener {
	return opener{typ: typeOf[R](), keep: keep, inTask: func(rs *restorer, t *taskPlan, fd image.Fd, obj image.Record, min int) (int, error) {
		return fn(rs, t, fd, obj.(R), min)
	}}
}

// kinds is the table; byRecord and byOpen index it, built at init.
var (
	kinds     []*kind
	byRecord  = map[image.Type]*kind{}
	byRecTake = map[image.Type]taker{}
	byOpen    = map[image.Type]*opener{}
)

// registerKind adds a row. Two kinds taking or opening one record type is
// a programming error, caught at start-up.
func registerKind(k kind) {
	kp := &k
	for _, t := range k.takes {
		if old := byRecord[t.typ]; old != nil {
			panic(fmt.Sprintf("restore: record %v taken by kinds %q and %q", t.typ, old.name, k.name))
		}
		byRecord[t.typ] = kp
		byRecTake[t.typ] = t
	}
	for i := range kp.opens {
		o := &kp.opens[i]
		if byOpen[o.typ] != nil {
			panic(fmt.Sprintf("restore: record %v opened by two kinds (%q)", o.typ, k.name))
		}
		if (o.file == nil) == (o.inTask == nil) {
			panic(fmt.Sprintf("restore: kind %q: record %v needs one way to open it", k.name, o.typ))
		}
		byOpen[o.typ] = o
	}
	kinds = append(kinds, kp)
}

// takeKind gives rec to the kind that takes its type; ok is false when
// no kind does.
func (rs *restorer) takeKind(r *image.Reader, rec image.Record) (ok bool, err error) {
	k := byRecord[rec.Type()]
	if k == nil {
		return false, nil
	}
	if k.task && rs.cur == nil {
		return true, badImage("record %v before any TASK", rec.Type())
	}
	return true, byRecTake[rec.Type()].take(rs, r, rec)
}

// followKinds shows rec to every kind that follows the stream.
func (rs *restorer) followKinds(r *image.Reader, rec image.Record) (done bool, err error) {
	for _, k := range kinds {
		if k.follow == nil {
			continue
		}
		if done, err := k.follow(rs, r, rec); done || err != nil {
			return true, err
		}
	}
	return false, nil
}

// startKinds readies every kind's state.
func (rs *restorer) startKinds() {
	for _, k := range kinds {
		if k.start != nil {
			k.start(rs)
		}
	}
}

// checkKinds runs every kind's check once the whole image is read.
func (rs *restorer) checkKinds() error {
	for _, k := range kinds {
		if k.check != nil {
			if err := k.check(rs); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeKinds lets every kind close what the restorer holds of it.
func (rs *restorer) closeKinds() {
	for _, k := range kinds {
		if k.close != nil {
			k.close(rs)
		}
	}
}
