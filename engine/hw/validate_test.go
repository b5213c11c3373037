package hw

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestValidateRejects mutates a valid preset in one way per case and checks
// that Validate reports exactly one error that names the chip, the field and
// the bad value.
func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		preset string
		mutate func(c *Chip)
		want   string
	}{
		{"no name", "M", func(c *Chip) { c.Name = " " }, `name = " ": must be a non-empty string`},
		{"zero cores", "M", func(c *Chip) { c.Cores = 0 }, `chip "M": cores = 0: must be a positive integer (at least 1)`},
		{"negative crossbars", "M", func(c *Chip) { c.CrossbarsPerCore = -1 }, "crossbars_per_core = -1: must be a positive integer"},
		{"huge cores", "M", func(c *Chip) { c.Cores = math.MaxInt }, fmt.Sprintf("cores = %d: must be an integer in 1..1048576", math.MaxInt)},
		{"too many crossbars", "M", func(c *Chip) { c.Cores, c.CrossbarsPerCore = 32768, 64 },
			"cores * crossbars_per_core = 32768 * 64 = 2097152 crossbars: must be at most 1048576"},
		{"too many crossbars a core", "M", func(c *Chip) { c.CrossbarsPerCore = 65 }, "crossbars_per_core = 65: must be an integer in 1..64"},
		{"zero rows", "M", func(c *Chip) { c.CrossbarRows = 0 }, "crossbar_rows = 0: must be a positive integer"},
		{"huge cols", "M", func(c *Chip) { c.CrossbarCols = 8192 }, "crossbar_cols = 8192: must be an integer in 1..4096"},
		{"cols not whole weights", "ReRAM", func(c *Chip) { c.CrossbarCols = 126 },
			"crossbar_cols = 126 is not a multiple of weight_bits/bits_per_cell = 4"},
		{"bits per cell 9", "M", func(c *Chip) { c.BitsPerCell = 9 }, "bits_per_cell = 9: must be an integer in 1..8"},
		{"weight bits not multiple", "M", func(c *Chip) { c.BitsPerCell, c.WeightBits = 4, 6 },
			"weight_bits = 6 is not a multiple of bits_per_cell = 4"},
		{"weight bits 32", "M", func(c *Chip) { c.WeightBits = 32 }, "weight_bits = 32: must be an integer in 1..16"},
		{"activation bits 0", "M", func(c *Chip) { c.ActivationBits = 0 }, "activation_bits = 0: must be a positive integer"},
		{"clock NaN", "M", func(c *Chip) { c.ClockHz = math.NaN() }, "clock_hz = NaN: must be a number from 1000 to 1e+11 Hz (the physical range"},
		{"clock Inf", "M", func(c *Chip) { c.ClockHz = math.Inf(1) }, "clock_hz = +Inf: must be a number from"},
		{"dac bits 0", "M", func(c *Chip) { c.DACBits = 0 }, "dac_bits = 0: must be a positive integer"},
		{"dac wider than input", "M", func(c *Chip) { c.DACBits = 8 }, "dac_bits = 8 exceeds activation_bits = 4"},
		{"dac energy negative", "ReRAM", func(c *Chip) { c.DACEnergyPerConversionPJ = -0.1 }, "dac_energy_per_conversion_pj = -0.1: must be 0 (not charged) or a number up to 1000 pJ"},
		{"adc bits 17", "M", func(c *Chip) { c.ADCBits = 17 }, "adc_bits = 17: must be an integer in 1..16"},
		{"no adcs", "M", func(c *Chip) { c.ADCsPerCrossbar = 0 }, "adcs_per_crossbar = 0: must be a positive integer"},
		{"adcs beyond columns", "M", func(c *Chip) { c.ADCsPerCrossbar = 300 }, "adcs_per_crossbar = 300 exceeds crossbar_cols = 256"},
		{"adc latency 0", "M", func(c *Chip) { c.ADCLatencyNs = 0 }, "adc_latency_ns = 0: must be a number from 0.001 to 1e+06 ns"},
		{"adc energy negative", "M", func(c *Chip) { c.ADCEnergyPerConversionPJ = -0.5 }, "adc_energy_per_conversion_pj = -0.5: must be 0 (not charged) or a number up to 1000 pJ"},
		{"slice latency negative", "M", func(c *Chip) { c.MVMSliceLatencyNs = -1 }, "mvm_slice_latency_ns = -1: must be a number from 0.001 to 1e+06 ns"},
		{"slice energy 0", "M", func(c *Chip) { c.MVMSliceEnergyPJ = 0 }, "mvm_slice_energy_pj = 0: must be a number from 0.001 to 1e+06 pJ"},
		{"slice energy NaN", "L", func(c *Chip) { c.MVMSliceEnergyPJ = math.NaN() }, `chip "L": mvm_slice_energy_pj = NaN`},
		{"write latency 0", "M", func(c *Chip) { c.CrossbarWriteRowLatencyNs = 0 }, "crossbar_write_row_latency_ns = 0: must be"},
		{"write energy 0", "M", func(c *Chip) { c.CrossbarWriteEnergyPerCellBitPJ = 0 }, "crossbar_write_energy_per_cell_bit_pj = 0: must be a number from 1e-06 to 10000 pJ"},
		{"parallel rows beyond rows", "M", func(c *Chip) { c.CrossbarWriteParallelRows = 257 }, "crossbar_write_parallel_rows = 257: must be an integer in 1..256"},
		{"no vfu lanes", "M", func(c *Chip) { c.VFULanes = 0 }, "vfu_lanes = 0: must be a positive integer"},
		{"vfu ops 0", "M", func(c *Chip) { c.VFUOpsPerLanePerCycle = 0 }, "vfu_ops_per_lane_per_cycle = 0"},
		{"vfu energy NaN", "M", func(c *Chip) { c.VFUEnergyPerOpPJ = math.NaN() }, "vfu_energy_per_op_pj = NaN: must be 0 (not charged) or a number up to 1000 pJ"},
		{"no local memory", "M", func(c *Chip) { c.LocalMemoryBytes = 0 }, "local_memory_bytes = 0: must be a positive integer"},
		{"access wider than memory", "M", func(c *Chip) { c.LocalMemoryBytes = 16 }, "local_memory_access_width_bytes = 32: must be an integer in 1..16"},
		{"local read latency Inf", "M", func(c *Chip) { c.LocalMemoryReadLatencyNs = math.Inf(1) }, "local_memory_read_latency_ns = +Inf"},
		{"local write energy negative", "M", func(c *Chip) { c.LocalMemoryWriteEnergyPerBytePJ = -1 }, "local_memory_write_energy_per_byte_pj = -1"},
		{"no bus bandwidth", "M", func(c *Chip) { c.BusBandwidthBytesPerS = 0 }, "bus_bandwidth_bytes_per_s = 0: must be a number from 1000 to 1e+14 bytes/s"},
		{"bus latency -Inf", "M", func(c *Chip) { c.BusLatencyNs = math.Inf(-1) }, "bus_latency_ns = -Inf"},
		{"crossbar static negative", "M", func(c *Chip) { c.CrossbarStaticPowerMW = -2 }, "crossbar_static_power_mw = -2: must be 0 (not charged) or a number up to 10000 mW"},
		{"control static NaN", "M", func(c *Chip) { c.ControlStaticPowerMW = math.NaN() }, "control_static_power_mw = NaN"},
		{"dram banks 6", "M", func(c *Chip) { c.DRAM.Banks = 6 }, "dram.banks = 6: must be a power of two in 1..256"},
		{"dram banks 0", "M", func(c *Chip) { c.DRAM.Banks = 0 }, "dram.banks = 0: must be a power of two"},
		{"dram burst 3", "M", func(c *Chip) { c.DRAM.BurstLength = 3 }, "dram.burst_length = 3: must be a power of two in 2..64"},
		{"dram width 0", "M", func(c *Chip) { c.DRAM.DeviceWidthBits = 0 }, "dram.device_width_bits = 0"},
		{"dram no channels", "M", func(c *Chip) { c.DRAM.Channels = 0 }, "dram.channels = 0: must be a positive integer"},
		{"dram tRCD 0", "M", func(c *Chip) { c.DRAM.TRCDCycles = 0 }, "dram.trcd_cycles = 0: must be a positive integer"},
		{"dram tFAW negative", "M", func(c *Chip) { c.DRAM.TFAWCycles = -40 }, "dram.tfaw_cycles = -40"},
		{"dram refresh too often", "M", func(c *Chip) { c.DRAM.TREFICycles = 100 }, "dram.trefi_cycles = 100 is not above dram.trfc_cycles = 168"},
		{"dram tCK 0", "M", func(c *Chip) { c.DRAM.TCKNs = 0 }, "dram.tck_ns = 0: must be a number from 0.1 to 20 ns"},
		{"dram VDD negative", "M", func(c *Chip) { c.DRAM.VDDV = -1.2 }, "dram.vdd_v = -1.2: must be a number from 0.3 to 5 V"},
		{"dram IDD4R negative", "M", func(c *Chip) { c.DRAM.IDD4RMA = -5 }, "dram.idd4r_ma = -5: must be 0 (not charged) or a number up to 10000 mA"},
		{"dram IDD6 NaN", "M", func(c *Chip) { c.DRAM.IDD6MA = math.NaN() }, "dram.idd6_ma = NaN"},
		{"dram IDD4W below IDD3N", "M", func(c *Chip) { c.DRAM.IDD4WMA = 10 }, "dram.idd4w_ma = 10 is below dram.idd3n_ma = 21"},
		{"dram IDD0 too low", "M", func(c *Chip) { c.DRAM.IDD0MA = 1 }, "dram.idd0_ma = 1 is too low"},
		{"dram page policy", "M", func(c *Chip) { c.DRAM.PagePolicy = "lazy" }, `dram.page_policy = "lazy": must be "open" or "closed"`},
		{"clock below a kHz", "M", func(c *Chip) { c.ClockHz = 1e-6 }, "clock_hz = 1e-06: must be a number from 1000 to 1e+11 Hz"},
		{"clock above 100 GHz", "M", func(c *Chip) { c.ClockHz = 1e12 }, "clock_hz = 1e+12: must be a number from"},
		{"bus bandwidth 1e-300", "M", func(c *Chip) { c.BusBandwidthBytesPerS = 1e-300 }, "bus_bandwidth_bytes_per_s = 1e-300"},
		{"adc latency 1e308", "M", func(c *Chip) { c.ADCLatencyNs = 1e308 }, "adc_latency_ns = 1e+308: must be a number from 0.001 to 1e+06 ns"},
		{"slice energy 1e308", "M", func(c *Chip) { c.MVMSliceEnergyPJ = 1e308 }, "mvm_slice_energy_pj = 1e+308"},
		{"vfu energy 1e308", "M", func(c *Chip) { c.VFUEnergyPerOpPJ = 1e308 }, "vfu_energy_per_op_pj = 1e+308"},
		{"dram tCK 1e-15", "M", func(c *Chip) { c.DRAM.TCKNs = 1e-15 }, "dram.tck_ns = 1e-15: must be a number from 0.1 to 20 ns"},
		{"dram IDD0 1e12", "M", func(c *Chip) { c.DRAM.IDD0MA = 1e12 }, "dram.idd0_ma = 1e+12: must be 0 (not charged) or a number up to 10000 mA"},
		{"dram tREFI beyond JEDEC", "M", func(c *Chip) { c.DRAM.TREFICycles = 1 << 21 }, "dram.trefi_cycles = 2097152: must be an integer in 1..1048576"},
		{"dram width 2", "M", func(c *Chip) { c.DRAM.DeviceWidthBits = 2 }, "dram.device_width_bits = 2: must be a power of two in 4..128"},
		{"dram bus not whole bytes", "M", func(c *Chip) { c.DRAM.DeviceWidthBits, c.DRAM.DevicesPerChannel = 4, 1 },
			"dram.devices_per_channel * dram.device_width_bits = 1 * 4 = 4 bits is not a whole number of bytes"},
		{"dram burst beyond row", "M", func(c *Chip) { c.DRAM.ColumnsPerRow = 4 }, "dram.columns_per_row = 4 is below dram.burst_length = 8"},
		{"dram no name", "M", func(c *Chip) { c.DRAM.Name = "" }, `dram.name = "": must be a non-empty string`},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		if prev, dup := seen[tc.want]; dup {
			t.Errorf("cases %q and %q expect the same message %q", prev, tc.name, tc.want)
		}
		seen[tc.want] = tc.name
		t.Run(tc.name, func(t *testing.T) {
			c := mustPreset(t, tc.preset)
			tc.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate accepted the chip; want an error containing %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error\n  %s\ndoes not contain\n  %s", msg, tc.want)
			}
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("want exactly one error, got %d:\n%s", n, msg)
			}
			if !strings.HasPrefix(msg, fmt.Sprintf("chip %q: ", c.Name)) {
				t.Errorf("error does not start with the chip name: %s", msg)
			}
		})
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
}

// TestValidateJoinsAll checks that several problems are all reported.
func TestValidateJoinsAll(t *testing.T) {
	c := mustPreset(t, "S")
	c.Cores = 0
	c.ClockHz = -1
	c.DRAM.Banks = 3
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted three errors")
	}
	for _, want := range []string{"cores = 0", "clock_hz = -1", "dram.banks = 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("joined error lacks %q:\n%v", want, err)
		}
	}
}

func TestValidateZeroChipAndNil(t *testing.T) {
	var c Chip
	err := c.Validate()
	if err == nil {
		t.Fatal("zero chip validated")
	}
	for _, want := range []string{"cores = 0", "clock_hz = 0", "dram.tck_ns = 0", "dram.banks = 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("zero-chip error lacks %q", want)
		}
	}
	var nilChip *Chip
	if nilChip.Validate() == nil {
		t.Error("nil chip validated")
	}
}

// TestValidateAllowsZeroWhereMeaningful: energies and static powers may be 0.
func TestValidateAllowsZeroWhereMeaningful(t *testing.T) {
	c := mustPreset(t, "M")
	c.DACEnergyPerConversionPJ = 0
	c.ADCEnergyPerConversionPJ = 0
	c.VFUEnergyPerOpPJ = 0
	c.LocalMemoryReadEnergyPerBytePJ = 0
	c.LocalMemoryWriteEnergyPerBytePJ = 0
	c.BusEnergyPerBytePJ = 0
	c.CrossbarStaticPowerMW = 0
	c.VFUStaticPowerMW = 0
	c.LocalMemoryStaticPowerMW = 0
	c.ControlStaticPowerMW = 0
	c.DRAM.IDD6MA = 0
	if err := c.Validate(); err != nil {
		t.Fatalf("zero energies rejected: %v", err)
	}
}
