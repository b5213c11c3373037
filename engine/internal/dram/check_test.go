package dram

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
)

// This file checks the schedules the controller produces against the
// timing rules independently of how the controller computes them: every
// command is traced and replayed through a checker, and the standby split
// is compared with the union of the traced open intervals.

type checkBank struct {
	row                         int64
	act, pre, rd, wrEnd, colMax int64
}

type checkChan struct {
	banks      []checkBank
	acts       []int64
	lastCol    int64
	busFree    int64
	wDataEnd   int64
	refs       int64
	refEnd     int64
	intervals  [][2]int64 // open periods [start, end); end -1 = still open
	openStart  []int64    // per bank: start of its open interval, or -1
	horizon    int64
	maxLate    int64 // latest refresh, cycles after due
	violations []string
}

type checker struct {
	d   *hw.DRAM
	c   *Controller
	chs []*checkChan
}

func newChecker(t *testing.T, d *hw.DRAM) *checker {
	c, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	k := &checker{d: d, c: c}
	for range d.Channels {
		cc := &checkChan{lastCol: never, busFree: 0, wDataEnd: never, refEnd: never}
		cc.banks = make([]checkBank, d.Banks)
		cc.openStart = make([]int64, d.Banks)
		for i := range cc.banks {
			cc.banks[i] = checkBank{row: -1, act: never, pre: never, rd: never, wrEnd: never}
			cc.openStart[i] = -1
		}
		k.chs = append(k.chs, cc)
	}
	c.trace = k.event
	return k
}

func (k *checker) event(kind byte, chIdx, b int, row, t int64) {
	d := k.d
	cc := k.chs[chIdx]
	bad := func(format string, args ...any) {
		if len(cc.violations) < 20 {
			cc.violations = append(cc.violations, fmt.Sprintf("ch %d bank %d %c@%d: ", chIdx, b, kind, t)+fmt.Sprintf(format, args...))
		}
	}
	need := func(name string, t, min int64) {
		if t < min {
			bad("%s: at %d, needs >= %d", name, t, min)
		}
	}
	cl, cwl, bl2 := int64(d.CLCycles), int64(d.CWLCycles), int64(d.BurstLength/2)
	cc.horizon = max(cc.horizon, t)
	switch kind {
	case 'A':
		bk := &cc.banks[b]
		if bk.row >= 0 {
			bad("bank already open")
		}
		need("tRP", t, bk.pre+int64(d.TRPCycles))
		need("tRC", t, bk.act+int64(d.TRASCycles+d.TRPCycles))
		if n := len(cc.acts); n > 0 {
			need("tRRD", t, cc.acts[n-1]+int64(d.TRRDCycles))
		}
		if n := len(cc.acts); n >= 4 {
			need("tFAW", t, cc.acts[n-4]+int64(d.TFAWCycles))
		}
		need("tRFC", t, cc.refEnd)
		cc.acts = append(cc.acts, t)
		bk.row, bk.act = row, t
		cc.openStart[b] = t
	case 'P':
		bk := &cc.banks[b]
		if bk.row < 0 {
			bad("bank not open")
		}
		need("tRAS", t, bk.act+int64(d.TRASCycles))
		need("tRTP", t, bk.rd+int64(d.TRTPCycles))
		need("tWR", t, bk.wrEnd+int64(d.TWRCycles))
		bk.row, bk.pre = -1, t
		cc.intervals = append(cc.intervals, [2]int64{cc.openStart[b], t})
		cc.openStart[b] = -1
	case 'R', 'W':
		bk := &cc.banks[b]
		if bk.row != row {
			bad("row %d not open (open: %d)", row, bk.row)
		}
		need("tRCD", t, bk.act+int64(d.TRCDCycles))
		need("tCCD", t, cc.lastCol+int64(d.TCCDCycles))
		lat := cl
		if kind == 'W' {
			lat = cwl
		} else {
			need("tWTR", t, cc.wDataEnd+int64(d.TWTRCycles))
		}
		need("data bus", t+lat, cc.busFree)
		cc.lastCol = t
		cc.busFree = t + lat + bl2
		if kind == 'W' {
			cc.wDataEnd = cc.busFree
			bk.wrEnd = cc.busFree
		} else {
			bk.rd = t
		}
		cc.horizon = max(cc.horizon, cc.busFree)
	case 'F':
		cc.refs++
		due := cc.refs * int64(d.TREFICycles)
		need("due", t, due)
		// JEDEC lets a controller postpone at most 8 refreshes.
		if t > due+8*int64(d.TREFICycles) {
			bad("refresh due at %d postponed beyond 8 tREFI", due)
		}
		cc.maxLate = max(cc.maxLate, t-due)
		need("tRFC", t, cc.refEnd)
		for i := range cc.banks {
			if cc.banks[i].row >= 0 {
				bad("bank %d open at refresh", i)
			}
			need("tRP before REF", t, cc.banks[i].pre+int64(d.TRPCycles))
		}
		cc.refEnd = t + int64(d.TRFCCycles)
		cc.intervals = append(cc.intervals, [2]int64{t, t + int64(d.TRFCCycles-d.TRPCycles)})
		cc.horizon = max(cc.horizon, cc.refEnd)
	}
}

// union is the measure of the open intervals of cc within [0, end).
func (cc *checkChan) union(end int64) int64 {
	iv := slices.Clone(cc.intervals)
	for _, s := range cc.openStart {
		if s >= 0 {
			iv = append(iv, [2]int64{s, end})
		}
	}
	slices.SortFunc(iv, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	var total, cur int64 = 0, 0
	for _, x := range iv {
		s, e := max(x[0], cur), min(x[1], end)
		if e > s {
			total += e - s
		}
		cur = max(cur, x[1])
	}
	return total
}

// finish checks the standby split at endNs and reports every violation.
func (k *checker) finish(t *testing.T, name string, endNs float64) {
	t.Helper()
	act, pre := k.c.StandbyNs(endNs) // performs the refreshes due by endNs
	end := k.c.cycles(endNs, true)
	for _, cc := range k.chs {
		end = max(end, cc.horizon)
	}
	var want int64
	for i, cc := range k.chs {
		for _, v := range cc.violations {
			t.Errorf("%s: %s", name, v)
		}
		want += cc.union(end)
		if got := k.c.ch[i]; got.open != countOpen(cc) {
			t.Errorf("%s: channel %d: %d open banks, checker %d", name, i, got.open, countOpen(cc))
		}
	}
	total := k.c.ns(end) * float64(len(k.chs))
	if math.Abs(act-k.c.ns(want)) > 1e-6*total || math.Abs(act+pre-total) > 1e-6*total {
		t.Errorf("%s: StandbyNs = %.3f active + %.3f precharged; union of open intervals %.3f of %.3f",
			name, act, pre, k.c.ns(want), total)
	}
	s := k.c.Stats()
	var refs int64
	for _, cc := range k.chs {
		refs += cc.refs
	}
	if s.Refreshes != refs {
		t.Errorf("%s: %d refreshes counted, %d traced", name, s.Refreshes, refs)
	}
	late := int64(0)
	for _, cc := range k.chs {
		late = max(late, cc.maxLate)
	}
	t.Logf("%s: %d bursts, %d ACT, %d REF (at most %d cycles late), hit rate %.3f, active %.1f%%", name,
		s.Bursts(), s.Activates, s.Refreshes, late, s.RowHitRate(), 100*act/(act+pre))
}

func countOpen(cc *checkChan) int {
	n := 0
	for _, s := range cc.openStart {
		if s >= 0 {
			n++
		}
	}
	return n
}

func presetDRAM(t *testing.T) *hw.DRAM {
	c, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	d := c.DRAM
	return &d
}

// TestScheduleObeysTimings replays many workloads through the checker.
func TestScheduleObeysTimings(t *testing.T) {
	type workload struct {
		name string
		run  func(c *Controller, rng *rand.Rand) float64
	}
	loads := []workload{
		{"sequential backlog", func(c *Controller, rng *rand.Rand) float64 {
			done := 0.0
			for i := range 4096 {
				done = max(done, c.Access(0, uint64(i)*4096, 4096, false))
			}
			return done
		}},
		{"random backlog", func(c *Controller, rng *rand.Rand) float64 {
			done := 0.0
			for range 50000 {
				done = max(done, c.Access(0, rng.Uint64N(1<<31), 64, rng.IntN(4) == 0))
			}
			return done
		}},
		{"mixed over time", func(c *Controller, rng *rand.Rand) float64 {
			now, done, addr := 0.0, 0.0, uint64(0)
			minLat := c.ns(min(c.cl, c.cwl) + c.bl2)
			for range 30000 {
				now += float64(rng.IntN(300))
				if rng.IntN(6) == 0 {
					addr = rng.Uint64N(1 << 31)
				}
				n := 1 + rng.IntN(3000)
				x := c.Access(now, addr, n, rng.IntN(3) == 0)
				if x < now+minLat-1e-9 {
					panic(fmt.Sprintf("done %v before arrival %v + minimum latency", x, now))
				}
				done = max(done, x)
				addr += uint64(n)
			}
			return done
		}},
		{"sparse with idle gaps", func(c *Controller, rng *rand.Rand) float64 {
			now, done := 0.0, 0.0
			for range 3000 {
				now += float64(rng.IntN(20000))
				if rng.IntN(50) == 0 {
					now += 1e6
				}
				done = max(done, c.Access(now, rng.Uint64N(1<<31), 1+rng.IntN(512), rng.IntN(2) == 0))
			}
			return done
		}},
	}
	for _, policy := range []string{"open", "closed"} {
		for _, chans := range []int{1, 2, 3} {
			for _, w := range loads {
				d := presetDRAM(t)
				d.PagePolicy = policy
				d.Channels = chans
				k := newChecker(t, d)
				done := w.run(k.c, rand.New(rand.NewPCG(42, uint64(chans))))
				k.finish(t, fmt.Sprintf("%s page, %d ch, %s", policy, chans, w.name), done+12345.0)
			}
		}
	}
}
