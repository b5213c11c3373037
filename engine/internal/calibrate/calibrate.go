// Package calibrate fits the figures the COMPASS paper does not publish,
// the ADC conversion time (MVM timing) and the MVM energy, to the fit
// targets among its published figures (reproduce.PaperFigures with role
// "fit"), giving the paper-fitted chips S-fit, M-fit and L-fit
// (engine/hw/fitted.json). It reads only the targets it is given; the
// held-out figures measure the fit and never enter it.
//
// The search is deterministic: a log-spaced grid over the conversion time
// and a golden-section refinement around the best grid point, each point
// the paper's latency grid planned with greedy, layerwise and the paper's
// GA (a fixed seed); at each conversion time the energy scale is solved
// the same way in one dimension, exactly, because latency plans do not
// depend on energy and the MVM energy is linear in the scale.
package calibrate

import (
	"context"
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/reproduce"
)

// The search space, in multiples of the sourced figure (ISAAC's ADC at
// 1.2 GS/s for the conversion time, the D1 derivation for the energy;
// docs/hardware.md).
const (
	timeGridLowLog2  = -1.0 // 0.5x the sourced conversion time
	timeGridHighLog2 = 4.0  // 16x
	timeGridStepLog2 = 1.0
	timeRefineSteps  = 6

	energyGridLowLog2  = -8.0
	energyGridHighLog2 = 2.0
	energyGridStepLog2 = 0.25
	energyRefineSteps  = 40
)

// Step is one conversion time the search evaluated.
type Step struct {
	ADCLatencyNs   float64 `json:"adc_latency_ns"`
	MVMEnergyScale float64 `json:"mvm_energy_scale"` // the best scale at this time
	Loss           float64 `json:"loss"`
}

// Result is a fit: the fitted figures, the fit targets at them, and the
// search's steps in the order evaluated.
type Result struct {
	Params  hw.FitParams       `json:"params"`
	Targets []reproduce.Figure `json:"targets"`
	Steps   []Step             `json:"steps"`
}

// Fit searches the free figures that bring the paper's fit targets
// closest: the loss is the sum of the targets' squared distances. targets
// must all have role "fit"; opt.Seed seeds the GA.
func Fit(ctx context.Context, targets []reproduce.PaperFigure, opt reproduce.Options) (*Result, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("calibrate: no fit targets")
	}
	for _, f := range targets {
		if f.Role != reproduce.RoleFit {
			return nil, fmt.Errorf("calibrate: figure %s has role %q: the fit reads only figures of role %q", f.ID, f.Role, reproduce.RoleFit)
		}
	}
	opt.LatencyOnly = true
	base, err := sourcedFamily()
	if err != nil {
		return nil, err
	}
	t0 := base[0].ADCLatencyNs
	f := &fitter{ctx: ctx, targets: targets, opt: opt, base: base, memo: map[float64]evaluation{}}
	// Grid over log2(time / sourced time).
	best := math.Inf(1)
	bestX := 0.0
	for x := timeGridLowLog2; x <= timeGridHighLog2+1e-9; x += timeGridStepLog2 {
		ev, err := f.at(t0 * math.Exp2(x))
		if err != nil {
			return nil, err
		}
		if ev.loss < best {
			best, bestX = ev.loss, x
		}
	}
	// Golden section between the best point's neighbours.
	lo, hi := bestX-timeGridStepLog2, bestX+timeGridStepLog2
	if _, err := golden(lo, hi, timeRefineSteps, func(x float64) (float64, error) {
		ev, err := f.at(t0 * math.Exp2(x))
		return ev.loss, err
	}); err != nil {
		return nil, err
	}
	// The best point evaluated (grid or refinement), first on ties.
	var win evaluation
	win.loss = math.Inf(1)
	for _, s := range f.steps {
		if ev := f.memo[s.ADCLatencyNs]; ev.loss < win.loss {
			win = ev
		}
	}
	res := &Result{Steps: f.steps, Targets: win.figures,
		Params: hw.FitParams{GeneratedBy: hw.FittedCommand, ADCLatencyNs: win.time, MVMEnergyScale: win.scale, FitLoss: win.loss}}
	return res, nil
}

// sourcedFamily is the sourced S, M, L.
func sourcedFamily() ([]*hw.Chip, error) {
	var out []*hw.Chip
	for _, n := range []string{"S", "M", "L"} {
		c, err := hw.Preset(n)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// evaluation is the best fit at one conversion time.
type evaluation struct {
	time, scale, loss float64
	figures           []reproduce.Figure
}

type fitter struct {
	ctx     context.Context
	targets []reproduce.PaperFigure
	opt     reproduce.Options
	base    []*hw.Chip
	memo    map[float64]evaluation
	steps   []Step
}

// at measures the grid with the conversion time t and solves the energy
// scale there.
func (f *fitter) at(t float64) (evaluation, error) {
	if ev, ok := f.memo[t]; ok {
		return ev, nil
	}
	chips := make([]*hw.Chip, len(f.base))
	for i, c := range f.base {
		chips[i] = hw.FitParams{ADCLatencyNs: t, MVMEnergyScale: 1}.Apply(c)
	}
	r, err := reproduce.Run(f.ctx, "fit", chips, f.targets, f.opt)
	if err != nil {
		return evaluation{}, err
	}
	loss := func(s float64) (float64, error) {
		figs, err := scaled(r, f.targets, s)
		if err != nil {
			return 0, err
		}
		return lossOf(figs), nil
	}
	best, bestX := math.Inf(1), 0.0
	for x := energyGridLowLog2; x <= energyGridHighLog2+1e-9; x += energyGridStepLog2 {
		l, err := loss(math.Exp2(x))
		if err != nil {
			return evaluation{}, err
		}
		if l < best {
			best, bestX = l, x
		}
	}
	x, err := golden(bestX-energyGridStepLog2, bestX+energyGridStepLog2, energyRefineSteps, func(x float64) (float64, error) { return loss(math.Exp2(x)) })
	if err != nil {
		return evaluation{}, err
	}
	s := math.Exp2(x)
	if l, _ := loss(s); l > best { // the grid point was better
		s = math.Exp2(bestX)
	}
	figs, err := scaled(r, f.targets, s)
	if err != nil {
		return evaluation{}, err
	}
	ev := evaluation{time: t, scale: s, loss: lossOf(figs), figures: figs}
	f.memo[t] = ev
	f.steps = append(f.steps, Step{ADCLatencyNs: t, MVMEnergyScale: s, Loss: ev.loss})
	return ev, nil
}

// scaled is r's figures with the MVM energy scaled by s: the plans, the
// replacement energy and the throughput do not change; the MVM energy of
// every curve point is s times larger.
func scaled(r *reproduce.Result, targets []reproduce.PaperFigure, s float64) ([]reproduce.Figure, error) {
	c := *r
	c.Replacement = make([]reproduce.ReplacementPoint, len(r.Replacement))
	for i, p := range r.Replacement {
		p.MVMJ *= s
		p.Ratio = p.ReplacementJ / p.MVMJ
		p.WithMVM = 1 + p.Ratio
		c.Replacement[i] = p
	}
	if err := c.Refigure(targets); err != nil {
		return nil, err
	}
	return c.Figures, nil
}

func lossOf(figs []reproduce.Figure) float64 {
	l := 0.0
	for _, f := range figs {
		l += f.Distance * f.Distance
	}
	return l
}

// golden minimises f over [lo, hi] by golden-section search with a fixed
// number of steps and returns the best point it evaluated.
func golden(lo, hi float64, steps int, f func(float64) (float64, error)) (float64, error) {
	const r = 0.6180339887498949 // (sqrt(5) - 1) / 2
	a, b := lo, hi
	c, d := b-r*(b-a), a+r*(b-a)
	fc, err := f(c)
	if err != nil {
		return 0, err
	}
	fd, err := f(d)
	if err != nil {
		return 0, err
	}
	for i := 0; i < steps; i++ {
		if fc <= fd {
			b, d, fd = d, c, fc
			c = b - r*(b-a)
			if fc, err = f(c); err != nil {
				return 0, err
			}
		} else {
			a, c, fc = c, d, fd
			d = a + r*(b-a)
			if fd, err = f(d); err != nil {
				return 0, err
			}
		}
	}
	if fc <= fd {
		return c, nil
	}
	return d, nil
}
