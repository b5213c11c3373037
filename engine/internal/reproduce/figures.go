// Package reproduce computes the COMPASS paper's published figures with
// this project's engine for a family of chips S, M, L (the sourced presets
// or the paper-fitted ones) and sets each beside the paper's value, read
// from paper-figures.json: the per-network throughput ratios, ResNet18 on
// chip M at batch 16 (two ratios and greedy's first-partition share), the
// EDP gains and energy ordering on chip S, the weight-replacement / MVM
// energy curve and the throughput figure's axis ranges. Each figure is a
// fit target or held out; the fitter (engine/internal/calibrate) reads
// only the fit targets.
package reproduce

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

// Roles of a published figure.
const (
	RoleFit     = "fit"      // a target of the paper-fitted chip family
	RoleHeldOut = "held-out" // never read by the fit; measures it
)

// PaperFigure is one figure the paper publishes: a single value (Low ==
// High), a range, or a bound (High nil: only "above Low").
type PaperFigure struct {
	ID      string   `json:"id"`
	Role    string   `json:"role"`
	Unit    string   `json:"unit"`
	Low     float64  `json:"low"`
	High    *float64 `json:"high,omitempty"`
	Title   string   `json:"title"`
	Where   string   `json:"where"`   // where in the paper
	Reading string   `json:"reading"` // how this project computes its figure
}

// Distance is |ln(ours / paper)| for a single value, and |ln(ours /
// nearest bound)| outside a range or bound (0 inside). A figure that is
// not positive is infinitely far.
func (f *PaperFigure) Distance(ours float64) float64 {
	if !(ours > 0) || math.IsInf(ours, 0) {
		return math.Inf(1)
	}
	if ours < f.Low {
		return math.Log(f.Low / ours)
	}
	if f.High != nil && ours > *f.High {
		return math.Log(ours / *f.High)
	}
	return 0
}

// PaperText is the paper's figure as text: "1.80", "3.6-4.0", "> 1".
func (f *PaperFigure) PaperText() string {
	switch {
	case f.High == nil:
		return "> " + trim(f.Low)
	case *f.High == f.Low:
		return trim(f.Low)
	}
	return trim(f.Low) + "-" + trim(*f.High)
}

func trim(v float64) string { return fmt.Sprintf("%g", v) }

//go:embed paper-figures.json
var paperFiguresJSON []byte

// PaperFiguresJSON returns the embedded list of the paper's figures.
func PaperFiguresJSON() []byte { return bytes.Clone(paperFiguresJSON) }

// PaperFigures returns the paper's published figures, in file order.
func PaperFigures() []PaperFigure {
	figs, err := ParseFigures(paperFiguresJSON)
	if err != nil {
		panic("reproduce: the embedded paper-figures.json is broken: " + err.Error())
	}
	return figs
}

// ParseFigures reads a figure list in the format of paper-figures.json
// and checks it: unique ids, a known role, low <= high and, for an id
// this package computes, nothing missing.
func ParseFigures(data []byte) ([]PaperFigure, error) {
	var doc struct {
		Figures []PaperFigure `json:"figures"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("paper figures: %w", err)
	}
	seen := map[string]bool{}
	for i, f := range doc.Figures {
		switch {
		case f.ID == "":
			return nil, fmt.Errorf("paper figures: figure %d has no id", i)
		case seen[f.ID]:
			return nil, fmt.Errorf("paper figures: id %q appears twice", f.ID)
		case f.Role != RoleFit && f.Role != RoleHeldOut:
			return nil, fmt.Errorf("paper figures: %s: role %q is neither %q nor %q", f.ID, f.Role, RoleFit, RoleHeldOut)
		case !(f.Low > 0) || math.IsInf(f.Low, 0) || (f.High != nil && !(*f.High >= f.Low && !math.IsInf(*f.High, 0))):
			return nil, fmt.Errorf("paper figures: %s: low %v, high %v: need 0 < low <= high, both finite", f.ID, f.Low, f.High)
		}
		if _, ok := figureKinds[f.ID]; !ok {
			return nil, fmt.Errorf("paper figures: %s: no such figure is computed (known: see reproduce.figureKinds)", f.ID)
		}
		seen[f.ID] = true
	}
	return doc.Figures, nil
}

// WithRole returns the figures of one role, in order.
func WithRole(figs []PaperFigure, role string) []PaperFigure {
	var out []PaperFigure
	for _, f := range figs {
		if f.Role == role {
			out = append(out, f)
		}
	}
	return out
}

// Networks are the paper's three networks, in the order of its figures.
func Networks() []string { return append([]string(nil), networks...) }

// ThroughputFigureID is the id of the paper's mean compass / baseline
// throughput figure for one network (baseline "greedy" or "layerwise").
func ThroughputFigureID(model, baseline string) string {
	return "throughput-" + model + "-vs-" + baseline
}

// MeanThroughputFigureID is the id of the paper's mean of compass over
// both baselines and the three networks.
const MeanThroughputFigureID = "throughput-mean-vs-baselines"

// Find returns the figure of figs with the id, or nil.
func Find(figs []PaperFigure, id string) *PaperFigure {
	for i := range figs {
		if figs[i].ID == id {
			return &figs[i]
		}
	}
	return nil
}
