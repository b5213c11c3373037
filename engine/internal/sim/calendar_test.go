package sim

import "testing"

// Bookings take the first gap at or after their arrival that fits them.
func TestCalendarFillsGaps(t *testing.T) {
	var c calendar
	steps := []struct{ at, d, want float64 }{
		{0, 10, 0},  // [0,10)
		{20, 5, 20}, // [0,10) [20,25)
		{5, 5, 10},  // arrives while busy; the gap [10,20) fits: [0,15) [20,25)
		{12, 8, 25}, // the gap [15,20) is too short: [0,15) [20,33)
		{15, 5, 15}, // fits [15,20) exactly: [0,33)
		{1, 1, 33},  // everything before is busy: [0,34)
		{40, 2, 40}, // a gap after the end: [0,34) [40,42)
		{34, 7, 42}, // [34,40) is too short: [0,34) [40,49)
		{30, 6, 34}, // [34,40) fits: [0,49)
	}
	for i, s := range steps {
		if got := c.book(s.at, s.d); got != s.want {
			t.Fatalf("step %d: booked %g at %g, want %g", i, s.d, got, s.want)
		}
	}
	if len(c.start) != 1 || c.start[0] != 0 || c.end[0] != 49 {
		t.Fatalf("intervals %v %v, want [0,49)", c.start, c.end)
	}
}

// The calendar forgets its oldest intervals beyond maxCalendar and treats
// the forgotten past as busy.
func TestCalendarBounded(t *testing.T) {
	var c calendar
	for i := 0; i < 10*maxCalendar; i++ {
		c.book(float64(3*i), 1) // disjoint: [3i, 3i+1)
		if len(c.start) > maxCalendar {
			t.Fatalf("%d intervals kept, bound %d", len(c.start), maxCalendar)
		}
	}
	if c.floor <= 0 {
		t.Fatal("nothing was forgotten")
	}
	if got := c.book(0, 1); got < c.floor {
		t.Fatalf("booked at %g, before the forgotten past ending at %g", got, c.floor)
	}
}
