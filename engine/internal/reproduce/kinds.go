package reproduce

import "fmt"

// figureKinds computes this project's value of each published figure
// from a Result's detail, by figure id.
var figureKinds = map[string]func(*Result) (float64, error){
	"replacement-mvm-b1":  curveAt(1),
	"replacement-mvm-b2":  curveAt(2),
	"replacement-mvm-b4":  curveAt(4),
	"replacement-mvm-b8":  curveAt(8),
	"replacement-mvm-b16": curveAt(16),

	"axis-vgg16":         network("vgg16", func(n *NetworkThroughput) float64 { return n.Tallest }),
	"axis-resnet18":      network("resnet18", func(n *NetworkThroughput) float64 { return n.Tallest }),
	"axis-squeezenet1_1": network("squeezenet1_1", func(n *NetworkThroughput) float64 { return n.Tallest }),

	"greedy-first-share-resnet18-M-16": breakdown(func(b []MethodBreakdown) float64 { return b[0].FirstShare }),

	"throughput-vgg16-vs-greedy":            network("vgg16", func(n *NetworkThroughput) float64 { return n.VsGreedy }),
	"throughput-vgg16-vs-layerwise":         network("vgg16", func(n *NetworkThroughput) float64 { return n.VsLayerwise }),
	"throughput-resnet18-vs-greedy":         network("resnet18", func(n *NetworkThroughput) float64 { return n.VsGreedy }),
	"throughput-resnet18-vs-layerwise":      network("resnet18", func(n *NetworkThroughput) float64 { return n.VsLayerwise }),
	"throughput-squeezenet1_1-vs-greedy":    network("squeezenet1_1", func(n *NetworkThroughput) float64 { return n.VsGreedy }),
	"throughput-squeezenet1_1-vs-layerwise": network("squeezenet1_1", func(n *NetworkThroughput) float64 { return n.VsLayerwise }),

	"resnet18-M-16-vs-greedy":    breakdown(func(b []MethodBreakdown) float64 { return b[2].ThroughputPerS / b[0].ThroughputPerS }),
	"resnet18-M-16-vs-layerwise": breakdown(func(b []MethodBreakdown) float64 { return b[2].ThroughputPerS / b[1].ThroughputPerS }),

	"edp-resnet18-S-vs-greedy":              edp(func(p EDPPoint) float64 { return p.Greedy.EDPJS / p.Compass.EDPJS }),
	"edp-resnet18-S-vs-layerwise":           edp(func(p EDPPoint) float64 { return p.Layerwise.EDPJS / p.Compass.EDPJS }),
	"energy-resnet18-S-compass-over-greedy": edp(func(p EDPPoint) float64 { return p.Compass.EnergyPerInferenceJ / p.Greedy.EnergyPerInferenceJ }),

	MeanThroughputFigureID: meanVsBaselines,

	"chip-power-S": chipPower(0),
	"chip-power-M": chipPower(1),
	"chip-power-L": chipPower(2),
}

// meanVsBaselines is the mean of the per-network compass / greedy and
// compass / layerwise ratios.
func meanVsBaselines(r *Result) (float64, error) {
	if len(r.Throughput) != len(networks) {
		return 0, fmt.Errorf("throughput figures for %d networks, want %d", len(r.Throughput), len(networks))
	}
	var v []float64
	for _, n := range r.Throughput {
		v = append(v, n.VsGreedy, n.VsLayerwise)
	}
	return mean(v), nil
}

// chipPower is the peak power of the family's i-th chip (S, M, L).
func chipPower(i int) func(*Result) (float64, error) {
	return func(r *Result) (float64, error) {
		if i >= len(r.ChipPower) {
			return 0, fmt.Errorf("no chip power for the family's chip %d", i)
		}
		return r.ChipPower[i].PeakMW, nil
	}
}

// curveAt is the mean over chips of (replacement + MVM) / MVM at batch b.
func curveAt(b int) func(*Result) (float64, error) {
	return func(r *Result) (float64, error) {
		var v []float64
		for _, p := range r.Replacement {
			if p.Batch == b {
				v = append(v, p.WithMVM)
			}
		}
		if len(v) == 0 {
			return 0, fmt.Errorf("no replacement curve point at batch %d", b)
		}
		return mean(v), nil
	}
}

func network(model string, f func(*NetworkThroughput) float64) func(*Result) (float64, error) {
	return func(r *Result) (float64, error) {
		for i := range r.Throughput {
			if r.Throughput[i].Model == model {
				return f(&r.Throughput[i]), nil
			}
		}
		return 0, fmt.Errorf("no throughput figures for %s", model)
	}
}

func breakdown(f func([]MethodBreakdown) float64) func(*Result) (float64, error) {
	return func(r *Result) (float64, error) {
		if len(r.Breakdown) != len(methods) {
			return 0, fmt.Errorf("no ResNet18-M-16 breakdown")
		}
		return f(r.Breakdown), nil
	}
}

// edp is the mean over batches of f on ResNet18 on chip S, EDP objective.
func edp(f func(EDPPoint) float64) func(*Result) (float64, error) {
	return func(r *Result) (float64, error) {
		if len(r.EDP) == 0 {
			return 0, fmt.Errorf("no EDP runs (the measurement was latency only)")
		}
		var v []float64
		for _, p := range r.EDP {
			v = append(v, f(p))
		}
		return mean(v), nil
	}
}
