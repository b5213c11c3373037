package dram_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/dram"
)

// lpddr3 is the DRAM of preset M (the LPDDR3-1600 configuration).
func lpddr3(t testing.TB) *hw.DRAM {
	t.Helper()
	c, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	d := c.DRAM
	return &d
}

func newController(t testing.TB, d *hw.DRAM) *dram.Controller {
	t.Helper()
	c, err := dram.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ns converts a cycle count of d to ns.
func ns(d *hw.DRAM, cycles int) float64 { return float64(cycles) * d.TCKNs }

// bl2 is the data time of one burst in cycles.
func bl2(d *hw.DRAM) int { return d.BurstLength / 2 }

// addrOf is the byte address of burst column col of row row in bank bank
// (single channel): row:bank:column.
func addrOf(d *hw.DRAM, bank, row, col int) uint64 {
	burstsPerRow := d.ColumnsPerRow / d.BurstLength
	return ((uint64(row)*uint64(d.Banks)+uint64(bank))*uint64(burstsPerRow) + uint64(col)) * uint64(d.BurstBytes())
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func wantNs(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !near(got, want) {
		t.Errorf("%s = %.4f ns, want %.4f ns", what, got, want)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := dram.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	d := lpddr3(t)
	d.PagePolicy = "lazy"
	d.TRCDCycles = 0
	d.Banks = 6
	d.TCKNs = math.NaN()
	_, err := dram.New(d)
	if err == nil {
		t.Fatal("New accepted a bad DRAM")
	}
	for _, key := range []string{"page_policy", "trcd_cycles", "banks", "tck_ns"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	d = lpddr3(t)
	d.TREFICycles = d.TRFCCycles
	if _, err := dram.New(d); err == nil || !strings.Contains(err.Error(), "trefi_cycles") {
		t.Errorf("New accepted trefi <= trfc: %v", err)
	}
	d = lpddr3(t)
	d.ColumnsPerRow = d.BurstLength / 2
	if _, err := dram.New(d); err == nil {
		t.Error("New accepted a row shorter than a burst")
	}
}

func TestMap(t *testing.T) {
	d := lpddr3(t)
	c := newController(t, d)
	for _, tc := range []struct{ bank, row, col int }{{0, 0, 0}, {3, 7, 5}, {7, d.RowsPerBank - 1, d.ColumnsPerRow/d.BurstLength - 1}} {
		got := c.Map(addrOf(d, tc.bank, tc.row, tc.col))
		want := dram.Location{Bank: tc.bank, Row: tc.row, Column: tc.col * d.BurstLength}
		if got != want {
			t.Errorf("Map(bank %d row %d col %d) = %+v, want %+v", tc.bank, tc.row, tc.col, got, want)
		}
	}
	// Consecutive rows' worth of bytes go to consecutive banks.
	rb := uint64(d.RowBytes())
	for i := uint64(0); i < uint64(2*d.Banks); i++ {
		l := c.Map(i * rb)
		if l.Bank != int(i)%d.Banks || l.Row != int(i)/d.Banks || l.Column != 0 {
			t.Errorf("Map(%d*RowBytes) = %+v", i, l)
		}
	}
	// A byte inside a burst: column of the byte.
	bytesPerCol := d.DevicesPerChannel * d.DeviceWidthBits / 8
	if l := c.Map(uint64(3 * bytesPerCol)); l.Column != 3 {
		t.Errorf("Map(3 columns) = %+v, want column 3", l)
	}
	// Addresses wrap at the capacity.
	if l := c.Map(uint64(d.CapacityBytes()) + addrOf(d, 2, 1, 0)); l != c.Map(addrOf(d, 2, 1, 0)) {
		t.Errorf("Map does not wrap at the capacity: %+v", l)
	}
	// Two channels: consecutive bursts alternate channels.
	d2 := lpddr3(t)
	d2.Channels = 2
	c2 := newController(t, d2)
	bb := uint64(d2.BurstBytes())
	for i := uint64(0); i < 4; i++ {
		l := c2.Map(i * bb)
		if l.Channel != int(i%2) || l.Column != int(i/2)*d2.BurstLength || l.Bank != 0 {
			t.Errorf("2 channels: Map(burst %d) = %+v", i, l)
		}
	}
}

// 1. A read to a closed bank: ACT, tRCD, RD, CL, burst.
func TestReadClosedBank(t *testing.T) {
	d := lpddr3(t)
	lat := d.TRCDCycles + d.CLCycles + bl2(d)
	for _, arrive := range []float64{0, 100, ns(d, 12345)} {
		c := newController(t, d)
		wantNs(t, "done", c.Access(arrive, addrOf(d, 2, 5, 0), d.BurstBytes(), false), arrive+ns(d, lat))
		s := c.Stats()
		if s.RowMisses != 1 || s.Activates != 1 || s.ReadBursts != 1 || s.BytesRead != int64(d.BurstBytes()) {
			t.Errorf("stats %+v", s)
		}
	}
	// An arrival between clock edges is served from the next edge.
	c := newController(t, d)
	wantNs(t, "done off-edge", c.Access(ns(d, 10)+0.3*d.TCKNs, 0, 1, false), ns(d, 11+lat))
	// bytes <= 0 is a no-op.
	if got := c.Access(7, 0, 0, false); got != 7 || c.Stats().Bursts() != 1 {
		t.Errorf("Access of 0 bytes = %v, stats %+v", got, c.Stats())
	}
}

// 2. A read to the open row: row hit, only column spacing and the burst.
func TestRowHit(t *testing.T) {
	d := lpddr3(t)
	c := newController(t, d)
	a := addrOf(d, 1, 9, 0)
	first := c.Access(0, a, d.BurstBytes(), false)
	// Queued behind the first: one column-to-column spacing later.
	second := c.Access(0, a+uint64(d.BurstBytes()), d.BurstBytes(), false)
	wantNs(t, "back-to-back hit", second, first+ns(d, max(d.TCCDCycles, bl2(d))))
	// Arriving when idle: CL + burst.
	third := c.Access(second, a+2*uint64(d.BurstBytes()), d.BurstBytes(), false)
	wantNs(t, "idle hit", third, second+ns(d, d.CLCycles+bl2(d)))
	s := c.Stats()
	if s.RowHits != 2 || s.RowMisses != 1 || s.Activates != 1 || s.RowHitRate() != 2.0/3 {
		t.Errorf("stats %+v", s)
	}
	// A multi-burst Access streams its bursts tCCD apart.
	c = newController(t, d)
	n := 16
	got := c.Access(0, a, n*d.BurstBytes(), false)
	wantNs(t, "16-burst access", got, ns(d, d.TRCDCycles+d.CLCycles+bl2(d)+(n-1)*max(d.TCCDCycles, bl2(d))))
	// An unaligned transfer covers every burst it touches.
	c = newController(t, d)
	c.Access(0, a+uint64(d.BurstBytes())-1, 2, false)
	if s := c.Stats(); s.ReadBursts != 2 || s.BytesRead != 2 {
		t.Errorf("unaligned 2-byte read: %+v", s)
	}
}

// 3. A read to another row of the same bank: row conflict.
func TestRowConflict(t *testing.T) {
	d := lpddr3(t)
	c := newController(t, d)
	c.Access(0, addrOf(d, 4, 1, 0), d.BurstBytes(), false)
	// PRE waits for tRAS since the ACT (and tRTP since the read).
	pre := max(d.TRASCycles, d.TRCDCycles+d.TRTPCycles)
	got := c.Access(0, addrOf(d, 4, 2, 0), d.BurstBytes(), false)
	wantNs(t, "conflict", got, ns(d, pre+d.TRPCycles+d.TRCDCycles+d.CLCycles+bl2(d)))
	// Long after: PRE at arrival.
	at := ns(d, 1000)
	got = c.Access(at, addrOf(d, 4, 3, 0), d.BurstBytes(), false)
	wantNs(t, "late conflict", got, at+ns(d, d.TRPCycles+d.TRCDCycles+d.CLCycles+bl2(d)))
	s := c.Stats()
	if s.RowConflicts != 2 || s.RowMisses != 1 || s.Activates != 3 || s.Precharges != 2 {
		t.Errorf("stats %+v", s)
	}
}

// 4. ACTs to different banks are tRRD apart, the fifth waits for tFAW.
func TestActivateSpacing(t *testing.T) {
	d := lpddr3(t)
	if d.TFAWCycles <= 4*d.TRRDCycles {
		t.Fatalf("preset has tFAW %d <= 4*tRRD %d: the test needs tFAW to bind", d.TFAWCycles, 4*d.TRRDCycles)
	}
	c := newController(t, d)
	prevDone := 0.0
	for k := 0; k < 5; k++ {
		act := k * d.TRRDCycles
		if k == 4 {
			act = d.TFAWCycles // the first ACT was at 0
		}
		want := max(ns(d, act+d.TRCDCycles+d.CLCycles+bl2(d)), prevDone+ns(d, max(d.TCCDCycles, bl2(d))))
		got := c.Access(0, addrOf(d, k, 0, 0), d.BurstBytes(), false)
		wantNs(t, "read to bank "+string(rune('0'+k)), got, want)
		prevDone = got
	}
	if s := c.Stats(); s.Activates != 5 || s.RowMisses != 5 {
		t.Errorf("stats %+v", s)
	}
}

// 5. Write then read (tWTR), read then write (data bus order).
func TestTurnarounds(t *testing.T) {
	d := lpddr3(t)
	c := newController(t, d)
	a := addrOf(d, 0, 0, 0)
	wEnd := d.TRCDCycles + d.CWLCycles + bl2(d)
	wantNs(t, "write", c.Access(0, a, d.BurstBytes(), true), ns(d, wEnd))
	got := c.Access(0, a+uint64(d.BurstBytes()), d.BurstBytes(), false)
	wantNs(t, "read after write", got, ns(d, wEnd+d.TWTRCycles+d.CLCycles+bl2(d)))
	// The write-to-read turnaround is channel-wide: another bank waits too.
	c = newController(t, d)
	c.Access(0, a, d.BurstBytes(), true)
	got = c.Access(0, addrOf(d, 1, 0, 0), d.BurstBytes(), false)
	wantNs(t, "read of another bank after write", got,
		ns(d, max(wEnd+d.TWTRCycles, d.TRRDCycles+d.TRCDCycles)+d.CLCycles+bl2(d)))
	// Read then write: the write data follows the read data.
	c = newController(t, d)
	r := c.Access(0, a, d.BurstBytes(), false)
	got = c.Access(0, a+uint64(d.BurstBytes()), d.BurstBytes(), true)
	wantNs(t, "write after read", got, r+ns(d, bl2(d)))
	if s := c.Stats(); s.BytesWritten != int64(d.BurstBytes()) || s.WriteBursts != 1 {
		t.Errorf("stats %+v", s)
	}
	// Write recovery: a conflict after a write precharges tWR after the
	// write data.
	c = newController(t, d)
	c.Access(0, a, d.BurstBytes(), true)
	got = c.Access(0, addrOf(d, 0, 1, 0), d.BurstBytes(), false)
	pre := max(d.TRASCycles, wEnd+d.TWRCycles)
	wantNs(t, "conflict after write", got, ns(d, pre+d.TRPCycles+d.TRCDCycles+d.CLCycles+bl2(d)))
}

// 6. Refresh: due every tREFI from time 0, open banks precharged first,
// the channel busy for tRFC.
func TestRefresh(t *testing.T) {
	d := lpddr3(t)
	lat := d.TRCDCycles + d.CLCycles + bl2(d)
	arrive := ns(d, d.TREFICycles+1)

	// Idle and precharged: REF at the due time.
	c := newController(t, d)
	got := c.Access(arrive, addrOf(d, 0, 0, 0), d.BurstBytes(), false)
	wantNs(t, "after refresh, banks closed", got, ns(d, d.TREFICycles+d.TRFCCycles+lat))

	// A bank open: PRE at the due time, REF tRP later.
	c = newController(t, d)
	c.Access(0, addrOf(d, 0, 0, 0), d.BurstBytes(), false)
	got = c.Access(arrive, addrOf(d, 0, 0, 1), d.BurstBytes(), false)
	wantNs(t, "after refresh, bank open", got, ns(d, d.TREFICycles+d.TRPCycles+d.TRFCCycles+lat))
	s := c.Stats()
	if s.Refreshes != 1 || s.Precharges != 1 || s.RowMisses != 2 || s.RowHits != 0 {
		t.Errorf("stats %+v", s)
	}

	// An access arriving during the refresh waits for its end.
	c = newController(t, d)
	during := ns(d, d.TREFICycles+d.TRFCCycles/2)
	got = c.Access(during, addrOf(d, 3, 0, 0), d.BurstBytes(), false)
	wantNs(t, "during refresh", got, ns(d, d.TREFICycles+d.TRFCCycles+lat))

	// Refresh count after T ns is floor(T/tREFI), idle or busy.
	trefi := ns(d, d.TREFICycles)
	c = newController(t, d)
	for _, T := range []float64{0.5 * trefi, trefi, 10.5 * trefi, 1000.25 * trefi, 123456.7 * trefi} {
		c.AdvanceTo(T)
		if got, want := c.Stats().Refreshes, int64(math.Floor(T/trefi+1e-9)); got != want {
			t.Errorf("refreshes after %.1f ns = %d, want %d", T, got, want)
		}
	}
	c = newController(t, d)
	now := 0.0
	for i := 0; i < 20000; i++ {
		now = c.Access(now, uint64(i)*uint64(d.BurstBytes()), d.BurstBytes(), false)
	}
	c.AdvanceTo(now)
	if got, want := c.Stats().Refreshes, int64(now/trefi); got != want {
		t.Errorf("busy: refreshes after %.1f ns = %d, want %d", now, got, want)
	}
}

type streamResult struct {
	bytesPerS float64
	hitRate   float64
	pJPerBit  float64 // total DRAM energy per bit moved
}

// stream issues bursts of reads (or writes), all arriving at 0, and returns
// the sustained bandwidth and the row-hit rate.
func stream(t testing.TB, d *hw.DRAM, addrs func(i int) uint64, n, size int, write bool) streamResult {
	c := newController(t, d)
	done := 0.0
	for i := 0; i < n; i++ {
		done = max(done, c.Access(0, addrs(i), size, write))
	}
	s := c.Stats()
	e := c.Energy(done)
	return streamResult{float64(n*size) / done * 1e9, s.RowHitRate(), e.Total() / float64(8*n*size)}
}

// 7. Sustained bandwidth of sequential and random streams.
func TestBandwidth(t *testing.T) {
	d := lpddr3(t)
	peak := d.PeakBandwidthBytesPerS()
	const mib = 1 << 20
	const chunk = 4096
	n := 16 * mib / chunk
	seq := stream(t, d, func(i int) uint64 { return uint64(i) * chunk }, n, chunk, false)
	t.Logf("sequential read, 16 MiB in 4 KiB requests: %.3f GB/s = %.1f%% of peak %.1f GB/s, row-hit rate %.4f, %.2f pJ/bit",
		seq.bytesPerS/1e9, 100*seq.bytesPerS/peak, peak/1e9, seq.hitRate, seq.pJPerBit)
	if seq.bytesPerS < 0.8*peak || seq.bytesPerS >= peak {
		t.Errorf("sequential read bandwidth %.3g B/s not in [80%%, 100%%) of peak %.3g", seq.bytesPerS, peak)
	}
	// The refresh is the only loss: the data bus idles from the last burst
	// before a refresh (PRE tRTP after its READ, REF tRP later, ACT tRFC
	// later, READ tRCD later) to the first burst after it.
	lost := d.TRTPCycles + d.TRPCycles + d.TRFCCycles + d.TRCDCycles - bl2(d)
	if want := 1 - float64(lost)/float64(d.TREFICycles); math.Abs(seq.bytesPerS/peak-want) > 0.005 {
		t.Errorf("sequential read at %.4f of peak, want about 1 - %d/%d = %.4f", seq.bytesPerS/peak, lost, d.TREFICycles, want)
	}
	if seq.hitRate <= 0.95 {
		t.Errorf("sequential row-hit rate %.4f <= 0.95", seq.hitRate)
	}
	bb := d.BurstBytes()
	seq64 := stream(t, d, func(i int) uint64 { return uint64(i * bb) }, 16*mib/bb, bb, false)
	t.Logf("sequential read, 16 MiB in 64 B requests: %.3f GB/s (%.1f%%), row-hit rate %.4f",
		seq64.bytesPerS/1e9, 100*seq64.bytesPerS/peak, seq64.hitRate)
	if !near(seq64.bytesPerS, seq.bytesPerS) {
		t.Errorf("request size changes the sequential bandwidth: %.6g vs %.6g", seq64.bytesPerS, seq.bytesPerS)
	}
	wr := stream(t, d, func(i int) uint64 { return uint64(i) * chunk }, n, chunk, true)
	t.Logf("sequential write: %.3f GB/s (%.1f%%), row-hit rate %.4f, %.2f pJ/bit", wr.bytesPerS/1e9, 100*wr.bytesPerS/peak, wr.hitRate, wr.pJPerBit)
	if wr.bytesPerS < 0.8*peak || wr.bytesPerS >= peak {
		t.Errorf("sequential write bandwidth %.3g B/s not in [80%%, 100%%) of peak", wr.bytesPerS)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	capBursts := uint64(d.CapacityBytes()) / uint64(bb)
	addrs := make([]uint64, 1<<18)
	for i := range addrs {
		addrs[i] = rng.Uint64N(capBursts) * uint64(bb)
	}
	rnd := stream(t, d, func(i int) uint64 { return addrs[i] }, len(addrs), bb, false)
	t.Logf("random 64 B reads: %.3f GB/s (%.1f%%), row-hit rate %.4f, %.2f pJ/bit", rnd.bytesPerS/1e9, 100*rnd.bytesPerS/peak, rnd.hitRate, rnd.pJPerBit)
	if rnd.hitRate > 0.05 || rnd.bytesPerS > 0.5*seq.bytesPerS {
		t.Errorf("random stream: hit rate %.3f, bandwidth %.3g: not far below sequential", rnd.hitRate, rnd.bytesPerS)
	}

	// One request outstanding at a time (each arrives when the last is done).
	c := newController(t, d)
	now := 0.0
	for i := 0; i < n; i++ {
		now = c.Access(now, uint64(i)*chunk, chunk, false)
	}
	t.Logf("sequential read, one 4 KiB request outstanding: %.3f GB/s (%.1f%%)",
		float64(n*chunk)/now, 100*float64(n*chunk)/now*1e9/peak)

	// Two channels double the bandwidth of a sequential stream.
	d2 := lpddr3(t)
	d2.Channels = 2
	two := stream(t, d2, func(i int) uint64 { return uint64(i) * chunk }, n, chunk, false)
	t.Logf("two channels: %.3f GB/s (%.1f%% of %.1f GB/s)", two.bytesPerS/1e9, 100*two.bytesPerS/d2.PeakBandwidthBytesPerS(), d2.PeakBandwidthBytesPerS()/1e9)
	if math.Abs(two.bytesPerS/seq.bytesPerS-2) > 0.02 {
		t.Errorf("two channels: %.4g B/s, want about twice %.4g", two.bytesPerS, seq.bytesPerS)
	}
}

func nearRel(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func checkEnergy(t *testing.T, what string, got dram.Energy, want dram.Energy) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"Activate", got.Activate, want.Activate}, {"Read", got.Read, want.Read},
		{"Write", got.Write, want.Write}, {"Refresh", got.Refresh, want.Refresh},
		{"Background", got.Background, want.Background}, {"Total", got.Total(), want.Total()},
	} {
		if !nearRel(f.got, f.want) {
			t.Errorf("%s: %s = %.6f pJ, want %.6f pJ", what, f.name, f.got, f.want)
		}
	}
}

// 8. Energy: per-command energies times counts plus the background integral.
func TestEnergyOpenPage(t *testing.T) {
	d := lpddr3(t)
	c := newController(t, d)
	c.Access(0, addrOf(d, 0, 0, 0), d.BurstBytes(), false)
	c.Access(0, addrOf(d, 0, 1, 0), d.BurstBytes(), false) // conflict
	// ACTIVATEs issue in request order: bank 1 opens tRRD after bank 0
	// reopens, so all banks are closed while bank 0 precharges (tRP).
	pre0 := max(d.TRASCycles, d.TRCDCycles+d.TRTPCycles)
	act1 := pre0 + d.TRPCycles + d.TRRDCycles
	got := c.Access(0, addrOf(d, 1, 0, 0), d.BurstBytes(), true)
	wantNs(t, "write to bank 1", got, ns(d, act1+d.TRCDCycles+d.CWLCycles+bl2(d)))
	trefi := ns(d, d.TREFICycles)
	T := 2.5 * trefi
	e := c.Energy(T)
	s := c.Stats()
	if s.Activates != 3 || s.Precharges != 3 || s.Refreshes != 2 || s.ReadBursts != 2 || s.WriteBursts != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Some bank is open from 0 until the first refresh precharges them at
	// tREFI, except during bank 0's precharge; each refresh counts as
	// active for tRFC - tRP (DRAMPower).
	active := trefi - ns(d, d.TRPCycles) + 2*ns(d, d.TRFCCycles-d.TRPCycles)
	pre := T - active
	gotA, gotP := c.StandbyNs(T)
	if !nearRel(gotA, active) || !nearRel(gotP, pre) {
		t.Errorf("StandbyNs = %.3f, %.3f, want %.3f, %.3f", gotA, gotP, active, pre)
	}
	want := dram.Energy{
		Activate:   3 * d.ActivateEnergyPJ(),
		Read:       2 * d.ReadBurstEnergyPJ(),
		Write:      1 * d.WriteBurstEnergyPJ(),
		Refresh:    2 * d.RefreshEnergyPJ(),
		Background: active*d.ActiveStandbyPowerMW() + pre*d.PrechargeStandbyPowerMW(),
	}
	checkEnergy(t, "open page", e, want)
	// Asking again changes nothing.
	checkEnergy(t, "open page again", c.Energy(T), want)
}

func TestEnergyClosedPage(t *testing.T) {
	d := lpddr3(t)
	d.PagePolicy = "closed"
	c := newController(t, d)
	lat := d.TRCDCycles + d.CLCycles + bl2(d)
	// Four bursts of one row: one miss, three hits, then auto-precharge.
	got := c.Access(0, addrOf(d, 0, 0, 0), 4*d.BurstBytes(), false)
	wantNs(t, "closed page, 4 bursts", got, ns(d, lat+3*max(d.TCCDCycles, bl2(d))))
	open1 := max(d.TRASCycles, d.TRCDCycles+3*d.TCCDCycles+d.TRTPCycles)
	// The same row again later: a miss (it was closed).
	at := ns(d, 800)
	got = c.Access(at, addrOf(d, 0, 0, 4), d.BurstBytes(), false)
	wantNs(t, "closed page, reopen", got, at+ns(d, lat))
	open2 := max(d.TRASCycles, d.TRCDCycles+d.TRTPCycles)
	// A write: precharge after write recovery.
	at2 := ns(d, 1600)
	got = c.Access(at2, addrOf(d, 5, 0, 0), d.BurstBytes(), true)
	wantNs(t, "closed page, write", got, at2+ns(d, d.TRCDCycles+d.CWLCycles+bl2(d)))
	open3 := max(d.TRASCycles, d.TRCDCycles+d.CWLCycles+bl2(d)+d.TWRCycles)

	T := 1.5 * ns(d, d.TREFICycles)
	e := c.Energy(T)
	s := c.Stats()
	if s.Activates != 3 || s.Precharges != 3 || s.RowHits != 3 || s.RowMisses != 3 || s.RowConflicts != 0 || s.Refreshes != 1 {
		t.Fatalf("stats %+v", s)
	}
	active := ns(d, open1+open2+open3+d.TRFCCycles-d.TRPCycles)
	pre := T - active
	want := dram.Energy{
		Activate:   3 * d.ActivateEnergyPJ(),
		Read:       5 * d.ReadBurstEnergyPJ(),
		Write:      1 * d.WriteBurstEnergyPJ(),
		Refresh:    1 * d.RefreshEnergyPJ(),
		Background: active*d.ActiveStandbyPowerMW() + pre*d.PrechargeStandbyPowerMW(),
	}
	checkEnergy(t, "closed page", e, want)
}

// randomWork issues a deterministic mix of reads and writes, sequential
// runs and random jumps, with arrivals spread over time, and returns every
// done time.
func randomWork(c *dram.Controller, d *hw.DRAM, seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]float64, 0, n)
	now := 0.0
	addr := uint64(0)
	for i := 0; i < n; i++ {
		now += float64(rng.IntN(200))
		if rng.IntN(8) == 0 {
			addr = rng.Uint64N(uint64(d.CapacityBytes()))
		}
		size := 1 + rng.IntN(2048)
		out = append(out, c.Access(now, addr, size, rng.IntN(3) == 0))
		addr += uint64(size)
	}
	return out
}

func TestEnergyInvariants(t *testing.T) {
	for _, policy := range []string{"open", "closed"} {
		d := lpddr3(t)
		d.PagePolicy = policy
		c := newController(t, d)
		done := randomWork(c, d, 3, 20000)
		end := done[len(done)-1]
		for _, x := range done {
			end = max(end, x)
		}
		e := c.Energy(end)
		for _, v := range []float64{e.Activate, e.Read, e.Write, e.Refresh, e.Background} {
			if !(v >= 0) {
				t.Errorf("%s: negative energy component in %+v", policy, e)
			}
		}
		if sum := e.Activate + e.Read + e.Write + e.Refresh + e.Background; !nearRel(sum, e.Total()) {
			t.Errorf("%s: components sum to %v, Total %v", policy, sum, e.Total())
		}
		a, p := c.StandbyNs(end)
		if a < 0 || p < 0 || !near(a+p, end) {
			t.Errorf("%s: standby %v + %v != %v", policy, a, p, end)
		}
		s := c.Stats()
		if s.Activates-s.Precharges < 0 || s.Activates-s.Precharges > int64(d.Banks) {
			t.Errorf("%s: %d activates vs %d precharges", policy, s.Activates, s.Precharges)
		}
		if s.RowHits+s.RowMisses+s.RowConflicts != s.Bursts() {
			t.Errorf("%s: hits+misses+conflicts != bursts: %+v", policy, s)
		}
		if busy := s.DataBusBusyNs; busy > end || !near(busy, float64(s.Bursts())*ns(d, bl2(d))) {
			t.Errorf("%s: data bus busy %v ns of %v", policy, busy, end)
		}
		t.Logf("%s page: %d bursts, hit rate %.3f, %.1f%% of time active, %.1f nJ (%.1f nJ background)",
			policy, s.Bursts(), s.RowHitRate(), 100*a/end, e.Total()/1e3, e.Background/1e3)
	}
}

// 9. Determinism and no allocation per Access.
func TestDeterminism(t *testing.T) {
	d := lpddr3(t)
	c1, c2 := newController(t, d), newController(t, d)
	a, b := randomWork(c1, d, 11, 5000), randomWork(c2, d, 11, 5000)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("access %d: %v vs %v", i, a[i], b[i])
		}
	}
	if c1.Stats() != c2.Stats() || c1.Energy(a[len(a)-1]) != c2.Energy(b[len(b)-1]) {
		t.Error("stats or energy differ between identical runs")
	}
	// Reset returns to the initial state.
	c1.Reset()
	if got := randomWork(c1, d, 11, 5000); got[len(got)-1] != a[len(a)-1] || c1.Stats() != c2.Stats() {
		t.Error("a Reset controller does not repeat the run")
	}
}

func TestNoAllocs(t *testing.T) {
	for _, policy := range []string{"open", "closed"} {
		d := lpddr3(t)
		d.PagePolicy = policy
		c := newController(t, d)
		rng := rand.New(rand.NewPCG(5, 6))
		now := 0.0
		addr := uint64(0)
		step := func() {
			now += 10
			if rng.IntN(4) == 0 {
				addr = rng.Uint64N(1 << 30)
			}
			now = max(now, c.Access(now, addr, 256, rng.IntN(2) == 0)-500)
			addr += 256
		}
		for i := 0; i < 1000; i++ {
			step()
		}
		if n := testing.AllocsPerRun(10000, step); n != 0 {
			t.Errorf("%s page: %v allocations per Access", policy, n)
		}
		if n := testing.AllocsPerRun(100, func() { c.Energy(now) }); n != 0 {
			t.Errorf("%s page: %v allocations per Energy", policy, n)
		}
	}
}

func BenchmarkSequentialRead(b *testing.B) {
	d := lpddr3(b)
	c := newController(b, d)
	bb := d.BurstBytes()
	var addr uint64
	now := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		done := c.Access(now, addr, bb, false)
		addr += uint64(bb)
		if i%1024 == 1023 {
			now = done // keep the queue from growing without bound
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bursts/s")
}

func BenchmarkRandomRead(b *testing.B) {
	d := lpddr3(b)
	c := newController(b, d)
	bb := uint64(d.BurstBytes())
	rng := rand.New(rand.NewPCG(9, 9))
	addrs := make([]uint64, 1<<16)
	for i := range addrs {
		addrs[i] = rng.Uint64N(uint64(d.CapacityBytes())/bb) * bb
	}
	now := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		done := c.Access(now, addrs[i&(len(addrs)-1)], int(bb), false)
		if i%1024 == 1023 {
			now = done
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bursts/s")
}
