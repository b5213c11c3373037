// Package energy holds the energy breakdown by chip component
// (Breakdown): the estimator predicts one per partition, the simulator
// measures one per run, and the facade reports both in joules.
package energy

// Breakdown is an energy breakdown in picojoules.
type Breakdown struct {
	MVM         float64 `json:"mvm"`          // crossbar arrays and DACs
	ADC         float64 `json:"adc"`          // analog-to-digital conversions
	VFU         float64 `json:"vfu"`          // vector functional units
	LocalMemory float64 `json:"local_memory"` // core local memories
	Bus         float64 `json:"bus"`          // on-chip bus
	DRAM        float64 `json:"dram"`         // external memory (bursts, activates, background, refresh)
	Write       float64 `json:"write"`        // crossbar programming
	Static      float64 `json:"static"`       // chip static power x time
}

// Total sums the components.
func (e Breakdown) Total() float64 {
	return e.MVM + e.ADC + e.VFU + e.LocalMemory + e.Bus + e.DRAM + e.Write + e.Static
}

// Add accumulates o into e.
func (e *Breakdown) Add(o Breakdown) {
	e.MVM += o.MVM
	e.ADC += o.ADC
	e.VFU += o.VFU
	e.LocalMemory += o.LocalMemory
	e.Bus += o.Bus
	e.DRAM += o.DRAM
	e.Write += o.Write
	e.Static += o.Static
}
