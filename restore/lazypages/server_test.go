package lazypages

import "testing"

func newState(addr uint64, pages int) *mmState {
	m := &mmState{pages: map[uint64]page{}}
	for i := range pages {
		m.pages[addr+uint64(i)*pageSize] = page{off: int64(i) * pageSize}
	}
	m.undone = len(m.pages)
	m.resort()
	return m
}

// The bookkeeping the task's events drive: forgotten pages are never
// filled, moved ones are filled at their new place with their data.
func TestEventsBookkeeping(t *testing.T) {
	const base = 0x10000000
	m := newState(base, 16)
	m.mark(base) // filled
	if m.undone != 15 {
		t.Fatalf("undone = %d after one fill, want 15", m.undone)
	}
	// madvise(DONTNEED) or munmap of pages 0..3: one was filled.
	m.forget(base, base+4*pageSize)
	if len(m.pages) != 12 || m.undone != 12 {
		t.Fatalf("after forget: %d pages, %d undone; want 12, 12", len(m.pages), m.undone)
	}
	if _, ok := m.pages[base+2*pageSize]; ok {
		t.Fatal("a forgotten page is still to be filled")
	}
	// mremap of pages 8..15 to a new place.
	to := uint64(0x20000000)
	m.move(base+8*pageSize, to, 8*pageSize)
	if len(m.pages) != 12 || m.undone != 12 {
		t.Fatalf("after move: %d pages, %d undone; want 12, 12", len(m.pages), m.undone)
	}
	if p, ok := m.pages[to+pageSize]; !ok || p.off != 9*pageSize {
		t.Fatalf("moved page = %+v, %v; want the data of page 9", p, ok)
	}
	if _, ok := m.pages[base+9*pageSize]; ok {
		t.Fatal("a moved page is still to be filled at its old place")
	}
	// Every page still to come is in the stream order.
	seen := map[uint64]bool{}
	for _, a := range m.order[m.cursor:] {
		seen[a] = true
	}
	for a, p := range m.pages {
		if !p.done && !seen[a] {
			t.Fatalf("page %#x is never streamed", a)
		}
	}
}
