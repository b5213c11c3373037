package hw

// Physical ranges of the chip's continuous parameters, enforced by
// Validate. Each spans a few orders of magnitude on either side of the
// published devices the presets come from, so any real or plausible
// future design fits, while values no device has (a clock of 1e-300 Hz,
// an ADC conversion of 1e308 ns) are refused before they can overflow a
// time or an energy. docs/hardware.md ("Physical ranges") gives each
// range's source; the published figures are the ones in its Sources
// list.
const (
	// Clock: published 1 GHz (PIMCOMP), 1.2 GHz (ISAAC ADC rate); the
	// range runs from 1 kHz (subthreshold sensor nodes) to 100 GHz (above
	// any CMOS logic clock, about 6 GHz in 2024 CPUs).
	MinClockHz = 1e3
	MaxClockHz = 1e11

	// Latencies of one analog or memory step, in ns: published 0.83 ns
	// (ISAAC ADC conversion) to 100 ns (ISAAC/PUMA crossbar read, PUMA ADC
	// 12.5 ns/bit x 8). From 1 ps (below any gate delay) to 1 ms (four
	// orders above the slowest published step).
	MinStepLatencyNs = 1e-3
	MaxStepLatencyNs = 1e6

	// Programming one crossbar row, in ns: published 10 ns (SRAM, CiMLoop)
	// to 86 ns (PUMA ReRAM); PCM/Flash reprogramming of a whole chip can
	// take up to a minute (IBM, arXiv 2003.04293), i.e. milliseconds per
	// row. From 1 ps to 1 s.
	MinWriteRowLatencyNs = 1e-3
	MaxWriteRowLatencyNs = 1e9

	// Bandwidth of the on-chip bus, in bytes/s: published 6.4 GB/s (ISAAC
	// HyperTransport), 8 GB/s (PIMCOMP links), 32 GB/s (this project's bus
	// choice), 64 GB/s (PIMCOMP global memory). From 1 kB/s to 100 TB/s
	// (about 100x an HBM3 stack).
	MinBandwidthBytesPerS = 1e3
	MaxBandwidthBytesPerS = 1e14

	// Energy of one event (a conversion, an element operation, a byte
	// moved), in pJ: published 0.021 pJ (ISAAC shift-and-add) to 20.74 pJ
	// (ISAAC router, 256 bits). Up to 1 nJ, about 50x the largest
	// published per-event figure (14 pJ/bit GDDR5 x 8 = 112 pJ per byte
	// moved off chip); 0 means the cost is folded into another figure.
	MaxEventEnergyPJ = 1e3

	// Energy of one crossbar array step (all rows driven, all columns
	// sensed), in pJ: published 30 pJ (ISAAC/PIMSYN 0.3 mW x 100 ns) to
	// 1255 pJ (the COMPASS SRAM chips, docs D1); PUMA ~170 pJ per MVM.
	// From 1 fJ (a 1 aJ/cell bottom-up figure on a 1x1 array) to 1 uJ.
	MinMVMSliceEnergyPJ = 1e-3
	MaxMVMSliceEnergyPJ = 1e6

	// Programming one stored bit, in pJ: published 0.0016 pJ (MNSIM SRAM
	// 1.6 fJ/bit) to 0.64 pJ (PUMA ReRAM, docs D3); Flash/PCM program
	// pulses reach ~1 nJ per cell. From 1 aJ to 10 nJ.
	MinWriteEnergyPerCellBitPJ = 1e-6
	MaxWriteEnergyPerCellBitPJ = 1e4

	// Static power of one crossbar or one core's VFU, local memory or
	// control unit, in mW: published 0.075-1.2 mW (ISAAC/PIMSYN
	// crossbars) and 8-22.8 mW (PIMCOMP/PUMA per-core units). Up to 10 W
	// per block; 0 means not charged.
	MaxStaticPowerMW = 1e4

	// DRAM clock period, in ns: JEDEC parts span 0.2 ns (DDR5-8800, 4400
	// MHz) to 10 ns (DDR-200, 100 MHz) and 15 ns (SDR SDRAM at 66 MHz);
	// the preset's LPDDR3-1600 has 1.25 ns.
	MinDRAMTCKNs = 0.1
	MaxDRAMTCKNs = 20

	// DRAM supply voltage, in V: JEDEC parts span 0.5 V (LPDDR5 VDDQ) to
	// 3.3 V (SDR SDRAM); the preset's LPDDR3 has 1.2 V.
	MinDRAMVDDV = 0.3
	MaxDRAMVDDV = 5

	// DRAM IDD currents per device, in mA: the LPDDR3 preset spans 1.3 mA
	// (IDD2P) to 250 mA (IDD4R); DDR4/DDR5 datasheets stay under 500 mA.
	// Up to 10 A; 0 means not charged.
	MaxDRAMCurrentMA = 1e4

	// Crossbars in one core's matrix unit: published 8 (PUMA MVMUs a
	// core; ISAAC crossbars an IMA, its core-like unit of 12 a tile), 16
	// (COMPASS, PIMCOMP: one ADC each of 16 a core) and 32 (this
	// project's ReRAM preset). Up to 64. Packing replicas onto a core
	// costs time linear in this count for every span the mapping and the
	// searches weigh (mapping.PackCounts), so the cap also bounds that
	// work: a chain of 16,384 one-crossbar layers took 29 s to map on
	// 16,384 cores of 64 crossbars, 280 s on 4,096 cores of 256.
	MaxCrossbarsPerCore = 64

	// DRAM timings, in cycles of tck_ns: JEDEC parts span 1 cycle to a
	// few tens of thousands (tREFI = 7.8 us at DDR5-8800 is about 34,000
	// cycles; the preset's LPDDR3 tREFI is 3120).
	MaxDRAMTimingCycles = 1 << 20
)
