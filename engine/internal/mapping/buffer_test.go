package mapping

import (
	"testing"

	"github.com/compass-go/compass/engine/model"
)

// The buffer need of a convolution's replica, worked by hand from the
// policy in the Buffer comment: 3x3 convolution, 16 -> 32 channels on a
// 32x32 input, 4-bit activations (half a byte each).
func TestReplicaBufferConv(t *testing.T) {
	b := model.NewBuilder("conv")
	x := b.Input("x", 16, 32, 32)
	b.Conv("c", x, model.Conv2D(32, 3, 1, 1))
	chip := preset(t, "M")
	K := int64(chip.CrossbarsPerCore)
	cases := []struct {
		localMem        int64
		positions       int64
		line, out, need int64
		input           int64
		stream, spill   int64
		reload          int64
	}{
		// Every position: 4 input rows (3 of the kernel + 1 of the stride)
		// x 32 columns x 16 channels x 0.5 B = 1024; two output rows x 32
		// channels x 0.5 B = 1024; the whole input (32 rows) and output
		// (1024 positions x 32 channels) stream through: 8192 + 16384.
		{K * 4096, 1024, 1024, 1024, 2048, 8192, 24576, 0, 0},
		// A share of 1024 B for a need of 2048: half of the stream spills,
		// and half of what is read comes back: each of the 32 output rows
		// reads 3 input rows (32 x 3 x 32 x 16 x 0.5 = 24576), plus the
		// outputs once.
		{K * 1024, 1024, 1024, 1024, 2048, 8192, 24576, 12288, (24576 + 16384) / 2},
		// 100 positions touch at most 5 output rows, so 7 input rows
		// stream: 7 x 32 x 16 x 0.5 = 1792, plus 100 x 32 x 0.5 = 1600;
		// the 5 rows read 15 input rows: 3840.
		{K * 1024, 100, 1024, 1024, 2048, 1792, 3392, 1696, (3840 + 1600) / 2},
		// 20 positions: at most 2 output rows, 4 input rows, and the
		// output buffer holds only the 20 positions: 20 x 32 x 0.5 = 320.
		{K * 512, 20, 1024, 320, 1344, 4 * 32 * 16 / 2, 4*32*16/2 + 20*32/2, (4*32*16/2 + 20*32/2) * (1344 - 512) / 1344,
			(2*3*32*16/2 + 20*32/2) * (1344 - 512) / 1344},
		// One position: one 3x3 window, 3 rows x 3 columns x 16 channels x
		// 0.5 B = 72, and one output of 32 channels: 16.
		{K * 512, 1, 72, 16, 88, 72, 88, 0, 0},
	}
	for _, c := range cases {
		ch := *chip
		ch.LocalMemoryBytes = int(c.localMem)
		m, err := Map(build(t, b), &ch)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Units) != 1 || m.Units[0].Crossbars != 1 {
			t.Fatalf("want one single-crossbar unit, got %+v", m.Units)
		}
		got := m.ReplicaBuffer(0, c.positions)
		if got.LineBytes != c.line || got.OutputBytes != c.out || got.NeedBytes != c.need || got.PsumBytes != 0 {
			t.Errorf("%d positions: line %d out %d need %d psum %d, want %d %d %d 0", c.positions, got.LineBytes, got.OutputBytes, got.NeedBytes, got.PsumBytes, c.line, c.out, c.need)
		}
		if got.ShareBytes != c.localMem/K {
			t.Errorf("share %d, want %d", got.ShareBytes, c.localMem/K)
		}
		if got.StreamBytes != c.stream || got.InputBytes != c.input {
			t.Errorf("%d positions: stream %d input %d, want %d %d", c.positions, got.StreamBytes, got.InputBytes, c.stream, c.input)
		}
		// The spill rounds up; the hand figure above rounds down.
		if got.SpillBytes < c.spill || got.SpillBytes > c.spill+1 || got.ReloadBytes < c.reload || got.ReloadBytes > c.reload+1 {
			t.Errorf("%d positions, share %d: spill %d reload %d, want %d %d", c.positions, got.ShareBytes, got.SpillBytes, got.ReloadBytes, c.spill, c.reload)
		}
	}
}

// A linear layer split along its inputs: the home unit of each stripe keeps
// 32-bit partial sums of its outputs beside its input and output buffers.
func TestReplicaBufferLinearSplit(t *testing.T) {
	b := model.NewBuilder("fc")
	x := b.Input("x", 600)
	b.Linear("fc", x, 10, false)
	chip := *preset(t, "M")
	chip.CrossbarsPerCore = 2 // 600 rows need 3 row blocks: the stripe splits in two
	chip.LocalMemoryBytes = 64
	m, err := Map(build(t, b), &chip)
	if err != nil {
		t.Fatal(err)
	}
	if m.Layers[0].InputSplits != 2 {
		t.Fatalf("%d input splits, want 2", m.Layers[0].InputSplits)
	}
	for k, u := range m.Units {
		rows := int64(u.RowEnd - u.RowStart)
		got := m.ReplicaBuffer(k, 1)
		// One token: its rows x 0.5 B (rounded up), 10 outputs x 0.5 B.
		line, out := (rows+1)/2, int64(5)
		var psum int64
		if u.InputSplit == 0 {
			psum = 10 * PartialSumBytes
		}
		if got.LineBytes != line || got.OutputBytes != out || got.PsumBytes != psum || got.InputBytes != line {
			t.Errorf("unit %d (%d rows, split %d): line %d out %d psum %d, want %d %d %d", k, rows, u.InputSplit, got.LineBytes, got.OutputBytes, got.PsumBytes, line, out, psum)
		}
		share := int64(64 * u.Crossbars / 2)
		if need := line + out + psum; need > share {
			stream := float64(rows)/2 + 5 + float64(psum)
			want := stream * float64(need-share) / float64(need)
			if float64(got.SpillBytes) < want || float64(got.SpillBytes) > want+1 {
				t.Errorf("unit %d: spill %d, want %.1f", k, got.SpillBytes, want)
			}
			if got.ReloadBytes != got.SpillBytes {
				t.Errorf("unit %d: a linear layer reads back what it parks once: reload %d, spill %d", k, got.ReloadBytes, got.SpillBytes)
			}
		} else if got.SpillBytes != 0 {
			t.Errorf("unit %d: need %d fits share %d but spills %d", k, need, share, got.SpillBytes)
		}
	}
}

// ReplicatedBuffers sums the replicas as the scheduler deals the positions.
func TestReplicatedBuffersSumsReplicas(t *testing.T) {
	b := model.NewBuilder("conv")
	x := b.Input("x", 16, 32, 32)
	b.Conv("c", x, model.Conv2D(32, 3, 1, 1))
	chip := *preset(t, "M")
	chip.LocalMemoryBytes = chip.CrossbarsPerCore * 600
	m, err := Map(build(t, b), &chip)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{1, 2, 3, 7, 1024} { // one position a replica fits its 600 bytes
		var want Buffer
		for k := 0; k < r; k++ {
			_, n := ReplicaPositions(1024, r, k)
			b := m.ReplicaBuffer(0, n)
			want.InputBytes += b.InputBytes
			want.SpillBytes += b.SpillBytes
			want.ReloadBytes += b.ReloadBytes
		}
		got := m.ReplicatedBuffers(0, r)
		if got != want || (got.SpillBytes == 0) != (r == 1024) {
			t.Errorf("r = %d: %+v, replicas sum to %+v", r, got, want)
		}
	}
}

// Replicas deal the positions in runs as even as possible, the longer
// runs first: 10 positions over 3 replicas are 4, 3, 3.
func TestReplicaPositions(t *testing.T) {
	for k, want := range [][2]int64{{0, 4}, {4, 3}, {7, 3}} {
		if first, n := ReplicaPositions(10, 3, k); first != want[0] || n != want[1] {
			t.Errorf("replica %d of 3: positions %d+%d, want %d+%d", k, first, n, want[0], want[1])
		}
	}
}
