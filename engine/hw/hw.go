// Package hw describes a crossbar processing-in-memory (PIM) chip: the
// PIMCOMP-style hardware template that the COMPASS compiler targets (cores of
// crossbar arrays, a vector functional unit, a local memory, an on-chip bus and
// an external LPDDR3 DRAM), together with the cost model that every other
// package must read from it.
//
// Every numeric parameter carries its unit in its Go name and JSON key
// (ClockHz/clock_hz, MVMSliceLatencyNs/mvm_slice_latency_ns, ...). Time is in
// nanoseconds, energy in picojoules, power in milliwatts, bandwidth in bytes
// per second, and sizes in bytes or counts, unless the name says otherwise.
//
// The cost model in brief (docs/hardware.md has the full text and the source
// of every preset value):
//
//   - Inputs are applied bit-serially: an MVM on ActivationBits-bit inputs
//     through DACBits-bit DACs takes InputSlices() = ceil(ActivationBits /
//     DACBits) slices.
//   - One slice is an analog array step of MVMSliceLatencyNs followed by the
//     conversion of every column by the crossbar's ADCsPerCrossbar ADCs, each
//     taking ADCLatencyNs per conversion. The array step of slice i+1 overlaps
//     the conversions of slice i (two-stage pipeline), see MVMLatencyNs and
//     MVMIntervalNs.
//   - Dynamic energy is charged per event (MVM slice, DAC and ADC conversion,
//     VFU op, local-memory byte, bus byte, crossbar cell bit written, DRAM
//     command); static power (per crossbar, and per core for the VFU, the
//     local memory and the control unit) is charged for the whole run.
//
// Preset returns the built-in chips S, M and L of the COMPASS paper and an
// ISAAC/PUMA-like ReRAM chip; Load and Write read and write the JSON form;
// Resolve accepts either.
package hw

// MaxCrossbars is the largest total crossbar count (Cores*CrossbarsPerCore)
// that Validate accepts. It bounds every per-crossbar allocation downstream.
const MaxCrossbars = 1 << 20

// Chip is a complete hardware description (PIMCOMP-style template). The
// zero value is not valid; start from Preset or Load.
//
// The JSON keys are the names used by Load and Write. Methods that derive
// quantities (ColumnsPerWeight, MVMLatencyNs, ...) are meaningful only for a
// chip that passes Validate.
type Chip struct {
	// Name identifies the chip in reports and error messages.
	Name string `json:"name"`
	// Description is free text (technology, origin of the figures).
	Description string `json:"description,omitempty"`

	// Cores is the number of cores on the chip.
	Cores int `json:"cores"`
	// CrossbarsPerCore is the number of crossbar arrays in one core's matrix unit.
	CrossbarsPerCore int `json:"crossbars_per_core"`
	// CrossbarRows is the number of word lines (inputs) of one crossbar.
	CrossbarRows int `json:"crossbar_rows"`
	// CrossbarCols is the number of bit lines (cell columns) of one crossbar.
	CrossbarCols int `json:"crossbar_cols"`
	// BitsPerCell is the number of weight bits one cell stores.
	BitsPerCell int `json:"bits_per_cell"`
	// WeightBits is the weight precision; a weight spans
	// WeightBits/BitsPerCell adjacent columns.
	WeightBits int `json:"weight_bits"`
	// ActivationBits is the activation (crossbar input) precision.
	ActivationBits int `json:"activation_bits"`

	// ClockHz is the core clock. It times the VFU and the local-memory
	// streaming; every other latency is given directly in ns.
	ClockHz float64 `json:"clock_hz"`

	// DACBits is the resolution of the row drivers: each MVM slice applies
	// DACBits bits of every input (1 = bit-serial).
	DACBits int `json:"dac_bits"`
	// DACEnergyPerConversionPJ is charged once per row per slice.
	DACEnergyPerConversionPJ float64 `json:"dac_energy_per_conversion_pj"`
	// ADCBits is the resolution of the column ADCs.
	ADCBits int `json:"adc_bits"`
	// ADCsPerCrossbar is the number of ADCs shared by one crossbar's columns.
	ADCsPerCrossbar int `json:"adcs_per_crossbar"`
	// ADCLatencyNs is the time of one conversion (one column, one slice).
	ADCLatencyNs float64 `json:"adc_latency_ns"`
	// ADCEnergyPerConversionPJ is charged once per column per slice.
	ADCEnergyPerConversionPJ float64 `json:"adc_energy_per_conversion_pj"`

	// MVMSliceLatencyNs is the analog array time of one input slice (drive
	// the rows, settle, sample the columns), excluding the ADC conversions.
	MVMSliceLatencyNs float64 `json:"mvm_slice_latency_ns"`
	// MVMSliceEnergyPJ is the array energy of one slice of one crossbar
	// (all rows driven, all columns sensed), excluding DACs and ADCs.
	MVMSliceEnergyPJ float64 `json:"mvm_slice_energy_pj"`

	// CrossbarWriteRowLatencyNs is the time to program one crossbar row
	// (all its columns).
	CrossbarWriteRowLatencyNs float64 `json:"crossbar_write_row_latency_ns"`
	// CrossbarWriteEnergyPerCellBitPJ is the energy to program one stored
	// bit (a row write costs CrossbarCols*BitsPerCell of these).
	CrossbarWriteEnergyPerCellBitPJ float64 `json:"crossbar_write_energy_per_cell_bit_pj"`
	// CrossbarWriteParallelRows is how many rows of one crossbar can be
	// programmed at once (normally 1). Different crossbars write in parallel.
	CrossbarWriteParallelRows int `json:"crossbar_write_parallel_rows"`

	// VFULanes is the number of lanes of one core's vector functional unit.
	VFULanes int `json:"vfu_lanes"`
	// VFUOpsPerLanePerCycle is the element operations one lane issues per cycle.
	VFUOpsPerLanePerCycle int `json:"vfu_ops_per_lane_per_cycle"`
	// VFUEnergyPerOpPJ is the dynamic energy of one element operation.
	VFUEnergyPerOpPJ float64 `json:"vfu_energy_per_op_pj"`

	// LocalMemoryBytes is the size of one core's local memory.
	LocalMemoryBytes int `json:"local_memory_bytes"`
	// LocalMemoryAccessWidthBytes is the bytes moved per access (per cycle
	// once an access stream has started).
	LocalMemoryAccessWidthBytes int `json:"local_memory_access_width_bytes"`
	// LocalMemoryReadLatencyNs is the latency of the first read access.
	LocalMemoryReadLatencyNs float64 `json:"local_memory_read_latency_ns"`
	// LocalMemoryWriteLatencyNs is the latency of the first write access.
	LocalMemoryWriteLatencyNs float64 `json:"local_memory_write_latency_ns"`
	// LocalMemoryReadEnergyPerBytePJ is the dynamic energy per byte read.
	LocalMemoryReadEnergyPerBytePJ float64 `json:"local_memory_read_energy_per_byte_pj"`
	// LocalMemoryWriteEnergyPerBytePJ is the dynamic energy per byte written.
	LocalMemoryWriteEnergyPerBytePJ float64 `json:"local_memory_write_energy_per_byte_pj"`

	// BusBandwidthBytesPerS is the bandwidth of the shared on-chip bus that
	// joins the cores and the DRAM controller (one transfer at a time).
	BusBandwidthBytesPerS float64 `json:"bus_bandwidth_bytes_per_s"`
	// BusLatencyNs is the fixed cost of one bus transfer.
	BusLatencyNs float64 `json:"bus_latency_ns"`
	// BusEnergyPerBytePJ is the dynamic energy per byte carried.
	BusEnergyPerBytePJ float64 `json:"bus_energy_per_byte_pj"`

	// CrossbarStaticPowerMW is charged per crossbar for the whole run.
	CrossbarStaticPowerMW float64 `json:"crossbar_static_power_mw"`
	// VFUStaticPowerMW is charged per core (whole VFU) for the whole run.
	VFUStaticPowerMW float64 `json:"vfu_static_power_mw"`
	// LocalMemoryStaticPowerMW is charged per core for the whole run.
	LocalMemoryStaticPowerMW float64 `json:"local_memory_static_power_mw"`
	// ControlStaticPowerMW is charged per core (control unit, instruction
	// memory, register file) for the whole run.
	ControlStaticPowerMW float64 `json:"control_static_power_mw"`

	// DRAM is the external global memory.
	DRAM DRAM `json:"dram"`
}

// DRAM describes the external memory in DRAMsim3 terms: geometry, timings in
// clock cycles of TCKNs, and IDD currents per device (Micron power model).
type DRAM struct {
	// Name identifies the DRAM configuration, e.g. "LPDDR3-1600 8Gb x32".
	Name string `json:"name"`
	// PagePolicy is "open" (rows stay open until a conflict) or "closed".
	PagePolicy string `json:"page_policy"`

	// Channels is the number of independent channels.
	Channels int `json:"channels"`
	// DevicesPerChannel is the number of devices (chips) side by side on one
	// channel's data bus.
	DevicesPerChannel int `json:"devices_per_channel"`
	// DeviceWidthBits is the data width of one device.
	DeviceWidthBits int `json:"device_width_bits"`
	// Banks is the number of banks per device (a power of two).
	Banks int `json:"banks"`
	// RowsPerBank is the number of rows in one bank.
	RowsPerBank int `json:"rows_per_bank"`
	// ColumnsPerRow is the number of columns (DeviceWidthBits each) in a row.
	ColumnsPerRow int `json:"columns_per_row"`
	// BurstLength is the transfers per read or write command (two per tCK).
	BurstLength int `json:"burst_length"`

	// TCKNs is the clock period; the data rate is 2/TCKNs transfers per ns.
	TCKNs float64 `json:"tck_ns"`

	// Timings, in cycles of TCKNs.
	CLCycles    int `json:"cl_cycles"`
	CWLCycles   int `json:"cwl_cycles"`
	TRCDCycles  int `json:"trcd_cycles"`
	TRPCycles   int `json:"trp_cycles"`
	TRASCycles  int `json:"tras_cycles"`
	TRRDCycles  int `json:"trrd_cycles"`
	TFAWCycles  int `json:"tfaw_cycles"`
	TWRCycles   int `json:"twr_cycles"`
	TWTRCycles  int `json:"twtr_cycles"`
	TRTPCycles  int `json:"trtp_cycles"`
	TCCDCycles  int `json:"tccd_cycles"`
	TRFCCycles  int `json:"trfc_cycles"`
	TREFICycles int `json:"trefi_cycles"`

	// VDDV is the supply voltage the IDD currents are drawn from.
	VDDV float64 `json:"vdd_v"`

	// IDD currents of one device, in mA.
	IDD0MA   float64 `json:"idd0_ma"`
	IDD2NMA  float64 `json:"idd2n_ma"`
	IDD3NMA  float64 `json:"idd3n_ma"`
	IDD4RMA  float64 `json:"idd4r_ma"`
	IDD4WMA  float64 `json:"idd4w_ma"`
	IDD5ABMA float64 `json:"idd5ab_ma"`
	IDD6MA   float64 `json:"idd6_ma"`
	IDD2PMA  float64 `json:"idd2p_ma"`
	IDD3PMA  float64 `json:"idd3p_ma"`
}

// ColumnsPerWeight is the number of adjacent cell columns one weight spans:
// WeightBits / BitsPerCell (Validate ensures the division is exact).
func (c *Chip) ColumnsPerWeight() int {
	if c.BitsPerCell <= 0 {
		return 0
	}
	return c.WeightBits / c.BitsPerCell
}

// OutputsPerCrossbar is the number of weights one crossbar row holds, which
// is the number of output values one crossbar MVM produces:
// CrossbarCols / ColumnsPerWeight.
func (c *Chip) OutputsPerCrossbar() int {
	cpw := c.ColumnsPerWeight()
	if cpw <= 0 {
		return 0
	}
	return c.CrossbarCols / cpw
}

// CrossbarsTotal is Cores*CrossbarsPerCore.
func (c *Chip) CrossbarsTotal() int {
	return c.Cores * c.CrossbarsPerCore
}

// WeightCapacityBytes is the weight storage of the whole chip:
// crossbars * rows * cols * bits_per_cell / 8.
func (c *Chip) WeightCapacityBytes() int64 {
	bits := int64(c.Cores) * int64(c.CrossbarsPerCore) * int64(c.CrossbarRows) *
		int64(c.CrossbarCols) * int64(c.BitsPerCell)
	return bits / 8
}

// InputSlices is the number of slices one MVM takes:
// ceil(ActivationBits / DACBits).
func (c *Chip) InputSlices() int {
	if c.DACBits <= 0 {
		return 0
	}
	return (c.ActivationBits + c.DACBits - 1) / c.DACBits
}

// adcSliceNs is the conversion time of one slice: every column converted
// once, ceil(cols / ADCsPerCrossbar) conversions in sequence per ADC.
func (c *Chip) adcSliceNs() float64 {
	if c.ADCsPerCrossbar <= 0 {
		return 0
	}
	conv := (c.CrossbarCols + c.ADCsPerCrossbar - 1) / c.ADCsPerCrossbar
	return float64(conv) * c.ADCLatencyNs
}

// MVMLatencyNs is the time from issuing one crossbar MVM (one input vector,
// all InputSlices slices) to its last column being converted. The array
// step (MVMSliceLatencyNs) and the conversions of a slice form a two-stage
// pipeline: latency = array + adc + (slices-1) * max(array, adc), where
// adc = ceil(CrossbarCols/ADCsPerCrossbar) * ADCLatencyNs. Partial sums of
// the slices are shifted and added inside the crossbar's peripherals at no
// extra time.
func (c *Chip) MVMLatencyNs() float64 {
	s := c.InputSlices()
	if s <= 0 {
		return 0
	}
	a, d := c.MVMSliceLatencyNs, c.adcSliceNs()
	return a + d + float64(s-1)*max(a, d)
}

// MVMIntervalNs is the issue interval of back-to-back MVMs on one crossbar
// (the pipeline keeps streaming slices): InputSlices * max(array, adc).
// A stream of n MVMs on one crossbar therefore takes
// MVMLatencyNs() + (n-1)*MVMIntervalNs().
func (c *Chip) MVMIntervalNs() float64 {
	return float64(c.InputSlices()) * max(c.MVMSliceLatencyNs, c.adcSliceNs())
}

// MVMEnergyPJ is the dynamic energy of one crossbar MVM. Every slice drives
// all rows and converts all columns, however many of them hold weights:
// slices * (MVMSliceEnergyPJ + rows*DACEnergyPerConversionPJ +
// cols*ADCEnergyPerConversionPJ).
func (c *Chip) MVMEnergyPJ() float64 {
	return c.MVMArrayEnergyPJ() + c.MVMADCEnergyPJ()
}

// MVMArrayEnergyPJ is the part of MVMEnergyPJ spent in the array and the
// DACs: slices * (MVMSliceEnergyPJ + rows*DACEnergyPerConversionPJ).
func (c *Chip) MVMArrayEnergyPJ() float64 {
	return float64(c.InputSlices()) * (c.MVMSliceEnergyPJ + float64(c.CrossbarRows)*c.DACEnergyPerConversionPJ)
}

// MVMADCEnergyPJ is the part of MVMEnergyPJ spent in the ADCs:
// slices * cols * ADCEnergyPerConversionPJ.
func (c *Chip) MVMADCEnergyPJ() float64 {
	return float64(c.InputSlices()) * float64(c.CrossbarCols) * c.ADCEnergyPerConversionPJ
}

// CrossbarWriteNs is the time to program rows rows of one crossbar:
// ceil(rows / CrossbarWriteParallelRows) * CrossbarWriteRowLatencyNs.
// It is 0 for rows <= 0.
func (c *Chip) CrossbarWriteNs(rows int) float64 {
	if rows <= 0 || c.CrossbarWriteParallelRows <= 0 {
		return 0
	}
	steps := (rows + c.CrossbarWriteParallelRows - 1) / c.CrossbarWriteParallelRows
	return float64(steps) * c.CrossbarWriteRowLatencyNs
}

// CrossbarWriteEnergyPJ is the energy to program rows full rows of one
// crossbar: rows * CrossbarCols * BitsPerCell * CrossbarWriteEnergyPerCellBitPJ.
// It is 0 for rows <= 0.
func (c *Chip) CrossbarWriteEnergyPJ(rows int) float64 {
	if rows <= 0 {
		return 0
	}
	return float64(rows) * float64(c.CrossbarCols) * float64(c.BitsPerCell) *
		c.CrossbarWriteEnergyPerCellBitPJ
}

// cycleNs is one clock period in ns.
func (c *Chip) cycleNs() float64 { return 1e9 / c.ClockHz }

// VFUNs is the time one core's VFU takes for ops element operations:
// ceil(ops / (VFULanes*VFUOpsPerLanePerCycle)) clock cycles. It is 0 for
// ops <= 0.
func (c *Chip) VFUNs(ops int64) float64 {
	per := int64(c.VFULanes) * int64(c.VFUOpsPerLanePerCycle)
	if ops <= 0 || per <= 0 {
		return 0
	}
	return float64((ops+per-1)/per) * c.cycleNs()
}

// streamNs is latency + (ceil(bytes/width)-1) cycles.
func (c *Chip) streamNs(bytes int64, latency float64) float64 {
	w := int64(c.LocalMemoryAccessWidthBytes)
	if bytes <= 0 || w <= 0 {
		return 0
	}
	return latency + float64((bytes+w-1)/w-1)*c.cycleNs()
}

// LocalMemoryReadNs is the time to read bytes bytes from a core's local
// memory: the first access takes LocalMemoryReadLatencyNs, each further
// LocalMemoryAccessWidthBytes-wide access one clock cycle. It is 0 for
// bytes <= 0.
func (c *Chip) LocalMemoryReadNs(bytes int64) float64 {
	return c.streamNs(bytes, c.LocalMemoryReadLatencyNs)
}

// LocalMemoryWriteNs is LocalMemoryReadNs for writes
// (LocalMemoryWriteLatencyNs for the first access).
func (c *Chip) LocalMemoryWriteNs(bytes int64) float64 {
	return c.streamNs(bytes, c.LocalMemoryWriteLatencyNs)
}

// BusTransferNs is the time of one bus transfer of bytes bytes:
// BusLatencyNs + bytes / BusBandwidthBytesPerS. It is 0 for bytes <= 0.
func (c *Chip) BusTransferNs(bytes int64) float64 {
	if bytes <= 0 {
		return 0
	}
	return c.BusLatencyNs + float64(bytes)/c.BusBandwidthBytesPerS*1e9
}

// StaticPowerMW is the power charged for the whole run, every unit busy or
// not: Cores * (VFU + local memory + control + CrossbarsPerCore * crossbar
// static power). DRAM background power is separate (see DRAM).
func (c *Chip) StaticPowerMW() float64 {
	perCore := c.VFUStaticPowerMW + c.LocalMemoryStaticPowerMW + c.ControlStaticPowerMW +
		float64(c.CrossbarsPerCore)*c.CrossbarStaticPowerMW
	return float64(c.Cores) * perCore
}

// PeakPowerMW is the chip power with every crossbar running MVMs back to
// back: StaticPowerMW + CrossbarsTotal * MVMEnergyPJ / MVMIntervalNs
// (pJ/ns = mW). VFU, memory, bus and DRAM activity are not included. This
// is the quantity the COMPASS paper lists as chip power.
func (c *Chip) PeakPowerMW() float64 {
	p := c.StaticPowerMW()
	if iv := c.MVMIntervalNs(); iv > 0 {
		p += float64(c.CrossbarsTotal()) * c.MVMEnergyPJ() / iv
	}
	return p
}

// PeakBandwidthBytesPerS is the peak data rate of all channels:
// Channels * DevicesPerChannel * DeviceWidthBits/8 bytes per transfer, two
// transfers per TCKNs.
func (d *DRAM) PeakBandwidthBytesPerS() float64 {
	if d.TCKNs <= 0 {
		return 0
	}
	bytesPerTCK := float64(d.Channels) * float64(d.DevicesPerChannel) * float64(d.DeviceWidthBits) / 8 * 2
	return bytesPerTCK * 1e9 / d.TCKNs
}

// BurstBytes is the data one read or write command moves on one channel:
// DevicesPerChannel * DeviceWidthBits/8 * BurstLength.
func (d *DRAM) BurstBytes() int {
	return d.DevicesPerChannel * d.DeviceWidthBits * d.BurstLength / 8
}

// RowBytes is the size of one row (page) across the devices of a channel:
// DevicesPerChannel * ColumnsPerRow * DeviceWidthBits/8.
func (d *DRAM) RowBytes() int {
	return d.DevicesPerChannel * d.ColumnsPerRow * d.DeviceWidthBits / 8 // whole bytes: Validate
}

// CapacityBytes is the total DRAM capacity of all channels.
func (d *DRAM) CapacityBytes() int64 {
	return int64(d.Channels) * int64(d.Banks) * int64(d.RowsPerBank) * int64(d.RowBytes())
}

// devs is the number of devices one command drives (one channel).
func (d *DRAM) devs() float64 { return float64(d.DevicesPerChannel) }

// ActivateEnergyPJ is the energy of one ACTIVATE+PRECHARGE pair on one
// channel (Micron model, as in DRAMsim3):
// VDD * (IDD0*tRC - (IDD3N*tRAS + IDD2N*tRP)) * devices, tRC = tRAS + tRP.
// (mA * V * ns = pJ.)
func (d *DRAM) ActivateEnergyPJ() float64 {
	tras := float64(d.TRASCycles) * d.TCKNs
	trp := float64(d.TRPCycles) * d.TCKNs
	return d.VDDV * (d.IDD0MA*(tras+trp) - (d.IDD3NMA*tras + d.IDD2NMA*trp)) * d.devs()
}

// burstNs is the data time of one burst: BurstLength/2 cycles.
func (d *DRAM) burstNs() float64 { return float64(d.BurstLength) / 2 * d.TCKNs }

// ReadBurstEnergyPJ is the energy of one read burst on one channel, above
// active standby: VDD * (IDD4R - IDD3N) * BL/2 * tCK * devices.
func (d *DRAM) ReadBurstEnergyPJ() float64 {
	return d.VDDV * (d.IDD4RMA - d.IDD3NMA) * d.burstNs() * d.devs()
}

// WriteBurstEnergyPJ is the energy of one write burst on one channel, above
// active standby: VDD * (IDD4W - IDD3N) * BL/2 * tCK * devices.
func (d *DRAM) WriteBurstEnergyPJ() float64 {
	return d.VDDV * (d.IDD4WMA - d.IDD3NMA) * d.burstNs() * d.devs()
}

// RefreshEnergyPJ is the energy of one all-bank refresh on one channel,
// above active standby: VDD * (IDD5AB - IDD3N) * tRFC * devices. One is due
// every TREFICycles.
func (d *DRAM) RefreshEnergyPJ() float64 {
	return d.VDDV * (d.IDD5ABMA - d.IDD3NMA) * float64(d.TRFCCycles) * d.TCKNs * d.devs()
}

// ActiveStandbyPowerMW is the background power of one channel while any
// bank is open: VDD * IDD3N * devices.
func (d *DRAM) ActiveStandbyPowerMW() float64 {
	return d.VDDV * d.IDD3NMA * d.devs()
}

// PrechargeStandbyPowerMW is the background power of one channel while all
// banks are closed: VDD * IDD2N * devices.
func (d *DRAM) PrechargeStandbyPowerMW() float64 {
	return d.VDDV * d.IDD2NMA * d.devs()
}
