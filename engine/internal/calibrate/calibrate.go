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
// GA (a fixed seed). At each conversion time the energy scale is chosen on
// a fine log grid without re-planning, which is exact: latency plans do
// not depend on energy, and the MVM energy is linear in the scale.
package calibrate

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/reproduce"
)

// space is the search space, in log2 of multiples of the sourced figure
// (ISAAC's ADC at 1.2 GS/s for the conversion time, the D1 derivation for
// the energy; docs/hardware.md): each range, its grid step and, for the
// time, the golden-section steps that refine the best grid point.
type space struct {
	timeLow, timeHigh, timeStep       float64
	timeRefine                        int
	energyLow, energyHigh, energyStep float64
}

// searchSpace is the fit's: conversion times from 0.5x to 16x the
// sourced one (6 grid points, 12 more in the refinement), energy scales
// from 1/256x to 4x in steps of 2^(1/64) (every scale is cheap: no plan
// changes with it).
var searchSpace = space{
	timeLow: -1, timeHigh: 4, timeStep: 1, timeRefine: 10,
	energyLow: -8, energyHigh: 2, energyStep: 1.0 / 64,
}

// GridRuns is the most latency grids a fit plans: one per grid point and
// per golden-section evaluation (two, then one a step).
func GridRuns() int {
	return int(math.Round((searchSpace.timeHigh-searchSpace.timeLow)/searchSpace.timeStep)) + 1 + 2 + searchSpace.timeRefine
}

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
// closest: the loss is the sum of the targets' squared distances. Of
// figs it reads only the figures of role "fit" (the held-out ones are
// dropped before anything is computed); opt.Seed seeds the GA.
func Fit(ctx context.Context, figs []reproduce.PaperFigure, opt reproduce.Options) (*Result, error) {
	return fit(ctx, figs, opt, searchSpace)
}

func fit(ctx context.Context, figs []reproduce.PaperFigure, opt reproduce.Options, sp space) (*Result, error) {
	targets := reproduce.WithRole(figs, reproduce.RoleFit)
	if len(targets) == 0 {
		return nil, fmt.Errorf("calibrate: no figure of role %q to fit", reproduce.RoleFit)
	}
	opt.LatencyOnly = true
	base, err := sourcedFamily()
	if err != nil {
		return nil, err
	}
	t0 := base[0].ADCLatencyNs
	f := &fitter{ctx: ctx, targets: targets, opt: opt, base: base, sp: sp, memo: map[float64]evaluation{}}
	// Grid over log2(time / sourced time).
	best := math.Inf(1)
	bestX := 0.0
	for x := sp.timeLow; x <= sp.timeHigh+1e-9; x += sp.timeStep {
		ev, err := f.at(t0 * math.Exp2(x))
		if err != nil {
			return nil, err
		}
		if ev.loss < best {
			best, bestX = ev.loss, x
		}
	}
	// Golden section between the best point's neighbours.
	lo, hi := bestX-sp.timeStep, bestX+sp.timeStep
	if _, err := golden(lo, hi, sp.timeRefine, func(x float64) (float64, error) {
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
	sp      space
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
	// Every scale of a fine grid (cheap: nothing is re-planned); of the
	// run of grid points with the least loss (a flat run when every energy
	// target lies inside its range) the middle one.
	n := int(math.Round((f.sp.energyHigh-f.sp.energyLow)/f.sp.energyStep)) + 1
	losses := make([]float64, n)
	best := math.Inf(1)
	for i := range losses {
		l, err := loss(math.Exp2(f.sp.energyLow + float64(i)*f.sp.energyStep))
		if err != nil {
			return evaluation{}, err
		}
		losses[i] = l
		best = min(best, l)
	}
	first := slices.IndexFunc(losses, func(l float64) bool { return l <= best })
	last := first
	for last+1 < n && losses[last+1] <= best {
		last++
	}
	s := math.Exp2(f.sp.energyLow + float64((first+last)/2)*f.sp.energyStep)
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
// every curve point, and the MVM part of each chip's peak power, is s
// times larger.
func scaled(r *reproduce.Result, targets []reproduce.PaperFigure, s float64) ([]reproduce.Figure, error) {
	c := *r
	c.Replacement = make([]reproduce.ReplacementPoint, len(r.Replacement))
	for i, p := range r.Replacement {
		p.MVMJ *= s
		p.Ratio = p.ReplacementJ / p.MVMJ
		p.WithMVM = 1 + p.Ratio
		c.Replacement[i] = p
	}
	c.ChipPower = make([]reproduce.ChipPower, len(r.ChipPower))
	for i, p := range r.ChipPower {
		p.MVMMW *= s
		p.PeakMW = p.StaticMW + p.MVMMW
		c.ChipPower[i] = p
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
// number of steps and returns the best point it evaluated (with steps < 0
// it evaluates nothing).
func golden(lo, hi float64, steps int, f func(float64) (float64, error)) (float64, error) {
	const r = 0.6180339887498949 // (sqrt(5) - 1) / 2
	a, b := lo, hi
	c, d := b-r*(b-a), a+r*(b-a)
	if steps < 0 {
		return (lo + hi) / 2, nil
	}
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
