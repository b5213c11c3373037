package hw

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

// FitParams are the figures the COMPASS paper does not publish, fitted to
// a declared subset of its published results by engine/internal/calibrate
// (`compass calibrate`): the ADC conversion time (MVM timing) and the MVM
// energy, the latter as one scale on the array and ADC energies of the
// sourced chips (their split kept). The chips S-fit, M-fit and L-fit are
// S, M and L with these figures replaced; every other figure stays
// sourced (docs/hardware.md, "The paper-fitted family").
type FitParams struct {
	GeneratedBy string `json:"generated_by"`
	// ADCLatencyNs replaces adc_latency_ns (one ADC per crossbar, as sourced).
	ADCLatencyNs float64 `json:"adc_latency_ns"`
	// MVMEnergyScale multiplies mvm_slice_energy_pj and
	// adc_energy_per_conversion_pj of the sourced chips.
	MVMEnergyScale float64 `json:"mvm_energy_scale"`
	// FitLoss is the fit's objective at these figures: the sum over the
	// fit targets of their squared distances (|ln(ours / paper)|).
	FitLoss float64 `json:"fit_loss"`
}

// FittedCommand is the command that writes fitted.json.
const FittedCommand = "go run ./cmd/compass calibrate --out engine/hw/fitted.json"

//go:embed fitted.json
var fittedJSON []byte

// FittedJSON returns the committed fit (engine/hw/fitted.json).
func FittedJSON() []byte { return bytes.Clone(fittedJSON) }

// Fitted returns the committed fit's figures.
func Fitted() (FitParams, error) {
	var p FitParams
	dec := json.NewDecoder(bytes.NewReader(fittedJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("engine/hw/fitted.json: %w (regenerate it with %s)", err, FittedCommand)
	}
	if !(p.ADCLatencyNs > 0) || !(p.MVMEnergyScale > 0) || math.IsInf(p.ADCLatencyNs, 0) || math.IsInf(p.MVMEnergyScale, 0) {
		return p, fmt.Errorf("engine/hw/fitted.json: adc_latency_ns = %v, mvm_energy_scale = %v: both must be finite and positive (regenerate it with %s)",
			p.ADCLatencyNs, p.MVMEnergyScale, FittedCommand)
	}
	return p, nil
}

// JSON is the fit as fitted.json holds it (indented, one trailing newline).
func (p FitParams) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil { // only finite floats and strings: cannot fail
		panic(err)
	}
	return append(b, '\n')
}

// Apply returns a copy of a sourced SRAM chip with the fitted figures,
// named name+"-fit".
func (p FitParams) Apply(c *Chip) *Chip {
	f := *c
	f.Name = c.Name + "-fit"
	f.Description = c.Description + "; paper-fitted MVM timing and energy (" + FittedCommand + ")"
	f.ADCLatencyNs = p.ADCLatencyNs
	f.MVMSliceEnergyPJ = c.MVMSliceEnergyPJ * p.MVMEnergyScale
	f.ADCEnergyPerConversionPJ = c.ADCEnergyPerConversionPJ * p.MVMEnergyScale
	return &f
}

// fittedChip is a sourced SRAM chip with the committed fit applied.
func fittedChip(name string, cores, xbarsPerCore int) (*Chip, error) {
	p, err := Fitted()
	if err != nil {
		return nil, err
	}
	return p.Apply(sramChip(name, cores, xbarsPerCore)), nil
}
