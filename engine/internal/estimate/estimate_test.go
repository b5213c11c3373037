package estimate

import (
	"math"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.6f, want %.6f", what, got, want)
	}
}

// twoLayers is input [16,8,8] -> conv 3x3 16->32 (144x32 matrix: one
// 256x256 crossbar at 4 columns per weight) -> ReLU -> conv 1x1 32->64
// (32x64: one crossbar). Two units, 64 output positions each.
func twoLayers(t *testing.T) *model.Graph {
	b := model.NewBuilder("two")
	x := b.Input("x", 16, 8, 8)
	x = b.Conv("c1", x, model.Conv2D(32, 3, 1, 1))
	x = b.Unary(model.OpReLU, "r1", x)
	b.Conv("c2", x, model.Conv2D(64, 1, 1, 0))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func setup(t *testing.T, g *model.Graph, chipName string, batch int) (*Estimator, *hw.Chip) {
	t.Helper()
	chip, err := hw.Preset(chipName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, batch)
	if err != nil {
		t.Fatal(err)
	}
	return e, chip
}

// dramEnergyByHand restates the DRAM energy model from the chip's DRAM
// parameters: bursts, one activate per row of data, background and refresh.
func dramEnergyByHand(d *hw.DRAM, read, write, timeNs float64) float64 {
	burst, row := float64(d.BurstBytes()), float64(d.RowBytes())
	e := math.Ceil(read/burst)*d.ReadBurstEnergyPJ() + math.Ceil(write/burst)*d.WriteBurstEnergyPJ()
	e += math.Ceil((read+write)/row) * d.ActivateEnergyPJ()
	busy := math.Min(timeNs, (read+write)/(d.PeakBandwidthBytesPerS()/1e9))
	e += d.ActiveStandbyPowerMW()*busy + d.PrechargeStandbyPowerMW()*(timeNs-busy)
	return e + d.RefreshEnergyPJ()*timeNs/(float64(d.TREFICycles)*d.TCKNs)
}

func TestTwoLayerSpanByHand(t *testing.T) {
	const B = 4
	e, chip := setup(t, twoLayers(t), "M", B)
	if e.NumUnits() != 2 || e.MaxEnd(0) != 2 {
		t.Fatalf("units %d, MaxEnd(0) %d", e.NumUnits(), e.MaxEnd(0))
	}
	s, err := e.Span(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	act := float64(chip.ActivationBits) / 8
	w := float64(chip.WeightBits) / 8
	const pos = 64 // 8x8 outputs per conv

	// Weight load: the unique weights over the slower of DRAM and bus.
	weightBytes := (144*32 + 32*64) * w
	rate := math.Min(chip.DRAM.PeakBandwidthBytesPerS(), chip.BusBandwidthBytesPerS) / 1e9
	if s.WeightBytes != int64(weightBytes) {
		t.Errorf("weight bytes %d, want %v", s.WeightBytes, weightBytes)
	}
	near(t, "WeightLoadNs", s.WeightLoadNs, chip.BusLatencyNs+weightBytes/rate)
	// Write: the most rows any crossbar is programmed with (conv1's 144).
	near(t, "WriteNs", s.WriteNs, chip.CrossbarWriteNs(144))

	// Replication: both one-crossbar layers replicate to one replica per
	// output position (64 + 64 crossbars fit the 256 of chip M), so each
	// stage is one MVM interval; vector and memory work are far smaller.
	for _, lp := range s.Layers {
		if lp.Replicas != pos {
			t.Errorf("layer %d: %d replicas, want %d", lp.Layer, lp.Replicas, pos)
		}
		near(t, "stage", lp.StageNs, chip.MVMIntervalNs())
	}
	if s.CrossbarsUsed != 2*pos {
		t.Errorf("crossbars used %d, want %d", s.CrossbarsUsed, 2*pos)
	}
	// Pipeline: conv2 waits for conv1, so the first input takes both
	// stages; each further input one stage.
	iv := chip.MVMIntervalNs()
	near(t, "FillNs", s.FillNs, 2*iv)
	near(t, "ComputeNs", s.ComputeNs, 2*iv+(B-1)*iv)

	// Activation I/O: the graph input comes from DRAM, the graph output
	// goes to it.
	load, store := 16*64*act, 64*64*act
	if s.LoadBytes != int64(load) || s.StoreBytes != int64(store) {
		t.Errorf("load %d store %d, want %v %v", s.LoadBytes, s.StoreBytes, load, store)
	}
	ioNs := chip.BusLatencyNs + B*(load+store)/rate
	near(t, "IONs", s.IONs, math.Max(s.ComputeNs, ioNs)+math.Min(s.ComputeNs, ioNs)/B-s.ComputeNs)
	near(t, "TimeNs", s.TimeNs, s.WeightLoadNs+s.WriteNs+s.ComputeNs+s.IONs)

	// Energy, per batch.
	mvms := float64(B * (pos*1 + pos*1))
	near(t, "MVM energy", s.Energy.MVM, mvms*chip.MVMArrayEnergyPJ())
	near(t, "ADC energy", s.Energy.ADC, mvms*chip.MVMADCEnergyPJ())
	reluOps := 32.0 * 64
	near(t, "VFU energy", s.Energy.VFU, B*reluOps*chip.VFUEnergyPerOpPJ)
	rowsWritten := float64(pos * (144 + 32)) // every replica is programmed
	near(t, "write energy", s.Energy.Write, rowsWritten*chip.CrossbarWriteEnergyPJ(1))
	near(t, "static energy", s.Energy.Static, chip.StaticPowerMW()*s.TimeNs)
	near(t, "DRAM energy", s.Energy.DRAM, dramEnergyByHand(&chip.DRAM, weightBytes+B*load, B*store, s.TimeNs))
	// Local memory: each MVM reads its input rows and writes its outputs;
	// ReLU reads and writes its tensor; ReLU's output is read out to be
	// sent to conv2, and the exit to be stored. Each replica computes one
	// position, so it receives one window of its input: 3x3 pixels of 16
	// channels for conv1, one pixel of 32 channels for conv2. Nothing
	// spills (a replica needs under 100 bytes).
	if s.SpillBytes != 0 {
		t.Errorf("%d bytes spilled, want none", s.SpillBytes)
	}
	received := pos*(3*3*16*act) + pos*(32*act)
	lmRead := B * (pos*(144*act+32*act) + 32*64*act + 32*64*act + store)
	lmWrite := B * (pos*(32*act+64*act) + 32*64*act + received)
	near(t, "local memory energy", s.Energy.LocalMemory,
		lmRead*chip.LocalMemoryReadEnergyPerBytePJ+lmWrite*chip.LocalMemoryWriteEnergyPerBytePJ)
	// Bus: each layer's input once per inference, the exit once, the
	// weights once per batch.
	busBytes := B*(16*64*act+32*64*act+store) + weightBytes
	near(t, "bus energy", s.Energy.Bus, busBytes*chip.BusEnergyPerBytePJ)
	near(t, "total energy", s.EnergyPJ, s.Energy.Total())
}

func TestCutBetweenLayersMovesTheActivationThroughDRAM(t *testing.T) {
	e, chip := setup(t, twoLayers(t), "M", 1)
	act := float64(chip.ActivationBits) / 8
	p1, p2 := e.MustSpan(0, 1), e.MustSpan(1, 2)
	relu := 32 * 64 * act
	if p1.StoreBytes != int64(relu) || p2.LoadBytes != int64(relu) {
		t.Errorf("cut: first stores %d, second loads %d, want %v", p1.StoreBytes, p2.LoadBytes, relu)
	}
	g := e.Mapping().Graph
	if len(p1.Exits) != 1 || g.Nodes[p1.Exits[0]].Name != "r1" {
		t.Errorf("exits of the first partition: %v", p1.Exits)
	}
	if len(p2.Entries) != 1 || g.Nodes[p2.Entries[0]].Name != "r1" {
		t.Errorf("entries of the second partition: %v", p2.Entries)
	}
	// Each half alone has one stage: no pipeline dependence inside.
	near(t, "fill of the first", p1.FillNs, p1.Layers[0].StageNs)
}

func TestSkipConnectionAcrossACutGivesTwoEntries(t *testing.T) {
	b := model.NewBuilder("res")
	x := b.Input("x", 16, 8, 8)
	y := b.Conv("ca", x, model.Conv2D(16, 3, 1, 1))
	y = b.Unary(model.OpReLU, "ra", y)
	y = b.Conv("cb", y, model.Conv2D(16, 3, 1, 1))
	y = b.Binary(model.OpAdd, "add", y, x)
	b.Unary(model.OpReLU, "out", y)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	e, chip := setup(t, g, "M", 1)
	act := float64(chip.ActivationBits) / 8
	second := e.MustSpan(1, 2) // cb with the add and the final ReLU
	var names []string
	for _, n := range second.Entries {
		names = append(names, g.Nodes[n].Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ra", "x"}) {
		t.Errorf("entries %v, want the conv input ra and the skip x", names)
	}
	if want := 2 * 16 * 64 * act; second.LoadBytes != int64(want) {
		t.Errorf("load %d, want %v", second.LoadBytes, want)
	}
	// The first partition computes only ca: it stores ra for cb and does
	// not store x (the graph input, which the second loads from DRAM).
	first := e.MustSpan(0, 1)
	if len(first.Exits) != 1 || g.Nodes[first.Exits[0]].Name != "ra" {
		t.Errorf("exits of the first partition %v", first.Exits)
	}
}

func TestReplicationIsBoundedByTheChip(t *testing.T) {
	chip, _ := hw.Preset("M")
	chip.Cores, chip.CrossbarsPerCore = 1, 3
	m, err := mapping.Map(twoLayers(t), chip)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := e.MustSpan(0, 2)
	// Three crossbars for two one-crossbar layers: one layer gets a second
	// replica, and it must be the one that halves the bottleneck. Both have
	// 64 positions, so either choice gives the same bottleneck; but never
	// more than three crossbars.
	if s.CrossbarsUsed > 3 {
		t.Fatalf("%d crossbars used on a 3-crossbar chip", s.CrossbarsUsed)
	}
	near(t, "bottleneck", s.BottleneckNs, 64*chip.MVMIntervalNs())
}

func TestBatchAmortisesReplacement(t *testing.T) {
	g := twoLayers(t)
	e1, _ := setup(t, g, "M", 1)
	e8, _ := setup(t, g, "M", 8)
	s1, s8 := e1.MustSpan(0, 2), e8.MustSpan(0, 2)
	if s1.WeightLoadNs != s8.WeightLoadNs || s1.WriteNs != s8.WriteNs || s1.Energy.Write != s8.Energy.Write {
		t.Error("weight replacement must be paid once per batch, whatever its size")
	}
	near(t, "compute at batch 8", s8.ComputeNs, s1.FillNs+7*s1.BottleneckNs)
	if s8.Energy.MVM != 8*s1.Energy.MVM {
		t.Errorf("MVM energy must scale with the batch: %v vs %v", s8.Energy.MVM, s1.Energy.MVM)
	}
}

func TestSpanErrorsAndMemo(t *testing.T) {
	e, _ := setup(t, twoLayers(t), "M", 1)
	for _, c := range [][2]int{{0, 0}, {1, 1}, {-1, 1}, {0, 3}, {2, 3}} {
		if _, err := e.Span(c[0], c[1]); err == nil {
			t.Errorf("span %v accepted", c)
		}
	}
	a, _ := e.Span(0, 2)
	b, _ := e.Span(0, 2)
	if a != b {
		t.Error("a span is evaluated twice: not memoised")
	}
	if _, err := New(e.Mapping(), 0); err == nil {
		t.Error("batch 0 accepted")
	}
}

// Every span of the paper's networks: the phases add up, nothing is
// negative, and the energy components add up to the total.
func TestSpanInvariantsOnZoo(t *testing.T) {
	for _, name := range []string{"resnet18", "squeezenet1_1", "mobilenet_v2"} {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"S", "L", "ReRAM"} {
			e, chip := setup(t, g, p, 4)
			for a := 0; a < e.NumUnits(); a++ {
				for b := a + 1; b <= e.MaxEnd(a); b++ {
					s := e.MustSpan(a, b)
					if s.WeightLoadNs <= 0 || s.WriteNs <= 0 || s.ComputeNs <= 0 || s.IONs < 0 {
						t.Fatalf("%s/%s [%d,%d): phases %+v", name, p, a, b, s)
					}
					if s.CrossbarsUsed > chip.CrossbarsTotal() {
						t.Fatalf("%s/%s [%d,%d): %d crossbars used", name, p, a, b, s.CrossbarsUsed)
					}
					if math.Abs(s.Energy.Total()-s.EnergyPJ) > 1e-9*s.EnergyPJ {
						t.Fatalf("energy components do not sum to the total")
					}
				}
			}
		}
	}
}

func BenchmarkAllSpansResNet18M(b *testing.B) { benchmarkAllSpans(b, mapping.PolicyUnit) }

// Under crossbar placement the estimator also finds the replicas the fill
// splits (splitReplicas) for every span it costs.
func BenchmarkAllSpansResNet18MCrossbar(b *testing.B) { benchmarkAllSpans(b, mapping.PolicyCrossbar) }

func benchmarkAllSpans(b *testing.B, policy mapping.Policy) {
	g, _ := zoo.Build("resnet18")
	chip, _ := hw.Preset("M")
	m, _ := mapping.Map(g, chip)
	b.ReportAllocs()
	spans := 0
	for b.Loop() {
		e, _ := NewPlaced(m, 16, policy)
		spans = 0
		for a := 0; a < e.NumUnits(); a++ {
			for c := a + 1; c <= e.MaxEnd(a); c++ {
				e.MustSpan(a, c)
				spans++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
}

// Costs gives every valid span's energy and time exactly as Span does,
// whether or not Span was asked first, and in any order of starts.
func TestCostsAgreeWithSpans(t *testing.T) {
	g, err := zoo.Build("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	chip, _ := hw.Preset("S")
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := New(m, 4)
	full, _ := New(m, 4)
	full.MustSpan(3, 5) // one full span first: Costs must reuse it unchanged
	for a := range len(m.Units) {
		start := len(m.Units) - 1 - a // last start first
		row := compact.Costs(start)
		if len(row) != compact.MaxEnd(start)-start {
			t.Fatalf("start %d: %d costs for %d valid spans", start, len(row), compact.MaxEnd(start)-start)
		}
		for k, c := range row {
			s := full.MustSpan(start, start+k+1)
			if c.EnergyPJ != s.EnergyPJ || c.TimeNs != s.TimeNs {
				t.Fatalf("span [%d, %d): costs %+v, span %v pJ %v ns", start, start+k+1, c, s.EnergyPJ, s.TimeNs)
			}
		}
	}
	if r := full.Costs(3); r[1].TimeNs != full.MustSpan(3, 5).TimeNs {
		t.Error("Costs after Span disagrees")
	}
}

// Every span's replication places on the chip's cores (the placement the
// API draws agrees with the estimator), also on chips whose slow MVMs
// make the bisection's bottlenecks large enough for rounding to matter:
// a fuzzed chip (4 cores of 49 crossbars, a 1 kHz clock, 0.8 ms ADC
// conversions) once got a layer one replica more than the cores hold.
func TestReplicationAlwaysPlaces(t *testing.T) {
	g, err := zoo.Build("squeezenet1_1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cores, perCore int
		adcNs, clockHz float64
	}{{4, 49, 796945.0650357155, 1e3}, {3, 7, 1e6, 1e3}, {16, 16, 0.8333, 1e9}, {5, 33, 12345.678, 7e4}} {
		preset, _ := hw.Preset("M")
		chip := *preset
		chip.Cores, chip.CrossbarsPerCore, chip.CrossbarRows, chip.CrossbarCols = tc.cores, tc.perCore, 64, 64
		chip.ADCLatencyNs, chip.ClockHz = tc.adcNs, tc.clockHz
		m, err := mapping.Map(g, &chip)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 8} {
			e, _ := New(m, batch)
			for a := range len(m.Units) {
				for b := a + 1; b <= e.MaxEnd(a); b++ {
					s := e.MustSpan(a, b)
					var sizes []int
					for _, lp := range s.Layers {
						for u := s.Start; u < s.End; u++ {
							if m.Units[u].Layer == lp.Layer {
								for range lp.Replicas {
									sizes = append(sizes, m.Units[u].Crossbars)
								}
							}
						}
					}
					if _, _, ok := mapping.PlaceCores(sizes, chip.Cores, chip.CrossbarsPerCore); !ok {
						t.Fatalf("%+v batch %d: span [%d, %d) replicated %+v does not place", tc, batch, a, b, s.Layers)
					}
				}
			}
		}
	}
}
