package hw

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Sanity caps (documented in docs/hardware.md). They keep every size that a
// later stage may allocate per crossbar, row, lane or byte bounded.
const (
	maxCrossbarDim   = 4096    // rows or columns of one crossbar
	maxBitsPerCell   = 8       // multi-level cells beyond 8 bits are not physical
	maxDataBits      = 16      // weight and activation precision
	maxDACBits       = 8       // row-driver resolution
	maxADCBits       = 16      // column-converter resolution
	maxVFULanes      = 4096    // lanes per core
	maxVFUOpsPerLane = 64      // element ops per lane per cycle
	maxLocalMemBytes = 1 << 30 // 1 GiB per core
	maxAccessWidth   = 4096    // bytes per local-memory access
	maxDRAMChannels  = 64
	maxDRAMDevices   = 64
	minDRAMWidthBits = 4 // JEDEC devices are x4 to x32; an HBM channel is 128 bits
	maxDRAMWidthBits = 128
	maxDRAMBanks     = 256
	maxDRAMRows      = 1 << 20
	maxDRAMColumns   = 1 << 16
	maxDRAMBurst     = 64
)

// Validate checks every field and returns nil or all problems joined
// (errors.Join). Each message names the chip, the JSON field, the bad value
// and the allowed range or fix, e.g.
//
//	chip "x": cores = 0: must be a positive integer (at least 1)
//
// Rules: structure counts are positive integers under documented caps (at
// most MaxCrossbars crossbars in total); bits_per_cell is 1..8; weight and
// activation bits are 1..16 and weight_bits is a multiple of bits_per_cell;
// crossbar_cols is a multiple of the columns per weight; every latency,
// the clock and every bandwidth are finite and > 0; every energy and static
// power is finite and >= 0, except mvm_slice_energy_pj and
// crossbar_write_energy_per_cell_bit_pj, which must be > 0 (they are the only
// cost of an MVM and of a weight rewrite); DRAM geometry is in powers of two,
// its timings are positive cycle counts, VDD is > 0 and IDD currents are >= 0
// and consistent (IDD4R, IDD4W, IDD5AB >= IDD3N; activation energy >= 0).
func (c *Chip) Validate() error {
	if c == nil {
		return errors.New("hw: nil chip: give a chip description")
	}
	k := &checker{chip: c.Name}
	if strings.TrimSpace(c.Name) == "" {
		k.fail("name", fmt.Sprintf("%q", c.Name), "must be a non-empty string naming the chip")
	}
	if c.Description != strings.ToValidUTF8(c.Description, "") {
		k.fail("description", "(invalid UTF-8)", "must be valid UTF-8 text")
	}

	// Structure.
	okCores := k.intRange("cores", c.Cores, 1, MaxCrossbars)
	okXbars := k.intRange("crossbars_per_core", c.CrossbarsPerCore, 1, MaxCrossbarsPerCore)
	if okCores && okXbars {
		if total := int64(c.Cores) * int64(c.CrossbarsPerCore); total > MaxCrossbars {
			k.addf("crossbars_per_core", "cores * crossbars_per_core = %d * %d = %d crossbars: must be at most %d "+
				"crossbars in total (a cap on the memory the mapping and the simulator allocate per crossbar); "+
				"use fewer cores or crossbars per core",
				c.Cores, c.CrossbarsPerCore, total, MaxCrossbars)
		}
	}
	okRows := k.intRange("crossbar_rows", c.CrossbarRows, 1, maxCrossbarDim)
	okCols := k.intRange("crossbar_cols", c.CrossbarCols, 1, maxCrossbarDim)
	okBPC := k.intRange("bits_per_cell", c.BitsPerCell, 1, maxBitsPerCell)
	okWB := k.intRange("weight_bits", c.WeightBits, 1, maxDataBits)
	if okBPC && okWB {
		if c.WeightBits%c.BitsPerCell != 0 {
			k.addf("weight_bits", "weight_bits = %d is not a multiple of bits_per_cell = %d: a weight must fill whole cells; "+
				"use a multiple of %d", c.WeightBits, c.BitsPerCell, c.BitsPerCell)
		} else if cpw := c.WeightBits / c.BitsPerCell; okCols && c.CrossbarCols%cpw != 0 {
			k.addf("crossbar_cols", "crossbar_cols = %d is not a multiple of weight_bits/bits_per_cell = %d columns per weight: "+
				"use a multiple of %d so every column holds part of a weight", c.CrossbarCols, cpw, cpw)
		}
	}
	okAB := k.intRange("activation_bits", c.ActivationBits, 1, maxDataBits)

	k.floatIn("clock_hz", c.ClockHz, MinClockHz, MaxClockHz, "Hz", false)

	// Converters.
	if k.intRange("dac_bits", c.DACBits, 1, maxDACBits) && okAB && c.DACBits > c.ActivationBits {
		k.addf("dac_bits", "dac_bits = %d exceeds activation_bits = %d: a slice cannot apply more bits than an input has; "+
			"use 1..%d", c.DACBits, c.ActivationBits, c.ActivationBits)
	}
	k.floatIn("dac_energy_per_conversion_pj", c.DACEnergyPerConversionPJ, 0, MaxEventEnergyPJ, "pJ", true)
	k.intRange("adc_bits", c.ADCBits, 1, maxADCBits)
	if k.intRange("adcs_per_crossbar", c.ADCsPerCrossbar, 1, maxCrossbarDim) && okCols && c.ADCsPerCrossbar > c.CrossbarCols {
		k.addf("adcs_per_crossbar", "adcs_per_crossbar = %d exceeds crossbar_cols = %d: at most one ADC per column; use 1..%d",
			c.ADCsPerCrossbar, c.CrossbarCols, c.CrossbarCols)
	}
	k.floatIn("adc_latency_ns", c.ADCLatencyNs, MinStepLatencyNs, MaxStepLatencyNs, "ns", false)
	k.floatIn("adc_energy_per_conversion_pj", c.ADCEnergyPerConversionPJ, 0, MaxEventEnergyPJ, "pJ", true)

	// Crossbar MVM and writes.
	k.floatIn("mvm_slice_latency_ns", c.MVMSliceLatencyNs, MinStepLatencyNs, MaxStepLatencyNs, "ns", false)
	k.floatIn("mvm_slice_energy_pj", c.MVMSliceEnergyPJ, MinMVMSliceEnergyPJ, MaxMVMSliceEnergyPJ, "pJ", false)
	k.floatIn("crossbar_write_row_latency_ns", c.CrossbarWriteRowLatencyNs, MinWriteRowLatencyNs, MaxWriteRowLatencyNs, "ns", false)
	k.floatIn("crossbar_write_energy_per_cell_bit_pj", c.CrossbarWriteEnergyPerCellBitPJ, MinWriteEnergyPerCellBitPJ, MaxWriteEnergyPerCellBitPJ, "pJ", false)
	hiRows := maxCrossbarDim
	if okRows {
		hiRows = c.CrossbarRows
	}
	k.intRange("crossbar_write_parallel_rows", c.CrossbarWriteParallelRows, 1, hiRows)

	// Vector functional unit.
	k.intRange("vfu_lanes", c.VFULanes, 1, maxVFULanes)
	k.intRange("vfu_ops_per_lane_per_cycle", c.VFUOpsPerLanePerCycle, 1, maxVFUOpsPerLane)
	k.floatIn("vfu_energy_per_op_pj", c.VFUEnergyPerOpPJ, 0, MaxEventEnergyPJ, "pJ", true)

	// Local memory.
	hiWidth := maxAccessWidth
	if k.intRange("local_memory_bytes", c.LocalMemoryBytes, 1, maxLocalMemBytes) && c.LocalMemoryBytes < hiWidth {
		hiWidth = c.LocalMemoryBytes
	}
	k.intRange("local_memory_access_width_bytes", c.LocalMemoryAccessWidthBytes, 1, hiWidth)
	k.floatIn("local_memory_read_latency_ns", c.LocalMemoryReadLatencyNs, MinStepLatencyNs, MaxStepLatencyNs, "ns", false)
	k.floatIn("local_memory_write_latency_ns", c.LocalMemoryWriteLatencyNs, MinStepLatencyNs, MaxStepLatencyNs, "ns", false)
	k.floatIn("local_memory_read_energy_per_byte_pj", c.LocalMemoryReadEnergyPerBytePJ, 0, MaxEventEnergyPJ, "pJ", true)
	k.floatIn("local_memory_write_energy_per_byte_pj", c.LocalMemoryWriteEnergyPerBytePJ, 0, MaxEventEnergyPJ, "pJ", true)

	// Bus.
	k.floatIn("bus_bandwidth_bytes_per_s", c.BusBandwidthBytesPerS, MinBandwidthBytesPerS, MaxBandwidthBytesPerS, "bytes/s", false)
	k.floatIn("bus_latency_ns", c.BusLatencyNs, MinStepLatencyNs, MaxStepLatencyNs, "ns", false)
	k.floatIn("bus_energy_per_byte_pj", c.BusEnergyPerBytePJ, 0, MaxEventEnergyPJ, "pJ", true)

	// Static power.
	k.floatIn("crossbar_static_power_mw", c.CrossbarStaticPowerMW, 0, MaxStaticPowerMW, "mW", true)
	k.floatIn("vfu_static_power_mw", c.VFUStaticPowerMW, 0, MaxStaticPowerMW, "mW", true)
	k.floatIn("local_memory_static_power_mw", c.LocalMemoryStaticPowerMW, 0, MaxStaticPowerMW, "mW", true)
	k.floatIn("control_static_power_mw", c.ControlStaticPowerMW, 0, MaxStaticPowerMW, "mW", true)

	c.DRAM.validate(k)
	return errors.Join(k.errs...)
}

// validate checks the DRAM fields, reporting them as dram.<key>.
func (d *DRAM) validate(k *checker) {
	if strings.TrimSpace(d.Name) == "" {
		k.fail("dram.name", fmt.Sprintf("%q", d.Name), "must be a non-empty string naming the DRAM configuration")
	}
	if d.PagePolicy != "open" && d.PagePolicy != "closed" {
		k.fail("dram.page_policy", fmt.Sprintf("%q", d.PagePolicy), `must be "open" or "closed"`)
	}
	k.intRange("dram.channels", d.Channels, 1, maxDRAMChannels)
	okDev := k.intRange("dram.devices_per_channel", d.DevicesPerChannel, 1, maxDRAMDevices)
	okW := k.pow2("dram.device_width_bits", d.DeviceWidthBits, minDRAMWidthBits, maxDRAMWidthBits)
	k.pow2("dram.banks", d.Banks, 1, maxDRAMBanks)
	k.pow2("dram.rows_per_bank", d.RowsPerBank, 1, maxDRAMRows)
	okC := k.pow2("dram.columns_per_row", d.ColumnsPerRow, 1, maxDRAMColumns)
	okB := k.pow2("dram.burst_length", d.BurstLength, 2, maxDRAMBurst)
	if okDev && okW && d.DevicesPerChannel*d.DeviceWidthBits%8 != 0 {
		k.addf("dram.device_width_bits", "dram.devices_per_channel * dram.device_width_bits = %d * %d = %d bits is not "+
			"a whole number of bytes: the channel's data bus must be whole bytes; use an even devices_per_channel or "+
			"device_width_bits of 8 or more", d.DevicesPerChannel, d.DeviceWidthBits, d.DevicesPerChannel*d.DeviceWidthBits)
	}
	if okC && okB && d.ColumnsPerRow < d.BurstLength {
		k.addf("dram.columns_per_row", "dram.columns_per_row = %d is below dram.burst_length = %d: a burst must fit in "+
			"one row; use at least %d", d.ColumnsPerRow, d.BurstLength, d.BurstLength)
	}
	okTCK := k.floatIn("dram.tck_ns", d.TCKNs, MinDRAMTCKNs, MaxDRAMTCKNs, "ns", false)

	timings := []struct {
		key string
		v   int
	}{
		{"dram.cl_cycles", d.CLCycles}, {"dram.cwl_cycles", d.CWLCycles},
		{"dram.trcd_cycles", d.TRCDCycles}, {"dram.trp_cycles", d.TRPCycles},
		{"dram.tras_cycles", d.TRASCycles}, {"dram.trrd_cycles", d.TRRDCycles},
		{"dram.tfaw_cycles", d.TFAWCycles}, {"dram.twr_cycles", d.TWRCycles},
		{"dram.twtr_cycles", d.TWTRCycles}, {"dram.trtp_cycles", d.TRTPCycles},
		{"dram.tccd_cycles", d.TCCDCycles}, {"dram.trfc_cycles", d.TRFCCycles},
		{"dram.trefi_cycles", d.TREFICycles},
	}
	okTimings := true
	for _, t := range timings {
		okTimings = k.intRange(t.key, t.v, 1, MaxDRAMTimingCycles) && okTimings
	}
	if okTimings && d.TREFICycles <= d.TRFCCycles {
		// Suggest only values the ranges allow: raising trefi_cycles needs
		// room above trfc_cycles, lowering trfc_cycles needs trefi_cycles >= 2.
		raise, lower := d.TRFCCycles < MaxDRAMTimingCycles, d.TREFICycles >= 2
		var fix string
		switch {
		case raise && lower:
			fix = fmt.Sprintf("use trefi_cycles from %d to %d, or trfc_cycles from 1 to %d", d.TRFCCycles+1, MaxDRAMTimingCycles, d.TREFICycles-1)
		case raise:
			fix = fmt.Sprintf("use trefi_cycles from %d to %d", d.TRFCCycles+1, MaxDRAMTimingCycles)
		case lower:
			fix = fmt.Sprintf("use trfc_cycles from 1 to %d (trefi_cycles cannot exceed %d)", d.TREFICycles-1, MaxDRAMTimingCycles)
		default:
			fix = fmt.Sprintf("lower trfc_cycles and raise trefi_cycles so that 1 <= trfc_cycles < trefi_cycles <= %d", MaxDRAMTimingCycles)
		}
		k.addf("dram.trefi_cycles", "dram.trefi_cycles = %d is not above dram.trfc_cycles = %d: a refresh must finish before the next "+
			"is due; %s", d.TREFICycles, d.TRFCCycles, fix)
	}
	okVDD := k.floatIn("dram.vdd_v", d.VDDV, MinDRAMVDDV, MaxDRAMVDDV, "V", false)

	idd := []struct {
		key string
		v   float64
	}{
		{"dram.idd0_ma", d.IDD0MA}, {"dram.idd2n_ma", d.IDD2NMA}, {"dram.idd3n_ma", d.IDD3NMA},
		{"dram.idd4r_ma", d.IDD4RMA}, {"dram.idd4w_ma", d.IDD4WMA}, {"dram.idd5ab_ma", d.IDD5ABMA},
		{"dram.idd6_ma", d.IDD6MA}, {"dram.idd2p_ma", d.IDD2PMA}, {"dram.idd3p_ma", d.IDD3PMA},
	}
	okIDD := true
	for _, c := range idd {
		okIDD = k.floatIn(c.key, c.v, 0, MaxDRAMCurrentMA, "mA", true) && okIDD
	}
	if !okIDD {
		return
	}
	// Energies derived above active standby must not be negative.
	for _, c := range []struct {
		key string
		v   float64
	}{
		{"dram.idd4r_ma", d.IDD4RMA}, {"dram.idd4w_ma", d.IDD4WMA}, {"dram.idd5ab_ma", d.IDD5ABMA},
	} {
		if c.v < d.IDD3NMA {
			k.addf(c.key, "%s = %v is below dram.idd3n_ma = %v: the burst/refresh energy above active standby would be "+
				"negative; use at least %v mA", c.key, c.v, d.IDD3NMA, d.IDD3NMA)
		}
	}
	if okTimings && okTCK && okVDD {
		tras, trp := float64(d.TRASCycles), float64(d.TRPCycles)
		need := (d.IDD3NMA*tras + d.IDD2NMA*trp) / (tras + trp)
		if d.IDD0MA < need {
			k.addf("dram.idd0_ma", "dram.idd0_ma = %v is too low: the activate energy IDD0*tRC - (IDD3N*tRAS + IDD2N*tRP) "+
				"would be negative; use at least %v mA", d.IDD0MA, need)
		}
	}
}

// FieldError is one problem Validate found: Field is the JSON key at
// fault (DRAM keys as "dram.<key>"; a rule relating two fields names the
// one to change), Msg the whole message, which names the chip, the key, the
// value, its unit and the allowed range or fix. Validate joins them with
// errors.Join, so errors.As finds the first and a front end can list them
// all by unwrapping.
type FieldError struct {
	Chip  string
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("chip %q: %s", e.Chip, e.Msg) }

// FieldErrors lists the *FieldError values inside err (one, or several
// joined by errors.Join), in order; it is empty for any other error.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// checker collects validation errors, each prefixed with the chip name.
type checker struct {
	chip string
	errs []error
}

// addf records a message about field that already names it and its value.
func (k *checker) addf(field, format string, args ...any) {
	k.errs = append(k.errs, &FieldError{Chip: k.chip, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fail records "field = value: rule".
func (k *checker) fail(field, value, rule string) {
	k.addf(field, "%s = %s: %s", field, value, rule)
}

// intRange checks lo <= v <= hi and reports whether it holds.
func (k *checker) intRange(field string, v, lo, hi int) bool {
	switch {
	case v < lo && lo == 1:
		k.fail(field, fmt.Sprint(v), "must be a positive integer (at least 1)")
	case v < lo || v > hi:
		k.fail(field, fmt.Sprint(v), fmt.Sprintf("must be an integer in %d..%d", lo, hi))
	default:
		return true
	}
	return false
}

// pow2 checks that v is a power of two in lo..hi.
func (k *checker) pow2(field string, v, lo, hi int) bool {
	if v < lo || v > hi || v&(v-1) != 0 {
		k.fail(field, fmt.Sprint(v), fmt.Sprintf("must be a power of two in %d..%d", lo, hi))
		return false
	}
	return true
}

// floatIn checks that v is a finite number in [lo, hi] (the physical
// range, see ranges.go), or exactly 0 when zeroOK (the cost is folded into
// another figure). The message names the unit and the range.
func (k *checker) floatIn(field string, v, lo, hi float64, unit string, zeroOK bool) bool {
	if zeroOK && v == 0 {
		return true
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi || (lo == 0 && v <= 0) {
		rule := fmt.Sprintf("must be a number from %g to %g %s (the physical range; docs/hardware.md gives its source)", lo, hi, unit)
		if zeroOK {
			rule = fmt.Sprintf("must be 0 (not charged) or a number up to %g %s (the physical range; docs/hardware.md gives its source)", hi, unit)
		}
		k.fail(field, fmt.Sprint(v), rule)
		return false
	}
	return true
}
