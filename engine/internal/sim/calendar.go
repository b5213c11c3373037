package sim

import "sort"

// calendar books a shared resource (the bus) in busy intervals. A request
// takes the first gap at or after its arrival that is long enough, so a
// transfer booked far ahead (a DRAM read that completes behind a long
// queue) does not hold up transfers that arrive earlier, as a bus arbiter
// serving whoever is ready would not. Memory is bounded: beyond
// maxCalendar intervals the oldest are forgotten, and the time before the
// oldest one kept counts as busy.
type calendar struct {
	start, end []float64 // disjoint, sorted
	floor      float64   // nothing may be booked before this
}

// maxCalendar bounds the intervals a calendar keeps.
const maxCalendar = 4096

// book reserves d at or after at and returns the start of the booking.
func (c *calendar) book(at, d float64) float64 {
	at = max(at, c.floor)
	// The first interval that ends after at.
	i := sort.SearchFloat64s(c.end, at)
	for i < len(c.end) && c.end[i] <= at {
		i++
	}
	t := at
	for ; i < len(c.start); i++ {
		if c.start[i]-t >= d {
			break
		}
		t = max(t, c.end[i])
	}
	// Insert [t, t+d) before interval i, merging with touching neighbours.
	e := t + d
	switch {
	case i > 0 && c.end[i-1] >= t && i < len(c.start) && c.start[i] <= e:
		c.end[i-1] = c.end[i]
		c.start = append(c.start[:i], c.start[i+1:]...)
		c.end = append(c.end[:i], c.end[i+1:]...)
	case i > 0 && c.end[i-1] >= t:
		c.end[i-1] = e
	case i < len(c.start) && c.start[i] <= e:
		c.start[i] = t
	default:
		c.start = append(c.start, 0)
		c.end = append(c.end, 0)
		copy(c.start[i+1:], c.start[i:])
		copy(c.end[i+1:], c.end[i:])
		c.start[i], c.end[i] = t, e
	}
	if len(c.start) > maxCalendar {
		drop := len(c.start) - maxCalendar/2
		c.floor = c.end[drop-1]
		c.start = append(c.start[:0], c.start[drop:]...)
		c.end = append(c.end[:0], c.end[drop:]...)
	}
	return t
}
