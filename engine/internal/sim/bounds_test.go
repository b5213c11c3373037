package sim

import (
	"fmt"
	"math"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model/zoo"
)

// DRAMBursts counts each DRAM transfer as its bytes over the 64-byte
// burst, rounded up, plus one per 8 KiB request, as many times as it runs;
// other instructions move nothing from DRAM.
func TestDRAMBurstsCountsTransfersByHand(t *testing.T) {
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	p := &isa.LoopProgram{Partitions: []isa.LoopPartition{{Streams: []isa.LoopStream{{
		Head:     []isa.Instr{{Op: isa.LoadWeight, Bytes: 100}, {Op: isa.MVMul, Bytes: 1 << 20}},
		Body:     []isa.Instr{{Op: isa.LoadData, Bytes: 8193}},
		AddrStep: []uint64{8193},
		Repeat:   3,
		Tail:     []isa.Instr{{Op: isa.StoreData, Bytes: 64}},
	}}}}}
	// 100 B: 2 bursts + 1 request; 8193 B: 129 + 2, three times; 64 B: 1 + 1.
	const want = 3 + 3*131 + 2
	if got := DRAMBursts(p, chip); got != want {
		t.Errorf("DRAMBursts = %d, want %d", got, want)
	}
	p.Partitions[0].Streams[0].Body[0].Bytes = 1 << 62
	p.Partitions[0].Streams[0].Repeat = 1 << 20
	if got := DRAMBursts(p, chip); got != math.MaxInt64 {
		t.Errorf("DRAMBursts of 2^20 transfers of 2^62 bytes = %d, want it saturated at MaxInt64", got)
	}
}

// On real plans the count bounds the bursts the run issues, and is at
// most twice them (one request per 8 KiB adds at most one burst per burst).
func TestDRAMBurstsBoundsTheRun(t *testing.T) {
	g, err := zoo.Build("squeezenet1_1")
	if err != nil {
		t.Fatal(err)
	}
	chip, err := hw.Preset("S")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	e, err := estimate.New(m, 2)
	if err != nil {
		t.Fatal(err)
	}
	for method, plan := range map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e)} {
		what := fmt.Sprintf("squeezenet1_1 on S, %s", method)
		_, p, r := simulatePlan(t, what, e, plan, Options{})
		bound, ran := DRAMBursts(p, chip), r.DRAM.ReadBursts+r.DRAM.WriteBursts
		if ran <= 0 || bound < ran || bound > 2*ran {
			t.Errorf("%s: DRAMBursts %d for a run of %d bursts: want from the run's count to twice it", what, bound, ran)
		}
	}
}
