package sim

import (
	"math"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/isa"
)

// dramChunkBytes is the most one request to the DRAM controller carries:
// Run splits each transfer into chunks of this size (one DRAM row of the
// preset devices) so that other requesters interleave.
const dramChunkBytes = 8 << 10

// dramCheckChunks is how many chunks Run walks between two looks at its
// context, so that a deadline stops a transfer of any size: 2 MiB, at most
// 32,768 bursts of 64 bytes plus one per chunk.
const dramCheckChunks = 256

// DRAMBursts returns an upper bound on the DRAM bursts Run issues for p on
// chip, counted from the loop form without running it: every LOAD_WEIGHT,
// STORE_DATA and LOAD_DATA of b bytes, as many times as it runs, takes at
// most ceil(b / burst bytes) bursts plus one a chunk (a chunk may straddle
// one more burst boundary). The DRAM model walks the bursts one by one, so
// a program's simulation time grows with this figure as well as with its
// instructions: one instruction may move gigabytes. The sum saturates at
// math.MaxInt64 rather than overflow.
func DRAMBursts(p *isa.LoopProgram, chip *hw.Chip) int64 {
	burst := int64(chip.DRAM.BurstBytes())
	if burst <= 0 {
		burst = 1
	}
	var total int64
	p.Count(func(_ int, _ *isa.LoopStream, in isa.Instr, times int64) {
		switch in.Op {
		case isa.LoadWeight, isa.StoreData, isa.LoadData:
		default:
			return
		}
		if in.Bytes <= 0 || times <= 0 {
			return
		}
		per := ceilDiv(in.Bytes, burst) + ceilDiv(in.Bytes, dramChunkBytes)
		total = addSat(total, mulSat(per, times))
	})
	return total
}

func ceilDiv(a, b int64) int64 { return a/b + min(1, a%b) }

// mulSat is a*b for non-negative a and b, math.MaxInt64 when it overflows.
func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// addSat is a+b for non-negative a and b, math.MaxInt64 when it overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
