package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// CRIU writes its own timings of a dump or restore into a "stats-dump" or
// "stats-restore" file in its work directory. The file is a CRIU service
// image: two little-endian u32 magics, a u32 length, then one protobuf
// message (stats_entry in CRIU's images/stats.proto). Neither crit nor a
// protobuf library is needed to read the handful of integer fields the
// bench uses, so this is a minimal decoder of just that shape.

const (
	criuServiceMagic = 0x55105940 // IMG_SERVICE_MAGIC, criu/include/magic.h
	criuStatsMagic   = 0x57093306 // STATS_MAGIC
)

// Field numbers in images/stats.proto. Times are in microseconds.
const (
	statsEntryDump    = 1 // stats_entry.dump: dump_stats_entry
	statsEntryRestore = 2 // stats_entry.restore: restore_stats_entry

	dumpFreezingTime = 1
	dumpFrozenTime   = 2
	dumpMemdumpTime  = 3
	dumpMemwriteTime = 4
	dumpPagesWritten = 7

	restoreForkingTime   = 3
	restoreRestoreTime   = 4
	restorePagesRestored = 5
)

// CRIUDumpStats are the figures of a stats-dump file.
type CRIUDumpStats struct {
	Freezing     time.Duration // seizing every task
	Frozen       time.Duration // from the last task stopped to the tasks resumed or killed
	MemDump      time.Duration
	MemWrite     time.Duration
	PagesWritten uint64
}

// CRIURestoreStats are the figures of a stats-restore file.
type CRIURestoreStats struct {
	Forking       time.Duration
	Restore       time.Duration
	PagesRestored uint64
}

// ParseCRIUDumpStats decodes a stats-dump file.
func ParseCRIUDumpStats(b []byte) (CRIUDumpStats, error) {
	f, err := criuStatsFields(b, statsEntryDump)
	if err != nil {
		return CRIUDumpStats{}, fmt.Errorf("criu stats-dump: %w", err)
	}
	us := func(n int) time.Duration { return time.Duration(f[n]) * time.Microsecond }
	return CRIUDumpStats{
		Freezing: us(dumpFreezingTime), Frozen: us(dumpFrozenTime),
		MemDump: us(dumpMemdumpTime), MemWrite: us(dumpMemwriteTime),
		PagesWritten: f[dumpPagesWritten],
	}, nil
}

// ParseCRIURestoreStats decodes a stats-restore file.
func ParseCRIURestoreStats(b []byte) (CRIURestoreStats, error) {
	f, err := criuStatsFields(b, statsEntryRestore)
	if err != nil {
		return CRIURestoreStats{}, fmt.Errorf("criu stats-restore: %w", err)
	}
	return CRIURestoreStats{
		Forking:       time.Duration(f[restoreForkingTime]) * time.Microsecond,
		Restore:       time.Duration(f[restoreRestoreTime]) * time.Microsecond,
		PagesRestored: f[restorePagesRestored],
	}, nil
}

// criuStatsFields checks the framing and returns the varint fields of the
// sub-message with field number which.
func criuStatsFields(b []byte, which int) (map[int]uint64, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%d bytes: shorter than the 12-byte head", len(b))
	}
	if m := binary.LittleEndian.Uint32(b); m != criuServiceMagic {
		return nil, fmt.Errorf("magic %#x, want %#x", m, criuServiceMagic)
	}
	if m := binary.LittleEndian.Uint32(b[4:]); m != criuStatsMagic {
		return nil, fmt.Errorf("second magic %#x, want %#x", m, criuStatsMagic)
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n > len(b)-12 {
		return nil, fmt.Errorf("entry of %d bytes, file holds %d", n, len(b)-12)
	}
	top, err := pbFields(b[12 : 12+n])
	if err != nil {
		return nil, fmt.Errorf("stats_entry: %w", err)
	}
	sub, ok := top.bytes[which]
	if !ok {
		return nil, fmt.Errorf("stats_entry has no field %d", which)
	}
	inner, err := pbFields(sub)
	if err != nil {
		return nil, fmt.Errorf("stats_entry field %d: %w", which, err)
	}
	return inner.varints, nil
}

// pbMessage holds the fields of one protobuf message the bench can read:
// varints and length-delimited blobs. Other wire types are refused.
type pbMessage struct {
	varints map[int]uint64
	bytes   map[int][]byte
}

var errTruncated = errors.New("truncated")

func pbFields(b []byte) (pbMessage, error) {
	m := pbMessage{varints: map[int]uint64{}, bytes: map[int][]byte{}}
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return m, fmt.Errorf("field key: %w", errTruncated)
		}
		b = b[n:]
		num, wire := int(key>>3), key&7
		switch wire {
		case 0: // varint
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return m, fmt.Errorf("field %d varint: %w", num, errTruncated)
			}
			m.varints[num] = v
			b = b[n:]
		case 2: // length-delimited
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return m, fmt.Errorf("field %d length: %w", num, errTruncated)
			}
			m.bytes[num] = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			return m, fmt.Errorf("field %d: wire type %d not expected in stats", num, wire)
		}
	}
	return m, nil
}
