package image

import (
	"fmt"
	"reflect"
)

// objTable enforces the objref rules on both the writing and the reading
// side: an object is defined once, with a non-zero objref, before any
// record refers to it. Objrefs are global to the image, so objects shared
// between tasks are written once.
type objTable struct {
	defined map[uint32]int64 // objref -> stream offset of its defining record
}

// check applies the rules to one record (v is the struct, c its codec)
// at stream offset off and records its definition. It returns a detail
// message, or "" if the record is fine.
func (t *objTable) check(c *recCodec, v reflect.Value, off int64) string {
	if c.objref < 0 && len(c.refs) == 0 {
		return ""
	}
	if t.defined == nil {
		t.defined = map[uint32]int64{}
	}
	// References first: a record cannot refer to itself.
	for _, i := range c.refs {
		ref := uint32(v.Field(i).Uint())
		if ref == 0 {
			continue
		}
		if _, ok := t.defined[ref]; !ok {
			return fmt.Sprintf("field %s refers to objref %d, which no earlier record defines", v.Type().Field(i).Name, ref)
		}
	}
	if c.objref < 0 {
		return ""
	}
	ref := uint32(v.Field(c.objref).Uint())
	if ref == 0 {
		return "objref 0 is reserved for \"none\""
	}
	if first, dup := t.defined[ref]; dup {
		return fmt.Sprintf("objref %d defined twice (first by the record at offset %d)", ref, first)
	}
	t.defined[ref] = off
	return ""
}

// Objref is the objref of a record that defines an object (its field
// tagged `ckpt:"objref"`, found once per type at init): 0 for a record
// of a type that defines none.
func Objref(r Record) uint32 {
	c := byGoType[reflect.TypeOf(r)]
	if c == nil || c.objref < 0 {
		return 0
	}
	return uint32(reflect.ValueOf(r).Elem().Field(c.objref).Uint())
}

// SetObjref sets the objref of a record that defines an object; it
// reports false, changing nothing, for a record of a type that defines
// none.
func SetObjref(r Record, ref uint32) bool {
	c := byGoType[reflect.TypeOf(r)]
	if c == nil || c.objref < 0 {
		return false
	}
	reflect.ValueOf(r).Elem().Field(c.objref).SetUint(uint64(ref))
	return true
}
