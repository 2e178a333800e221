// Package image reads and writes ckpt images. docs/image-format.md is the
// normative description; this comment is the map.
//
// An image is a stream of records, written strictly in order and never
// seeked, so it can go through a pipe or a socket:
//
//	stream offset 0
//	+----------+----------+--------------------------------+-----+
//	| type u32 | len u32  | payload                        | pad |  HEADER (type 1)
//	+----------+----------+--------------------------------+-----+
//	| type u32 | len u32  | payload                        | pad |  TASK, MM, VMA, ...
//	+----------+----------+--------------------------------+-----+
//	| 402      | len u32  | Vaddr u64, NrPages u32,        |         PAGES (type 402)
//	|          |          | Flags u32, zeros up to the     |
//	|          |          | next multiple of 4096,         |
//	|          |          | NrPages*4096 bytes of data     |
//	+----------+----------+--------------------------------+
//	| ...                                                  |
//	+----------+----------+--------------------------------+
//	| 2        | 40       | Magic Records Bytes Digest     |         TAIL (type 2)
//	+----------+----------+--------------------------------+
//	|<----------------------- len ------------------------>|  (pad not counted)
//
// Everything is little-endian. len counts the 8-byte prefix and the
// payload but not the pad, which is 0-7 zero bytes bringing the next
// record to an 8-byte boundary of the stream. A PAGES record needs no pad:
// its data ends on a page boundary. The TAIL carries the number of
// records before it, its own offset, and the XXH64 (seed 0) of every byte
// before it; a failed checkpoint writes an ERROR record instead, and a
// stream that ends without either was cut.
//
// Payloads are the exported fields of the record's Go struct in order,
// with no implicit padding: integers at their size, fixed arrays and
// nested structs inline, and strings and slices as a u32 element count
// followed by the elements. The codec is built by reflection, once per
// type, from the registry in types.go.
//
// Objects shared between tasks (an mm, an fd table, an open file) are
// written once, in a record whose first field is its objref (tag
// ckpt:"objref"); later records name it in fields tagged ckpt:"ref".
// Both Writer and Reader check that objrefs are defined once, are not 0,
// and are defined before they are referred to.
package image
