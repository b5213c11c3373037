package hw

import (
	"fmt"
	"strings"
)

// Figures shared by the presets. Each names its published source; the
// derivations are written out in docs/hardware.md.
const (
	// PIMCOMP default configuration: 1 GHz core clock.
	clockHz = 1e9

	// ISAAC 8-bit SAR ADC, 1.2 GS/s (32 nm): one conversion every 1/1.2 ns.
	isaacADCLatencyNs = 1 / 1.2
	// ISAAC 8-bit ADC, 1.67 pJ per conversion (Accelergy ISAAC component
	// library, 32 nm; not scaled to 16 nm).
	isaacADCEnergyPJ = 1.67
	// ISAAC 1-bit DAC, 0.417 pJ per conversion (Accelergy ISAAC library).
	isaacDACEnergyPJ = 0.417

	// COMPASS paper, per core (PIMCOMP/PUMA values): 12 VFU lanes 22.8 mW,
	// 64 kB local memory 18.0 mW, control unit 8.0 mW.
	paperVFULanes        = 12
	paperVFUPowerMW      = 22.8
	paperLocalMemPowerMW = 18.0
	paperControlPowerMW  = 8.0

	// COMPASS paper Table I: chip M is 16 cores x 16 crossbars at 2.80 W,
	// chip L 36 x 16 at 6.30 W; both are 175 mW per core. Removing the
	// 48.8 mW of VFU + local memory + control leaves 126.2 mW for 16
	// crossbars: 7.8875 mW per crossbar while computing.
	paperCrossbarComputePowerMW = (2800.0/16 - (paperVFUPowerMW + paperLocalMemPowerMW + paperControlPowerMW)) / 16

	// Local memory: 64 KiB (COMPASS paper "64 kB"; PUMA/ISAAC 64 KB buffers).
	localMemBytes = 64 << 10
	// PUMA/ISAAC eDRAM buffers are accessed 256 bits (32 bytes) at a time.
	localMemWidthBytes = 32
	// PIMCOMP default configuration: local memory read 20 cycles, write
	// 30 cycles at 1 GHz.
	localMemReadNs  = 20
	localMemWriteNs = 30
	// PUMA eDRAM 64 KB: 17.2 pJ per 256-bit access = 17.2/32 pJ per byte
	// (one figure, used for reads and writes).
	pumaLocalMemPJPerByte = 17.2 / 32

	// Bus: 256-bit transfers (the width of ISAAC's router energy figure),
	// one per 1 GHz cycle = 32 GB/s; our choice, no published bus
	// bandwidth for this template.
	busBytesPerS = 32 * clockHz
	// One clock cycle of fixed cost per transfer (our choice).
	busLatencyNs = 1
	// ISAAC router: 20.74 pJ per 256-bit transfer = 20.74/32 pJ per byte.
	isaacBusPJPerByte = 20.74 / 32

	// ISAAC shift-and-add: 0.021 pJ per 16-bit op (Accelergy ISAAC
	// library), taken as one VFU element operation.
	isaacVFUOpPJ = 0.021
)

// SRAM (chips S, M, L): 256x256 1-bit cells, 4-bit weights and activations
// (COMPASS paper, from the 16 nm SRAM prototype of Jia et al., ISSCC 2021).
const (
	sramRows = 256
	sramCols = 256
	// PIMCOMP default configuration: crossbar latency 7 cycles at 1 GHz,
	// used as the array time of one input slice.
	sramSliceNs = 7
	// Slice interval with one ADC per crossbar: max(7, 256 * 1/1.2) ns.
	sramSliceIntervalNs = sramCols * isaacADCLatencyNs
	// Array energy per slice: the paper's per-crossbar compute power times
	// the slice interval, less the ADC energy of the slice (256 ISAAC
	// conversions). DACs are plain 1-bit word-line drivers, inside this figure.
	sramSliceEnergyPJ = paperCrossbarComputePowerMW*sramSliceIntervalNs - sramCols*isaacADCEnergyPJ
	// CiMLoop example SRAM cell: 10 ns write pulse, one row at a time.
	sramRowWriteNs = 10
	// MNSIM 2.0 default SRAM CIM cell write: 1.6 fJ per bit.
	sramWritePJPerBit = 0.0016
)

// ReRAM (ISAAC/PUMA-like): 128x128 crossbars of 2-bit cells.
const (
	reramRows = 128
	reramCols = 128
	// ISAAC/PUMA/PIMSYN 128x128 ReRAM crossbar read: 100 ns.
	reramSliceNs = 100
	// ISAAC/PIMSYN 128x128 crossbar read power 0.3 mW over 100 ns.
	reramSliceEnergyPJ = 0.3 * reramSliceNs
	// PUMA lumped whole-crossbar write: about 11 us and 21 nJ for 128 rows
	// of 128 2-bit cells: 11000/128 ns per row, 21000/(128*128*2) pJ per bit.
	reramRowWriteNs    = 11000.0 / reramRows
	reramWritePJPerBit = 21000.0 / (reramRows * reramCols * 2)
)

// lpddr3 is LPDDR3-1600 with two 8 Gb x32 devices on one 64-bit channel
// (DRAMsim3 LPDDR3_8Gb_x32_1600.ini): geometry, timings, IDD currents.
func lpddr3() DRAM {
	return DRAM{
		Name:              "LPDDR3-1600 8Gb x32 (DRAMsim3 LPDDR3_8Gb_x32_1600)",
		PagePolicy:        "open", // DRAMsim3 config: open page
		Channels:          1,      // DRAMsim3 config
		DevicesPerChannel: 2,      // 64-bit bus of two x32 devices
		DeviceWidthBits:   32,     // DRAMsim3 config
		Banks:             8,      // DRAMsim3 config
		RowsPerBank:       32768,  // DRAMsim3 config
		ColumnsPerRow:     1024,   // DRAMsim3 config
		BurstLength:       8,      // DRAMsim3 config
		TCKNs:             1.25,   // 800 MHz clock, 1600 MT/s
		CLCycles:          12,     // DRAMsim3 config (all timings below too)
		CWLCycles:         9,
		TRCDCycles:        15,
		TRPCycles:         15,
		TRASCycles:        34,
		TRRDCycles:        8,
		TFAWCycles:        40,
		TWRCycles:         12,
		TWTRCycles:        6,
		TRTPCycles:        6,
		TCCDCycles:        4,
		TRFCCycles:        168,
		TREFICycles:       3120,
		VDDV:              1.2, // DRAMsim3 config (all currents below too, per device)
		IDD0MA:            40,
		IDD2NMA:           20.5,
		IDD3NMA:           21,
		IDD4RMA:           250,
		IDD4WMA:           245,
		IDD5ABMA:          150,
		IDD6MA:            21,
		IDD2PMA:           1.3,
		IDD3PMA:           7,
	}
}

// sramChip is the paper's SRAM chip with the given core and crossbar counts.
func sramChip(name string, cores, xbarsPerCore int) *Chip {
	return &Chip{
		Name: name,
		Description: fmt.Sprintf("COMPASS chip %s: %d cores x %d SRAM crossbars of 256x256 1-bit cells, "+
			"4-bit weights and activations (16 nm SRAM prototype, Jia et al. ISSCC 2021)", name, cores, xbarsPerCore),
		Cores:            cores,        // COMPASS paper, Table I
		CrossbarsPerCore: xbarsPerCore, // COMPASS paper, Table I
		CrossbarRows:     sramRows,     // COMPASS paper
		CrossbarCols:     sramCols,     // COMPASS paper
		BitsPerCell:      1,            // COMPASS paper
		WeightBits:       4,            // COMPASS paper
		ActivationBits:   4,            // COMPASS paper

		ClockHz: clockHz, // PIMCOMP default configuration

		DACBits:                  1,                 // bit-serial inputs (our model; PUMA/ISAAC 1-bit DACs)
		DACEnergyPerConversionPJ: 0,                 // 1-bit word-line drivers: inside MVMSliceEnergyPJ
		ADCBits:                  8,                 // ISAAC/PUMA/PIMCOMP 8-bit ADC
		ADCsPerCrossbar:          1,                 // ISAAC: one ADC per crossbar; PIMCOMP: 16 per core = 1 per crossbar at 16 crossbars/core
		ADCLatencyNs:             isaacADCLatencyNs, // ISAAC ADC 1.2 GS/s
		ADCEnergyPerConversionPJ: isaacADCEnergyPJ,  // ISAAC 8-bit ADC (32 nm, unscaled)

		MVMSliceLatencyNs: sramSliceNs,       // PIMCOMP xbar latency 7 cycles at 1 GHz
		MVMSliceEnergyPJ:  sramSliceEnergyPJ, // derived from the paper's chip powers (docs/hardware.md)

		CrossbarWriteRowLatencyNs:       sramRowWriteNs,    // CiMLoop SRAM example cell, 10 ns write pulse
		CrossbarWriteEnergyPerCellBitPJ: sramWritePJPerBit, // MNSIM 2.0 SRAM CIM write 1.6 fJ/bit
		CrossbarWriteParallelRows:       1,                 // one row per crossbar at a time (SRAM row write)

		VFULanes:              paperVFULanes, // COMPASS paper (PIMCOMP/PUMA)
		VFUOpsPerLanePerCycle: 1,             // one element op per lane per cycle (PUMA VFU)
		VFUEnergyPerOpPJ:      isaacVFUOpPJ,  // ISAAC shift-and-add, 16-bit op

		LocalMemoryBytes:                localMemBytes,         // COMPASS paper, 64 kB
		LocalMemoryAccessWidthBytes:     localMemWidthBytes,    // PUMA/ISAAC 256-bit access
		LocalMemoryReadLatencyNs:        localMemReadNs,        // PIMCOMP 20 cycles at 1 GHz
		LocalMemoryWriteLatencyNs:       localMemWriteNs,       // PIMCOMP 30 cycles at 1 GHz
		LocalMemoryReadEnergyPerBytePJ:  pumaLocalMemPJPerByte, // PUMA eDRAM 17.2 pJ / 256 bit
		LocalMemoryWriteEnergyPerBytePJ: pumaLocalMemPJPerByte, // PUMA eDRAM 17.2 pJ / 256 bit

		BusBandwidthBytesPerS: busBytesPerS,      // 256 bit per 1 GHz cycle (our choice)
		BusLatencyNs:          busLatencyNs,      // one cycle (our choice)
		BusEnergyPerBytePJ:    isaacBusPJPerByte, // ISAAC router 20.74 pJ / 256 bit

		CrossbarStaticPowerMW:    0,                    // compute power is in MVMSliceEnergyPJ; no SRAM leakage figure
		VFUStaticPowerMW:         paperVFUPowerMW,      // COMPASS paper, 12 lanes
		LocalMemoryStaticPowerMW: paperLocalMemPowerMW, // COMPASS paper, 64 kB
		ControlStaticPowerMW:     paperControlPowerMW,  // COMPASS paper

		DRAM: lpddr3(), // COMPASS paper: LPDDR3 through DRAMsim3
	}
}

// reramChip is an ISAAC/PUMA-like ReRAM chip with chip M's weight capacity.
func reramChip() *Chip {
	c := sramChip("ReRAM", 16, 32) // 16 x 32 x 4 KiB = 2 MiB, like chip M (our choice)
	c.Description = "ISAAC/PUMA-like ReRAM chip: 16 cores x 32 crossbars of 128x128 2-bit cells, " +
		"8-bit weights and activations; slow, costly crossbar writes (PUMA)"
	c.CrossbarRows = reramRows // ISAAC/PUMA 128x128 crossbar
	c.CrossbarCols = reramCols // ISAAC/PUMA 128x128 crossbar
	c.BitsPerCell = 2          // ISAAC/PUMA/PIMCOMP 2-bit cells
	c.WeightBits = 8           // our choice (ISAAC/PUMA use 16), 4 cells per weight
	c.ActivationBits = 8       // our choice (ISAAC/PUMA use 16), 8 slices

	c.DACEnergyPerConversionPJ = isaacDACEnergyPJ // ISAAC 1-bit DAC
	// ADC as for SRAM: ISAAC 8-bit, one per crossbar (ISAAC), 1.2 GS/s, 1.67 pJ.

	c.MVMSliceLatencyNs = reramSliceNs      // ISAAC/PUMA/PIMSYN 100 ns crossbar read
	c.MVMSliceEnergyPJ = reramSliceEnergyPJ // ISAAC/PIMSYN 0.3 mW x 100 ns

	c.CrossbarWriteRowLatencyNs = reramRowWriteNs          // PUMA 11 us per 128-row crossbar
	c.CrossbarWriteEnergyPerCellBitPJ = reramWritePJPerBit // PUMA 21 nJ per 128x128x2-bit crossbar
	c.CrossbarWriteParallelRows = 1                        // one row at a time

	c.CrossbarStaticPowerMW = 0 // non-volatile array; read power is in MVMSliceEnergyPJ
	return c
}

// presets lists the built-in chips in PresetNames order.
var presets = []struct {
	name string
	make func() (*Chip, error)
}{
	{"S", sourced(func() *Chip { return sramChip("S", 16, 9) })},  // COMPASS Table I: 1.125 MiB
	{"M", sourced(func() *Chip { return sramChip("M", 16, 16) })}, // COMPASS Table I: 2.0 MiB
	{"L", sourced(func() *Chip { return sramChip("L", 36, 16) })}, // COMPASS Table I: 4.5 MiB
	{"ReRAM", sourced(reramChip)},
	// S, M, L with the figures the paper does not publish fitted to its
	// published results (fitted.json, engine/internal/calibrate).
	{"S-fit", func() (*Chip, error) { return fittedChip("S", 16, 9) }},
	{"M-fit", func() (*Chip, error) { return fittedChip("M", 16, 16) }},
	{"L-fit", func() (*Chip, error) { return fittedChip("L", 36, 16) }},
}

func sourced(f func() *Chip) func() (*Chip, error) {
	return func() (*Chip, error) { return f(), nil }
}

// PresetNames returns the names of the built-in chips: S, M, L, then the
// others (ReRAM), then the paper-fitted S-fit, M-fit, L-fit.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return names
}

// Preset returns a fresh copy of the built-in chip called name (case
// insensitive). An unknown name gives an error listing the available names.
func Preset(name string) (*Chip, error) {
	n := strings.TrimSpace(name)
	for _, p := range presets {
		if strings.EqualFold(p.name, n) {
			return p.make()
		}
	}
	return nil, fmt.Errorf("unknown chip preset %q: available presets are %s",
		name, strings.Join(PresetNames(), ", "))
}
