package hw

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// near reports whether a and b agree to a relative 1e-12.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

func mustPreset(t *testing.T, name string) *Chip {
	t.Helper()
	c, err := Preset(name)
	if err != nil {
		t.Fatalf("Preset(%q): %v", name, err)
	}
	return c
}

func TestPresetNamesOrder(t *testing.T) {
	want := []string{"S", "M", "L", "ReRAM", "S-fit", "M-fit", "L-fit"}
	if got := PresetNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("PresetNames() = %v, want %v", got, want)
	}
}

func TestPresetsValidate(t *testing.T) {
	for _, n := range PresetNames() {
		c := mustPreset(t, n)
		if c.Name != n {
			t.Errorf("Preset(%q).Name = %q", n, c.Name)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s does not validate:\n%v", n, err)
		}
	}
}

func TestPresetCaseInsensitiveAndFresh(t *testing.T) {
	for _, spell := range []string{"s", "S", " m ", "l", "reram", "RERAM"} {
		c, err := Preset(spell)
		if err != nil {
			t.Fatalf("Preset(%q): %v", spell, err)
		}
		if !strings.EqualFold(c.Name, strings.TrimSpace(spell)) {
			t.Errorf("Preset(%q).Name = %q", spell, c.Name)
		}
	}
	a := mustPreset(t, "M")
	a.Cores = 99
	a.DRAM.Banks = 2
	b := mustPreset(t, "M")
	if b.Cores != 16 || b.DRAM.Banks != 8 {
		t.Fatalf("Preset shares state between calls: got cores %d, banks %d", b.Cores, b.DRAM.Banks)
	}
}

func TestUnknownPresetListsNames(t *testing.T) {
	_, err := Preset("XL")
	if err == nil {
		t.Fatal("Preset(XL) succeeded")
	}
	for _, want := range []string{`"XL"`, "S, M, L, ReRAM"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestTableICapacities checks the weight capacities of COMPASS Table I.
func TestTableICapacities(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cores, xbars int
		mib          float64 // paper, Table I
	}{
		{"S", 16, 9, 1.125},
		{"M", 16, 16, 2.0},
		{"L", 36, 16, 4.5},
	} {
		c := mustPreset(t, tc.name)
		if c.Cores != tc.cores || c.CrossbarsPerCore != tc.xbars {
			t.Errorf("%s: %d cores x %d crossbars, paper has %d x %d", tc.name, c.Cores, c.CrossbarsPerCore, tc.cores, tc.xbars)
		}
		if c.CrossbarRows != 256 || c.CrossbarCols != 256 || c.BitsPerCell != 1 || c.WeightBits != 4 || c.ActivationBits != 4 {
			t.Errorf("%s: not 256x256 1-bit cells with 4-bit weights/activations: %+v", tc.name, c)
		}
		want := int64(tc.cores) * int64(tc.xbars) * 256 * 256 / 8
		got := c.WeightCapacityBytes()
		if got != want {
			t.Errorf("%s: WeightCapacityBytes = %d, want %d", tc.name, got, want)
		}
		if target := int64(tc.mib * (1 << 20)); got != target {
			t.Errorf("%s: capacity %d bytes = %.4f MiB, paper says %.4g MiB", tc.name, got, float64(got)/(1<<20), tc.mib)
		}
		if c.CrossbarsTotal() != tc.cores*tc.xbars {
			t.Errorf("%s: CrossbarsTotal = %d", tc.name, c.CrossbarsTotal())
		}
		// One crossbar: 256 rows x 64 four-bit weights = 8 KiB.
		if c.ColumnsPerWeight() != 4 || c.OutputsPerCrossbar() != 64 {
			t.Errorf("%s: ColumnsPerWeight %d, OutputsPerCrossbar %d", tc.name, c.ColumnsPerWeight(), c.OutputsPerCrossbar())
		}
	}
}

func TestReRAMPreset(t *testing.T) {
	c := mustPreset(t, "ReRAM")
	if c.CrossbarRows != 128 || c.CrossbarCols != 128 || c.BitsPerCell != 2 {
		t.Fatalf("ReRAM is not 128x128 2-bit: %dx%d %d-bit", c.CrossbarRows, c.CrossbarCols, c.BitsPerCell)
	}
	if c.ColumnsPerWeight() != c.WeightBits/2 {
		t.Errorf("ColumnsPerWeight = %d", c.ColumnsPerWeight())
	}
	// PUMA: a whole 128x128 crossbar write is about 11 us and 21 nJ.
	if got := c.CrossbarWriteNs(128); !near(got, 11000) {
		t.Errorf("whole-crossbar write = %v ns, want 11000", got)
	}
	if got := c.CrossbarWriteEnergyPJ(128); !near(got, 21000) {
		t.Errorf("whole-crossbar write energy = %v pJ, want 21000", got)
	}
	// Writes must be far costlier than on the SRAM chips.
	m := mustPreset(t, "M")
	if c.CrossbarWriteEnergyPerCellBitPJ < 100*m.CrossbarWriteEnergyPerCellBitPJ ||
		c.CrossbarWriteRowLatencyNs <= m.CrossbarWriteRowLatencyNs {
		t.Errorf("ReRAM writes are not slower and costlier than SRAM writes")
	}
	if c.MVMSliceLatencyNs != 100 {
		t.Errorf("ReRAM slice latency %v, want PUMA's 100 ns", c.MVMSliceLatencyNs)
	}
}

func TestDRAMPeakBandwidth(t *testing.T) {
	for _, n := range PresetNames() {
		d := mustPreset(t, n).DRAM
		// Computed here from the fields: bytes per transfer, two transfers per tCK.
		fromFields := float64(d.Channels*d.DevicesPerChannel*d.DeviceWidthBits/8) * 2 / (d.TCKNs * 1e-9)
		if !near(fromFields, 12.8e9) {
			t.Errorf("%s: fields give %v B/s, want 12.8e9 (LPDDR3-1600 x64)", n, fromFields)
		}
		if got := d.PeakBandwidthBytesPerS(); !near(got, 12.8e9) {
			t.Errorf("%s: PeakBandwidthBytesPerS = %v, want 12.8e9", n, got)
		}
		if d.BurstBytes() != 64 {
			t.Errorf("%s: BurstBytes = %d, want 64", n, d.BurstBytes())
		}
		// Two 8 Gb devices: 2 GiB.
		if d.CapacityBytes() != 2<<30 {
			t.Errorf("%s: CapacityBytes = %d, want 2 GiB", n, d.CapacityBytes())
		}
	}
}

func TestDRAMEnergies(t *testing.T) {
	d := mustPreset(t, "M").DRAM
	// Micron model by hand, two devices, mA*V*ns = pJ.
	read := 1.2 * (250 - 21) * (8.0 / 2 * 1.25) * 2
	write := 1.2 * (245 - 21) * (8.0 / 2 * 1.25) * 2
	act := 1.2 * (40*(34+15)*1.25 - (21*34*1.25 + 20.5*15*1.25)) * 2
	ref := 1.2 * (150 - 21) * 168 * 1.25 * 2
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"ReadBurstEnergyPJ", d.ReadBurstEnergyPJ(), read},
		{"WriteBurstEnergyPJ", d.WriteBurstEnergyPJ(), write},
		{"ActivateEnergyPJ", d.ActivateEnergyPJ(), act},
		{"RefreshEnergyPJ", d.RefreshEnergyPJ(), ref},
		{"ActiveStandbyPowerMW", d.ActiveStandbyPowerMW(), 1.2 * 21 * 2},
		{"PrechargeStandbyPowerMW", d.PrechargeStandbyPowerMW(), 1.2 * 20.5 * 2},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// About 5.4 pJ per bit read, the LPDDR range (above HBM2's 3.9 pJ/bit).
	if perBit := d.ReadBurstEnergyPJ() / float64(d.BurstBytes()*8); perBit < 4 || perBit > 7 {
		t.Errorf("read energy %v pJ/bit is out of the LPDDR3 range", perBit)
	}
}

func TestMVMModel(t *testing.T) {
	c := mustPreset(t, "S")
	if c.InputSlices() != 4 {
		t.Fatalf("InputSlices = %d, want 4 (4-bit activations, 1-bit DACs)", c.InputSlices())
	}
	adc := 256 * (1 / 1.2) // 256 columns through one ADC at 1.2 GS/s
	wantLat := 7 + adc + 3*adc
	if got := c.MVMLatencyNs(); !near(got, wantLat) {
		t.Errorf("MVMLatencyNs = %v, want %v", got, wantLat)
	}
	if got := c.MVMIntervalNs(); !near(got, 4*adc) {
		t.Errorf("MVMIntervalNs = %v, want %v", got, 4*adc)
	}
	wantE := 4 * (c.MVMSliceEnergyPJ + 256*c.ADCEnergyPerConversionPJ)
	if got := c.MVMEnergyPJ(); !near(got, wantE) {
		t.Errorf("MVMEnergyPJ = %v, want %v", got, wantE)
	}

	// Array-bound case: one ADC per column makes conversions faster than the array.
	c.ADCsPerCrossbar = 256
	conv := 1 / 1.2
	if got, want := c.MVMLatencyNs(), 7+conv+3*7; !near(got, want) {
		t.Errorf("array-bound MVMLatencyNs = %v, want %v", got, want)
	}
	if got := c.MVMIntervalNs(); !near(got, 28) {
		t.Errorf("array-bound MVMIntervalNs = %v, want 28", got)
	}

	// Multi-bit DACs cut the slice count: ceil(4/3) = 2.
	c.DACBits = 3
	if c.InputSlices() != 2 {
		t.Errorf("InputSlices with 3-bit DACs = %d, want 2", c.InputSlices())
	}

	r := mustPreset(t, "ReRAM")
	if r.InputSlices() != r.ActivationBits {
		t.Errorf("ReRAM InputSlices = %d, want %d", r.InputSlices(), r.ActivationBits)
	}
	wantR := 8 * (30 + 128*0.417 + 128*1.67)
	if got := r.MVMEnergyPJ(); !near(got, wantR) {
		t.Errorf("ReRAM MVMEnergyPJ = %v, want %v", got, wantR)
	}
}

// TestChipPower checks the derivation of the per-crossbar compute energy:
// with every crossbar busy, chips M and L draw the paper's 2.80 W and
// 6.30 W; chip S, with the same per-crossbar figure, draws 1.9166 W rather
// than the paper's 1.57 W (see docs/hardware.md).
func TestChipPower(t *testing.T) {
	for _, tc := range []struct {
		name string
		mw   float64
	}{
		{"M", 2800},
		{"L", 6300},
		{"S", 16 * (48.8 + 9*7.8875)},
	} {
		if got := mustPreset(t, tc.name).PeakPowerMW(); math.Abs(got-tc.mw) > 1e-6 {
			t.Errorf("%s: PeakPowerMW = %v, want %v", tc.name, got, tc.mw)
		}
	}
	if got := mustPreset(t, "M").StaticPowerMW(); !near(got, 16*48.8) {
		t.Errorf("M: StaticPowerMW = %v, want %v", got, 16*48.8)
	}
}

func TestTransferHelpers(t *testing.T) {
	c := mustPreset(t, "M")
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"VFUNs(0)", c.VFUNs(0), 0},
		{"VFUNs(12)", c.VFUNs(12), 1},
		{"VFUNs(25)", c.VFUNs(25), 3},
		{"LocalMemoryReadNs(0)", c.LocalMemoryReadNs(0), 0},
		{"LocalMemoryReadNs(1)", c.LocalMemoryReadNs(1), 20},
		{"LocalMemoryReadNs(64)", c.LocalMemoryReadNs(64), 21},
		{"LocalMemoryWriteNs(96)", c.LocalMemoryWriteNs(96), 32},
		{"BusTransferNs(0)", c.BusTransferNs(0), 0},
		{"BusTransferNs(32000)", c.BusTransferNs(32000), 1001},
		{"CrossbarWriteNs(256)", c.CrossbarWriteNs(256), 2560},
		{"CrossbarWriteEnergyPJ(1)", c.CrossbarWriteEnergyPJ(1), 256 * 0.0016},
	} {
		if !near(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	c.CrossbarWriteParallelRows = 4
	if got := c.CrossbarWriteNs(10); !near(got, 30) {
		t.Errorf("CrossbarWriteNs(10) with 4 parallel rows = %v, want 30", got)
	}
}

// TestDerivedOnInvalidChip makes sure the helpers do not panic on a zero chip.
func TestDerivedOnInvalidChip(t *testing.T) {
	var c Chip
	_ = c.ColumnsPerWeight() + c.OutputsPerCrossbar() + c.CrossbarsTotal() + c.InputSlices()
	_ = c.WeightCapacityBytes()
	_ = c.MVMLatencyNs() + c.MVMIntervalNs() + c.MVMEnergyPJ() + c.PeakPowerMW()
	_ = c.CrossbarWriteNs(3) + c.VFUNs(3) + c.LocalMemoryReadNs(3)
	_ = c.DRAM.PeakBandwidthBytesPerS()
}

// The fitted chips are the sourced S, M, L with only the MVM timing and
// energy replaced: every other field, the DRAM included, is the same.
func TestFittedChipsDifferOnlyInFreeFigures(t *testing.T) {
	p, err := Fitted()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"S", "M", "L"} {
		src, fit := mustPreset(t, n), mustPreset(t, n+"-fit")
		if fit.ADCLatencyNs != p.ADCLatencyNs {
			t.Errorf("%s-fit: adc_latency_ns = %v, fitted.json has %v", n, fit.ADCLatencyNs, p.ADCLatencyNs)
		}
		if !near(fit.MVMSliceEnergyPJ, src.MVMSliceEnergyPJ*p.MVMEnergyScale) ||
			!near(fit.ADCEnergyPerConversionPJ, src.ADCEnergyPerConversionPJ*p.MVMEnergyScale) {
			t.Errorf("%s-fit: MVM energies %v, %v are not the sourced %v, %v scaled by %v", n,
				fit.MVMSliceEnergyPJ, fit.ADCEnergyPerConversionPJ, src.MVMSliceEnergyPJ, src.ADCEnergyPerConversionPJ, p.MVMEnergyScale)
		}
		// Put the free figures back: the rest must be identical.
		back := *fit
		back.Name, back.Description = src.Name, src.Description
		back.ADCLatencyNs, back.MVMSliceEnergyPJ, back.ADCEnergyPerConversionPJ = src.ADCLatencyNs, src.MVMSliceEnergyPJ, src.ADCEnergyPerConversionPJ
		if !reflect.DeepEqual(&back, src) {
			t.Errorf("%s-fit differs from %s in more than the fitted figures", n, n)
		}
	}
	if got := p.JSON(); !bytes.Equal(got, FittedJSON()) {
		t.Errorf("fitted.json is not in its canonical form (FitParams.JSON):\n%s\nwant\n%s", FittedJSON(), got)
	}
}

// docs/hardware.md describes the fit as an MVM "about four and a half times slower
// and about ten times cheaper" than the sourced one; a refit that moves
// far from that must update the doc.
func TestFittedFiguresAsDocumented(t *testing.T) {
	p, err := Fitted()
	if err != nil {
		t.Fatal(err)
	}
	m := mustPreset(t, "M")
	fit := mustPreset(t, "M-fit")
	if slower := fit.MVMIntervalNs() / m.MVMIntervalNs(); slower < 3 || slower > 5 {
		t.Errorf("the fitted MVM is %.2fx slower than the sourced one; docs/hardware.md says about four and a half times", slower)
	}
	if cheaper := m.MVMEnergyPJ() / fit.MVMEnergyPJ(); cheaper < 8 || cheaper > 12 || !near(cheaper, 1/p.MVMEnergyScale) {
		t.Errorf("the fitted MVM is %.2fx cheaper than the sourced one; docs/hardware.md says about ten times", cheaper)
	}
}
