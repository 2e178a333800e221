package image

import (
	"encoding/binary"
	"fmt"
	"reflect"
)

// The payload codec walks a record struct by reflection. The walk plan of
// each type is computed once, at init, from the registry, so encoding and
// decoding only follow a small tree of nodes.

type nodeKind uint8

const (
	kindUint nodeKind = iota
	kindInt
	kindByteArray // [N]byte: copied as a block
	kindArray     // [N]T, T fixed-size
	kindStruct    // struct of fixed-size fields
	kindString    // u32 count + bytes
	kindBytes     // []byte: u32 count + bytes
	kindSlice     // []T, T fixed-size: u32 count + elements
)

// node is the plan for one Go type.
type node struct {
	kind   nodeKind
	typ    reflect.Type
	size   int // encoded size of a fixed-size type; element size for variable kinds
	len    int // array length
	elem   *node
	fields []fieldNode // kindStruct
}

func (n *node) variable() bool {
	return n.kind == kindString || n.kind == kindBytes || n.kind == kindSlice
}

type fieldNode struct {
	index int
	name  string
	tag   string // value of the ckpt tag: "", "objref" or "ref"
	node  *node
}

// recCodec is the plan for one record type.
type recCodec struct {
	typ    Type
	root   *node
	objref int   // field index of the objref, or -1
	refs   []int // field indexes of ckpt:"ref" fields
}

func newRecCodec(t Type, rt reflect.Type) (*recCodec, error) {
	if rt.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%v is not a struct", rt)
	}
	c := &recCodec{typ: t, root: &node{kind: kindStruct, typ: rt}, objref: -1}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		tag := f.Tag.Get("ckpt")
		if tag == "-" {
			continue
		}
		if !f.IsExported() || f.Name == "_" {
			return nil, fmt.Errorf("field %s: unexported and blank fields are not allowed", f.Name)
		}
		n, err := planNode(f.Type, true)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		switch tag {
		case "":
		case "objref":
			if len(c.root.fields) != 0 || f.Type.Kind() != reflect.Uint32 {
				return nil, fmt.Errorf("field %s: an objref must be the first field and a uint32", f.Name)
			}
			c.objref = i
		case "ref":
			if f.Type.Kind() != reflect.Uint32 {
				return nil, fmt.Errorf("field %s: a ref must be a uint32", f.Name)
			}
			c.refs = append(c.refs, i)
		default:
			return nil, fmt.Errorf("field %s: unknown ckpt tag %q", f.Name, tag)
		}
		fn := fieldNode{index: i, name: f.Name, tag: tag, node: n}
		c.root.fields = append(c.root.fields, fn)
	}
	return c, nil
}

// planNode builds the plan of t. Variable-length kinds are only allowed at
// the top level of a record (top), so every nested type has a fixed size.
func planNode(t reflect.Type, top bool) (*node, error) {
	n := &node{typ: t}
	switch t.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n.kind, n.size = kindUint, int(t.Size())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.kind, n.size = kindInt, int(t.Size())
	case reflect.Array:
		elem, err := planNode(t.Elem(), false)
		if err != nil {
			return nil, fmt.Errorf("array element: %w", err)
		}
		n.kind, n.elem, n.len, n.size = kindArray, elem, t.Len(), t.Len()*elem.size
		if t.Elem().Kind() == reflect.Uint8 {
			n.kind = kindByteArray
		}
	case reflect.Struct:
		n.kind = kindStruct
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "_" {
				return nil, fmt.Errorf("%v.%s: unexported and blank fields are not allowed", t, f.Name)
			}
			if f.Tag.Get("ckpt") != "" {
				return nil, fmt.Errorf("%v.%s: ckpt tags are only allowed on record fields", t, f.Name)
			}
			fn, err := planNode(f.Type, false)
			if err != nil {
				return nil, fmt.Errorf("%v.%s: %w", t, f.Name, err)
			}
			n.fields = append(n.fields, fieldNode{index: i, name: f.Name, node: fn})
			n.size += fn.size
		}
	case reflect.String:
		n.kind, n.size = kindString, 1
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			n.kind, n.size = kindBytes, 1
			break
		}
		elem, err := planNode(t.Elem(), false)
		if err != nil {
			return nil, fmt.Errorf("slice element: %w", err)
		}
		n.kind, n.elem, n.size = kindSlice, elem, elem.size
	default:
		return nil, fmt.Errorf("unsupported kind %v", t.Kind())
	}
	if n.variable() && !top {
		return nil, fmt.Errorf("%v: variable-length types are only allowed as record fields", t)
	}
	if n.size == 0 {
		// A zero-size element would let a count claim any number of
		// elements without the record holding any byte of them.
		return nil, fmt.Errorf("%v has no encoded bytes", t)
	}
	return n, nil
}

// encode appends the encoding of v (a value of n.typ) to b.
func (n *node) encode(b []byte, v reflect.Value) []byte {
	switch n.kind {
	case kindUint:
		return putUint(b, n.size, v.Uint())
	case kindInt:
		return putUint(b, n.size, uint64(v.Int()))
	case kindByteArray:
		if v.CanAddr() {
			return append(b, v.Bytes()...)
		}
		for i := 0; i < n.len; i++ {
			b = append(b, byte(v.Index(i).Uint()))
		}
		return b
	case kindArray:
		for i := 0; i < n.len; i++ {
			b = n.elem.encode(b, v.Index(i))
		}
		return b
	case kindStruct:
		for _, f := range n.fields {
			b = f.node.encode(b, v.Field(f.index))
		}
		return b
	case kindString:
		b = binary.LittleEndian.AppendUint32(b, uint32(v.Len()))
		return append(b, v.String()...)
	case kindBytes:
		b = binary.LittleEndian.AppendUint32(b, uint32(v.Len()))
		return append(b, v.Bytes()...)
	case kindSlice:
		b = binary.LittleEndian.AppendUint32(b, uint32(v.Len()))
		for i := 0; i < v.Len(); i++ {
			b = n.elem.encode(b, v.Index(i))
		}
		return b
	}
	panic("image: bad codec node")
}

// encodedLen is the number of bytes encode appends for v; the writer uses
// it to refuse a record before building it.
func (n *node) encodedLen(v reflect.Value) uint64 {
	switch n.kind {
	case kindString, kindBytes, kindSlice:
		return 4 + uint64(v.Len())*uint64(n.size)
	case kindStruct:
		var s uint64
		for _, f := range n.fields {
			s += f.node.encodedLen(v.Field(f.index))
		}
		return s
	}
	return uint64(n.size)
}

func putUint(b []byte, size int, x uint64) []byte {
	switch size {
	case 1:
		return append(b, byte(x))
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(x))
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return binary.LittleEndian.AppendUint64(b, x)
}

// decoder reads a payload. Every length is checked against what is left
// before anything is allocated for it.
type decoder struct {
	buf []byte
	pos int
	err string // first failure, "" if none
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == "" {
		d.err = fmt.Sprintf(format, args...)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != "" {
		return nil
	}
	if n > len(d.buf)-d.pos {
		d.fail("%s: want %d bytes at payload byte %d, the payload has %d left", what, n, d.pos, len(d.buf)-d.pos)
		return nil
	}
	p := d.buf[d.pos : d.pos+n]
	d.pos += n
	return p
}

func getUint(p []byte) uint64 {
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(p))
	case 4:
		return uint64(binary.LittleEndian.Uint32(p))
	}
	return binary.LittleEndian.Uint64(p)
}

// decode fills v (addressable, of n.typ) from d. what names the field in
// error messages.
func (n *node) decode(d *decoder, v reflect.Value, what string) {
	switch n.kind {
	case kindUint:
		if p := d.take(n.size, what); p != nil {
			v.SetUint(getUint(p))
		}
	case kindInt:
		if p := d.take(n.size, what); p != nil {
			x := getUint(p)
			shift := 64 - 8*uint(n.size)
			v.SetInt(int64(x<<shift) >> shift) // sign-extend
		}
	case kindByteArray:
		if p := d.take(n.size, what); p != nil {
			copy(v.Bytes(), p)
		}
	case kindArray:
		for i := 0; i < n.len && d.err == ""; i++ {
			n.elem.decode(d, v.Index(i), what)
		}
	case kindStruct:
		for _, f := range n.fields {
			if d.err != "" {
				return
			}
			f.node.decode(d, v.Field(f.index), what+"."+f.name)
		}
	case kindString, kindBytes, kindSlice:
		n.decodeVariable(d, v, what)
	}
}

func (n *node) decodeVariable(d *decoder, v reflect.Value, what string) {
	p := d.take(4, what+" count")
	if p == nil {
		return
	}
	count := uint64(binary.LittleEndian.Uint32(p))
	left := uint64(len(d.buf) - d.pos)
	if count*uint64(n.size) > left {
		d.fail("%s: %d elements of %d bytes do not fit in the %d bytes left", what, count, n.size, left)
		return
	}
	if count == 0 {
		return // leave nil: empty and absent encode the same
	}
	c := int(count)
	switch n.kind {
	case kindString:
		v.SetString(string(d.take(c, what)))
	case kindBytes:
		v.SetBytes(append([]byte(nil), d.take(c, what)...))
	default:
		s := reflect.MakeSlice(n.typ, c, c)
		for i := 0; i < c && d.err == ""; i++ {
			n.elem.decode(d, s.Index(i), what+"[]")
		}
		v.Set(s)
	}
}

// encodePayload appends the payload of rec (whose codec is c) to b.
func (c *recCodec) encodePayload(b []byte, v reflect.Value) []byte {
	return c.root.encode(b, v)
}

// decodePayload decodes p into v. trailing reports the bytes left after
// the last field; it is the caller's decision whether they are an error.
func (c *recCodec) decodePayload(p []byte, v reflect.Value) (trailing int, err string) {
	d := decoder{buf: p}
	for _, f := range c.root.fields {
		f.node.decode(&d, v.Field(f.index), f.name)
		if d.err != "" {
			return 0, d.err
		}
	}
	return len(p) - d.pos, ""
}
