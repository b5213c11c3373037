// Package dram is the cycle-level DRAM model of the simulator: a memory
// controller in front of the external memory described by hw.DRAM (banks
// with open rows, row hits, misses and conflicts, the JEDEC command timing
// constraints, periodic all-bank refresh, a shared data bus per channel), and
// an energy account computed from the IDD currents in the manner of
// Micron's power note TN-41-01 and DRAMPower.
//
// The throughput of a transfer is not a constant bandwidth: it follows from
// where its bytes live (address mapping), what the banks hold open, and the
// timing parameters. A long sequential stream reaches 93.6% of
// hw.DRAM.PeakBandwidthBytesPerS on the LPDDR3-1600 preset (the rest is
// refresh), a backlog of random 64-byte reads 17.8% of it.
//
// # Time
//
// Times passed in and returned are in ns (float64), like everywhere in the
// engine. Internally the controller counts whole cycles of TCKNs: commands
// issue on clock edges, so an arrival between two edges is served from the
// next edge. A done time fed back as an arrival lands exactly on its edge.
//
// # Address mapping
//
// A byte address is split, from the least significant end, into
//
//	offset in burst | channel | column (in bursts) | bank | row
//
// (row:bank:column:channel, high to low). Consecutive bursts alternate
// channels; within a channel, consecutive RowBytes chunks go to consecutive
// banks, so a sequential stream reads a whole open row and opens the next
// row in another bank while the current one is still transferring. Rows
// wrap: addresses beyond the capacity alias to the low rows.
//
// # Scheduling
//
// A Controller serves each channel first come, first served: Access splits
// its transfer into bursts of hw.DRAM.BurstBytes and queues them behind
// every earlier burst of the channel. Data leaves every channel in arrival
// order, but the row commands (PRECHARGE, ACTIVATE) of a queued burst are
// issued as soon as its bank and the timing rules allow, up to QueueDepth
// bursts ahead of its data, which is how a controller hides row changes
// behind transfers. ACTIVATEs issue in request order, and a PRECHARGE never
// issues before the channel's last ACTIVATE or REFRESH; this keeps the
// standby-energy account exact without a command log. docs/dram.md lists
// the timing rules, the energy equations and what the model leaves out.
//
// A Controller is not safe for concurrent use. It allocates only in New.
package dram

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/compass-go/compass/engine/hw"
)

// QueueDepth is the number of bursts per channel that the controller holds
// at once. A burst enters the queue when the burst QueueDepth places ahead
// of it has issued its column command; only then may its row commands
// issue. 32 is DRAMsim3's default transaction queue size.
const QueueDepth = 32

// never is a time (in cycles) long before any event; constraints measured
// from it never bind.
const never = -(1 << 40)

// maxCycles caps a time converted from ns so that sums of a few cycle
// counts cannot overflow int64.
const maxCycles = 1 << 60

// Location is where one byte address lives.
type Location struct {
	// Channel is the channel index, 0..Channels-1.
	Channel int
	// Bank is the bank index within the channel, 0..Banks-1.
	Bank int
	// Row is the row index within the bank, 0..RowsPerBank-1.
	Row int
	// Column is the device column of the byte, 0..ColumnsPerRow-1.
	Column int
}

// Stats counts what a Controller has done. Counts cover all channels.
type Stats struct {
	// BytesRead and BytesWritten are the bytes requested through Access
	// (not rounded up to whole bursts).
	BytesRead, BytesWritten int64
	// ReadBursts and WriteBursts are the column commands issued.
	ReadBursts, WriteBursts int64
	// Activates, Precharges and Refreshes are the ACTIVATE, PRECHARGE and
	// all-bank REFRESH commands issued (one PRECHARGE per bank closed; a
	// refresh closes every open bank first).
	Activates, Precharges, Refreshes int64
	// RowHits, RowMisses and RowConflicts classify every burst by the state
	// of its bank when it was scheduled: hit = its row was open, miss = the
	// bank was closed, conflict = another row was open.
	RowHits, RowMisses, RowConflicts int64
	// DataBusBusyNs is the time the data buses carried bursts, summed over
	// channels: bursts * BurstLength/2 * TCKNs.
	DataBusBusyNs float64
}

// Bursts is ReadBursts + WriteBursts.
func (s Stats) Bursts() int64 { return s.ReadBursts + s.WriteBursts }

// RowHitRate is RowHits / Bursts, or 0 before the first burst.
func (s Stats) RowHitRate() float64 {
	n := s.Bursts()
	if n == 0 {
		return 0
	}
	return float64(s.RowHits) / float64(n)
}

// Energy is the DRAM energy in pJ, by component. Every component is >= 0
// for a DRAM that passes hw validation.
type Energy struct {
	// Activate is Activates * hw.DRAM.ActivateEnergyPJ (one ACT/PRE pair
	// per ACTIVATE).
	Activate float64
	// Read is ReadBursts * hw.DRAM.ReadBurstEnergyPJ.
	Read float64
	// Write is WriteBursts * hw.DRAM.WriteBurstEnergyPJ.
	Write float64
	// Refresh is Refreshes * hw.DRAM.RefreshEnergyPJ.
	Refresh float64
	// Background is the standby energy: active standby power while any bank
	// of a channel is open (or refreshing) plus precharge standby power while
	// all its banks are closed, integrated over time, summed over channels.
	Background float64
}

// Total is the sum of the components.
func (e Energy) Total() float64 {
	return e.Activate + e.Read + e.Write + e.Refresh + e.Background
}

// bank is the state of one bank. Times are in cycles.
type bank struct {
	row   int64 // open row, or -1 when precharged
	actOK int64 // earliest ACTIVATE: last PRE + tRP, last ACT + tRC
	colOK int64 // earliest column command: last ACT + tRCD
	preOK int64 // earliest PRECHARGE: ACT + tRAS, RD + tRTP, write data end + tWR
}

// channel is the state of one channel: its command history, data bus,
// refresh schedule and standby accounting. Times are in cycles.
type channel struct {
	banks []bank // Banks entries, a window of Controller.banks

	lastAct int64    // last ACTIVATE (tRRD)
	fawRing [4]int64 // the last four ACTIVATEs, oldest at fawIdx (tFAW)
	fawIdx  int

	lastCol  int64 // last column command (tCCD)
	busFree  int64 // end of the last data transfer
	wDataEnd int64 // end of the last write data (tWTR)

	slots  [QueueDepth]int64 // column-command times of the last QueueDepth bursts
	slotIx int

	nextRef int64 // next refresh due time
	refEnd  int64 // end of the last refresh (tRFC)

	// Standby accounting (see docs/dram.md, "Background energy"). Opening
	// events are ACTIVATEs and REFRESHes; both are issued in time order.
	open     int   // banks open whose PRECHARGE is not yet decided
	lastOpen int64 // time of the last opening event
	maxClose int64 // latest decided end of an open period (PRE, or REF end - tRP)
	preGap   int64 // finalised all-banks-precharged time before lastOpen

	cur int // closed page: bank of the current row run in this Access, or -1
	idx int // channel index (for trace)
}

// Controller is the DRAM model: one memory controller driving every channel
// of a hw.DRAM. Build it with New.
type Controller struct {
	d      hw.DRAM
	closed bool
	tck    float64

	// Timings in cycles.
	cl, cwl, rcd, rp, ras, rc, rrd, faw, wr, wtr, rtp, ccd, rfc, refi, bl2 int64

	// Address mapping.
	burstBytes  uint64
	burstShift  int // log2(burstBytes), or -1 if not a power of two
	chans       uint64
	chanShift   int // log2(chans), or -1 if not a power of two
	colBits     uint
	bankBits    uint
	rowMask     uint64
	bytesPerCol int
	burstLen    int

	banks []bank
	ch    []channel

	st Stats

	// trace, if set (by tests), sees every command: kind 'A' (ACTIVATE),
	// 'P' (PRECHARGE), 'R' (READ), 'W' (WRITE) or 'F' (REFRESH, bank -1),
	// with its channel, bank, row and issue cycle.
	trace func(kind byte, ch, bank int, row, t int64)
}

// New builds a Controller for d, with every bank precharged and the first
// refresh due at TREFICycles. It keeps a copy of d. It rejects a DRAM whose
// fields the model relies on are out of range (every problem is reported,
// joined with errors.Join).
func New(d *hw.DRAM) (*Controller, error) {
	if d == nil {
		return nil, errors.New("dram: nil hw.DRAM")
	}
	if err := check(d); err != nil {
		return nil, err
	}
	c := &Controller{
		d:      *d,
		closed: d.PagePolicy == "closed",
		tck:    d.TCKNs,
		cl:     int64(d.CLCycles), cwl: int64(d.CWLCycles),
		rcd: int64(d.TRCDCycles), rp: int64(d.TRPCycles), ras: int64(d.TRASCycles),
		rc:  int64(d.TRASCycles + d.TRPCycles),
		rrd: int64(d.TRRDCycles), faw: int64(d.TFAWCycles),
		wr: int64(d.TWRCycles), wtr: int64(d.TWTRCycles), rtp: int64(d.TRTPCycles),
		ccd: int64(d.TCCDCycles), rfc: int64(d.TRFCCycles), refi: int64(d.TREFICycles),
		bl2:         int64(d.BurstLength / 2),
		burstBytes:  uint64(d.BurstBytes()),
		chans:       uint64(d.Channels),
		colBits:     uint(bits.TrailingZeros(uint(d.ColumnsPerRow / d.BurstLength))),
		bankBits:    uint(bits.TrailingZeros(uint(d.Banks))),
		rowMask:     uint64(d.RowsPerBank - 1),
		bytesPerCol: d.DevicesPerChannel * d.DeviceWidthBits / 8,
		burstLen:    d.BurstLength,
	}
	c.burstShift = log2(c.burstBytes)
	c.chanShift = log2(c.chans)
	c.banks = make([]bank, d.Channels*d.Banks)
	c.ch = make([]channel, d.Channels)
	for i := range c.ch {
		c.ch[i].banks = c.banks[i*d.Banks : (i+1)*d.Banks : (i+1)*d.Banks]
	}
	c.Reset()
	return c, nil
}

// log2 is the base-2 logarithm of v if v is a power of two, else -1.
func log2(v uint64) int {
	if v == 0 || v&(v-1) != 0 {
		return -1
	}
	return bits.TrailingZeros64(v)
}

// check validates the fields of d that the model relies on.
func check(d *hw.DRAM) error {
	var errs []error
	bad := func(key string, v any, rule string) {
		errs = append(errs, fmt.Errorf("dram: %s = %v: %s", key, v, rule))
	}
	if d.PagePolicy != "open" && d.PagePolicy != "closed" {
		bad("page_policy", fmt.Sprintf("%q", d.PagePolicy), `must be "open" or "closed"`)
	}
	pow2 := func(key string, v, hi int) bool {
		if v < 1 || v > hi || v&(v-1) != 0 {
			bad(key, v, fmt.Sprintf("must be a power of two in 1..%d", hi))
			return false
		}
		return true
	}
	if d.Channels < 1 || d.Channels > 64 {
		bad("channels", d.Channels, "must be in 1..64")
	}
	if d.DevicesPerChannel < 1 || d.DevicesPerChannel > 64 {
		bad("devices_per_channel", d.DevicesPerChannel, "must be in 1..64")
	}
	okW := pow2("device_width_bits", d.DeviceWidthBits, 128)
	pow2("banks", d.Banks, 256)
	pow2("rows_per_bank", d.RowsPerBank, 1<<20)
	okC := pow2("columns_per_row", d.ColumnsPerRow, 1<<16)
	okB := pow2("burst_length", d.BurstLength, 64)
	if okB && d.BurstLength < 2 {
		bad("burst_length", d.BurstLength, "must be at least 2 (BurstLength/2 clock cycles of data)")
		okB = false
	}
	if okC && okB && d.ColumnsPerRow < d.BurstLength {
		bad("columns_per_row", d.ColumnsPerRow, fmt.Sprintf("must be at least burst_length = %d", d.BurstLength))
	}
	if okW && d.DevicesPerChannel >= 1 && d.DevicesPerChannel*d.DeviceWidthBits%8 != 0 {
		bad("device_width_bits", d.DeviceWidthBits, fmt.Sprintf(
			"devices_per_channel * device_width_bits = %d bits is not a whole number of bytes",
			d.DevicesPerChannel*d.DeviceWidthBits))
	}
	if !(d.TCKNs > 0) || math.IsInf(d.TCKNs, 0) {
		bad("tck_ns", d.TCKNs, "must be finite and > 0")
	}
	timings := []struct {
		key string
		v   int
	}{
		{"cl_cycles", d.CLCycles}, {"cwl_cycles", d.CWLCycles},
		{"trcd_cycles", d.TRCDCycles}, {"trp_cycles", d.TRPCycles},
		{"tras_cycles", d.TRASCycles}, {"trrd_cycles", d.TRRDCycles},
		{"tfaw_cycles", d.TFAWCycles}, {"twr_cycles", d.TWRCycles},
		{"twtr_cycles", d.TWTRCycles}, {"trtp_cycles", d.TRTPCycles},
		{"tccd_cycles", d.TCCDCycles}, {"trfc_cycles", d.TRFCCycles},
		{"trefi_cycles", d.TREFICycles},
	}
	okT := true
	for _, t := range timings {
		if t.v < 1 || t.v > 1<<24 {
			bad(t.key, t.v, "must be a cycle count in 1..16777216")
			okT = false
		}
	}
	if okT && d.TREFICycles <= d.TRFCCycles {
		bad("trefi_cycles", d.TREFICycles, fmt.Sprintf("must be above trfc_cycles = %d", d.TRFCCycles))
	}
	if !(d.VDDV > 0) || math.IsInf(d.VDDV, 0) {
		bad("vdd_v", d.VDDV, "must be finite and > 0")
	}
	for _, c := range []struct {
		key string
		v   float64
	}{
		{"idd0_ma", d.IDD0MA}, {"idd2n_ma", d.IDD2NMA}, {"idd3n_ma", d.IDD3NMA},
		{"idd4r_ma", d.IDD4RMA}, {"idd4w_ma", d.IDD4WMA}, {"idd5ab_ma", d.IDD5ABMA},
	} {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			bad(c.key, c.v, "must be finite and >= 0")
		}
	}
	if len(errs) == 0 {
		// The per-command energies above standby must not be negative.
		for _, c := range []struct {
			key string
			v   float64
		}{{"idd4r_ma", d.IDD4RMA}, {"idd4w_ma", d.IDD4WMA}, {"idd5ab_ma", d.IDD5ABMA}} {
			if c.v < d.IDD3NMA {
				bad(c.key, c.v, fmt.Sprintf("must be at least idd3n_ma = %v", d.IDD3NMA))
			}
		}
		if d.ActivateEnergyPJ() < 0 {
			bad("idd0_ma", d.IDD0MA, "is too low: IDD0*tRC - (IDD3N*tRAS + IDD2N*tRP) is negative")
		}
	}
	return errors.Join(errs...)
}

// Reset returns the controller to its state after New: all banks
// precharged, no history, statistics and energy zero, the next refresh due
// at TREFICycles. It does not allocate.
func (c *Controller) Reset() {
	for i := range c.banks {
		c.banks[i] = bank{row: -1, actOK: never, colOK: never, preOK: never}
	}
	for i := range c.ch {
		ch := &c.ch[i]
		banks := ch.banks
		*ch = channel{
			banks:    banks,
			lastAct:  never,
			fawRing:  [4]int64{never, never, never, never},
			lastCol:  never,
			wDataEnd: never,
			nextRef:  c.refi,
			refEnd:   never,
			cur:      -1,
			idx:      i,
		}
	}
	c.st = Stats{}
}

// DRAM returns the DRAM description the controller was built from.
func (c *Controller) DRAM() hw.DRAM { return c.d }

// PeakBandwidthBytesPerS is hw.DRAM.PeakBandwidthBytesPerS: the data rate
// of all channels with every data bus busy all the time.
func (c *Controller) PeakBandwidthBytesPerS() float64 { return c.d.PeakBandwidthBytesPerS() }

// Map returns the location of byte address addr (see the package comment
// for the mapping).
func (c *Controller) Map(addr uint64) Location {
	ch, b, row, col := c.locate(c.burstIndex(addr))
	column := col * c.burstLen
	if c.bytesPerCol > 0 {
		column += int(addr%c.burstBytes) / c.bytesPerCol
	}
	return Location{Channel: ch, Bank: b, Row: int(row), Column: column}
}

// burstIndex is addr / BurstBytes.
func (c *Controller) burstIndex(addr uint64) uint64 {
	if c.burstShift >= 0 {
		return addr >> uint(c.burstShift)
	}
	return addr / c.burstBytes
}

// locate maps a burst index to channel, bank, row and burst column.
func (c *Controller) locate(bi uint64) (ch, b int, row int64, col int) {
	switch {
	case c.chans == 1:
	case c.chanShift >= 0:
		ch = int(bi & (c.chans - 1))
		bi >>= uint(c.chanShift)
	default:
		ch = int(bi % c.chans)
		bi /= c.chans
	}
	col = int(bi & (1<<c.colBits - 1))
	bi >>= c.colBits
	b = int(bi & (1<<c.bankBits - 1))
	bi >>= c.bankBits
	return ch, b, int64(bi & c.rowMask), col
}

// cycles converts a time in ns to cycles, rounding up (ceil) or down to a
// clock edge. A time within a rounding error of an edge is taken as that
// edge. Negative and NaN times give 0; huge ones are capped at maxCycles.
func (c *Controller) cycles(ns float64, ceil bool) int64 {
	if !(ns > 0) {
		return 0
	}
	q := ns / c.tck
	if q >= maxCycles {
		return maxCycles
	}
	r := math.Round(q)
	if math.Abs(q-r) <= 1e-9+r*1e-15 {
		return int64(r)
	}
	if ceil {
		return int64(math.Ceil(q))
	}
	return int64(math.Floor(q))
}

// ns converts cycles to ns.
func (c *Controller) ns(cy int64) float64 { return float64(cy) * c.tck }

// Access schedules a transfer of bytes bytes at byte address addr that
// arrives at nowNs, and returns the time its last data beat has crossed the
// data bus (for a write: has been written into the device). The transfer is
// split into the bursts of BurstBytes that cover [addr, addr+bytes); each is
// queued behind every earlier burst of its channel (first come, first
// served). Refreshes due before the transfer can start are performed first.
// bytes <= 0 is a no-op that returns nowNs. Access does not allocate.
//
// Arrivals should not decrease from one call to the next (an earlier
// arrival is legal, but it is still served after everything queued before
// it).
func (c *Controller) Access(nowNs float64, addr uint64, bytes int, write bool) (doneNs float64) {
	if bytes <= 0 {
		return nowNs
	}
	arr := c.cycles(nowNs, true)
	first := c.burstIndex(addr)
	n := (addr%c.burstBytes+uint64(bytes)-1)/c.burstBytes + 1
	if write {
		c.st.BytesWritten += int64(bytes)
	} else {
		c.st.BytesRead += int64(bytes)
	}
	done := arr
	for i := uint64(0); i < n; i++ {
		ch, b, row, _ := c.locate(first + i)
		if end := c.burst(&c.ch[ch], arr, b, row, write); end > done {
			done = end
		}
	}
	if c.closed {
		for i := range c.ch {
			if ch := &c.ch[i]; ch.cur >= 0 {
				c.precharge(ch, &ch.banks[ch.cur], 0)
				ch.cur = -1
			}
		}
	}
	return c.ns(done)
}

// burst schedules one burst arriving at arr (cycles) to bank b, row row of
// channel ch, and returns the end of its data transfer.
func (c *Controller) burst(ch *channel, arr int64, b int, row int64, write bool) int64 {
	e := max(arr, ch.slots[ch.slotIx])
	if t := max(e, ch.lastCol); t >= ch.nextRef {
		c.refreshUntil(ch, t)
	}
	bk := &ch.banks[b]
	if c.closed && ch.cur >= 0 && (ch.cur != b || bk.row != row) {
		c.precharge(ch, &ch.banks[ch.cur], 0)
		ch.cur = -1
	}
	switch {
	case bk.row == row:
		c.st.RowHits++
	case bk.row < 0:
		c.st.RowMisses++
		c.activate(ch, bk, row, e)
	default:
		c.st.RowConflicts++
		c.precharge(ch, bk, e)
		c.activate(ch, bk, row, e)
	}
	var t, end int64
	if write {
		t = max(e, bk.colOK, ch.lastCol+c.ccd, ch.busFree-c.cwl)
		end = t + c.cwl + c.bl2
		bk.preOK = max(bk.preOK, end+c.wr)
		ch.wDataEnd = end
		c.st.WriteBursts++
	} else {
		t = max(e, bk.colOK, ch.lastCol+c.ccd, ch.busFree-c.cl, ch.wDataEnd+c.wtr)
		end = t + c.cl + c.bl2
		bk.preOK = max(bk.preOK, t+c.rtp)
		c.st.ReadBursts++
	}
	if c.trace != nil {
		k := byte('R')
		if write {
			k = 'W'
		}
		c.trace(k, ch.idx, b, row, t)
	}
	ch.lastCol = t
	ch.busFree = end
	ch.slots[ch.slotIx] = t
	if ch.slotIx++; ch.slotIx == QueueDepth {
		ch.slotIx = 0
	}
	if c.closed {
		ch.cur = b
	}
	return end
}

// precharge closes the open bank bk no earlier than earliest. Like every
// PRECHARGE, it issues no earlier than the channel's last opening event,
// which keeps the standby accounting exact (docs/dram.md).
func (c *Controller) precharge(ch *channel, bk *bank, earliest int64) {
	if bk.row < 0 {
		return
	}
	p := max(earliest, bk.preOK, ch.lastOpen)
	if c.trace != nil {
		c.trace('P', ch.idx, c.bankIndex(ch, bk), bk.row, p)
	}
	bk.row = -1
	bk.actOK = max(bk.actOK, p+c.rp)
	ch.open--
	ch.maxClose = max(ch.maxClose, p)
	c.st.Precharges++
}

// activate opens row row of the precharged bank bk no earlier than
// earliest: after tRP since its precharge and tRC since its last ACTIVATE,
// tRRD after the channel's last ACTIVATE, tFAW after the fourth-last, after
// the last refresh has ended, and not before the last opening event.
func (c *Controller) activate(ch *channel, bk *bank, row int64, earliest int64) {
	a := max(earliest, bk.actOK, ch.lastAct+c.rrd, ch.fawRing[ch.fawIdx]+c.faw, ch.refEnd, ch.lastOpen)
	if ch.open == 0 {
		if g := a - max(ch.lastOpen, ch.maxClose); g > 0 {
			ch.preGap += g
		}
	}
	if c.trace != nil {
		c.trace('A', ch.idx, c.bankIndex(ch, bk), row, a)
	}
	ch.open++
	ch.lastOpen = a
	ch.lastAct = a
	ch.fawRing[ch.fawIdx] = a
	ch.fawIdx = (ch.fawIdx + 1) & 3
	bk.row = row
	bk.colOK = a + c.rcd
	bk.preOK = a + c.ras
	bk.actOK = a + c.rc
	c.st.Activates++
}

// bankIndex is the index of bk within ch (for trace).
func (c *Controller) bankIndex(ch *channel, bk *bank) int {
	for i := range ch.banks {
		if &ch.banks[i] == bk {
			return i
		}
	}
	return -1
}

// refreshUntil performs, in order, every refresh of ch due at or before t.
func (c *Controller) refreshUntil(ch *channel, t int64) {
	for ch.nextRef <= t {
		r := ch.nextRef
		if ch.open == 0 && r >= ch.refEnd && r >= ch.maxClose+c.rp && r >= ch.lastOpen && c.banksReady(ch, r) {
			// Idle: every refresh from r to t issues exactly when due.
			n := (t-r)/c.refi + 1
			last := r + (n-1)*c.refi
			ch.preGap += r - max(ch.lastOpen, ch.maxClose) + (n-1)*(c.refi-c.rfc+c.rp)
			ch.lastOpen = last
			ch.refEnd = last + c.rfc
			ch.maxClose = max(ch.maxClose, last+c.rfc-c.rp)
			ch.nextRef = last + c.refi
			c.st.Refreshes += n
			if c.trace != nil {
				for k := int64(0); k < n; k++ {
					c.trace('F', ch.idx, -1, -1, r+k*c.refi)
				}
			}
			continue
		}
		c.refresh(ch)
	}
}

// banksReady reports whether every bank of ch may take a command at r.
func (c *Controller) banksReady(ch *channel, r int64) bool {
	for i := range ch.banks {
		if ch.banks[i].actOK > r {
			return false
		}
	}
	return true
}

// refresh performs the refresh of ch due at ch.nextRef: every open bank is
// precharged (no earlier than the due time), and REFRESH issues tRP after
// the last precharge. The channel is busy for tRFC; the next refresh is due
// tREFI after this one was due, however late this one issued.
func (c *Controller) refresh(ch *channel) {
	due := ch.nextRef
	for i := range ch.banks {
		c.precharge(ch, &ch.banks[i], due)
	}
	r := max(due, ch.maxClose+c.rp, ch.refEnd, ch.lastOpen)
	for i := range ch.banks {
		r = max(r, ch.banks[i].actOK)
	}
	if g := r - max(ch.lastOpen, ch.maxClose); g > 0 {
		ch.preGap += g
	}
	if c.trace != nil {
		c.trace('F', ch.idx, -1, -1, r)
	}
	ch.lastOpen = r
	ch.refEnd = r + c.rfc
	ch.maxClose = max(ch.maxClose, r+c.rfc-c.rp)
	ch.nextRef = due + c.refi
	c.st.Refreshes++
}

// AdvanceTo performs every refresh due at or before nowNs, as an idle
// controller would have (Access does this itself for the refreshes due
// before a transfer). Call it before reading Stats at a point in time.
func (c *Controller) AdvanceTo(nowNs float64) {
	t := c.cycles(nowNs, false)
	for i := range c.ch {
		c.refreshUntil(&c.ch[i], t)
	}
}

// Stats returns the counts so far.
func (c *Controller) Stats() Stats {
	s := c.st
	s.DataBusBusyNs = c.ns(s.Bursts() * c.bl2)
	return s
}

// horizon is the latest scheduled event of ch, in cycles.
func (ch *channel) horizon() int64 {
	return max(ch.busFree, ch.refEnd, ch.maxClose, ch.lastOpen, 0)
}

// end is the time Energy and StandbyNs integrate up to: endNs, or the end
// of the last scheduled data transfer, precharge or refresh if later.
// It first performs the refreshes due by then.
func (c *Controller) end(endNs float64) float64 {
	if !(endNs > 0) {
		endNs = 0
	}
	h := int64(0)
	for i := range c.ch {
		h = max(h, c.ch[i].horizon())
	}
	endNs = max(endNs, c.ns(h))
	c.AdvanceTo(endNs)
	for i := range c.ch {
		endNs = max(endNs, c.ns(c.ch[i].horizon()))
	}
	return endNs
}

// standby splits [0, endNs) of ch into active and precharge standby time.
func (c *Controller) standby(ch *channel, endNs float64) (activeNs, prechargeNs float64) {
	prechargeNs = c.ns(ch.preGap)
	if ch.open == 0 {
		if tail := endNs - c.ns(max(ch.lastOpen, ch.maxClose)); tail > 0 {
			prechargeNs += tail
		}
	}
	return endNs - prechargeNs, prechargeNs
}

// StandbyNs returns the time from 0 to endNs during which some bank of a
// channel was open or refreshing (activeNs) and during which all were
// precharged (prechargeNs), each summed over channels. Like Energy, it
// first performs the refreshes due by endNs, and it integrates up to the
// last scheduled event if that is later than endNs.
func (c *Controller) StandbyNs(endNs float64) (activeNs, prechargeNs float64) {
	end := c.end(endNs)
	for i := range c.ch {
		a, p := c.standby(&c.ch[i], end)
		activeNs += a
		prechargeNs += p
	}
	return activeNs, prechargeNs
}

// Energy returns the DRAM energy from time 0 to endNs, in pJ. The
// per-command energies are hw.DRAM's (ActivateEnergyPJ, ReadBurstEnergyPJ,
// WriteBurstEnergyPJ, RefreshEnergyPJ); the background is
// ActiveStandbyPowerMW over the active time plus PrechargeStandbyPowerMW
// over the precharged time of StandbyNs (mW * ns = pJ).
//
// Energy first performs the refreshes due by endNs (an idle controller
// keeps refreshing), so it should be called with endNs at or after the last
// done time; if some scheduled command or refresh ends after endNs, the
// background is integrated up to that end instead, and a refresh that has
// begun is charged in full.
func (c *Controller) Energy(endNs float64) Energy {
	act, pre := c.StandbyNs(endNs)
	d := &c.d
	return Energy{
		Activate:   float64(c.st.Activates) * d.ActivateEnergyPJ(),
		Read:       float64(c.st.ReadBursts) * d.ReadBurstEnergyPJ(),
		Write:      float64(c.st.WriteBursts) * d.WriteBurstEnergyPJ(),
		Refresh:    float64(c.st.Refreshes) * d.RefreshEnergyPJ(),
		Background: act*d.ActiveStandbyPowerMW() + pre*d.PrechargeStandbyPowerMW(),
	}
}
