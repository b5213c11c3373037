package reproduce

import (
	"context"
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/parallel"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

// The paper's grid: its three networks on chips S, M, L (in that order in
// a family) at batches 1, 2, 4, 8, 16, and the methods of its figures.
var (
	networks = []string{"vgg16", "resnet18", "squeezenet1_1"}
	batches  = []int{1, 2, 4, 8, 16}
	methods  = []string{methodGreedy, methodLayerwise, methodCompass}
)

// Method names as the paper's figures use them: compass is the paper's
// GA with its published settings (partition.PaperGAOptions).
const (
	methodGreedy    = "greedy"
	methodLayerwise = "layerwise"
	methodCompass   = "compass"
)

// Options are the settings of a measurement.
type Options struct {
	Seed    uint64 // the GA's seed
	Workers int    // parallel configurations; 0 = GOMAXPROCS. Results do not depend on it.
	// BeforeMap, if set, may refuse a network on a chip before it is
	// mapped (the API's limits); BeforeSearch a mapping before any search.
	BeforeMap    func(g *model.Graph, chip *hw.Chip) error
	BeforeSearch func(m *mapping.Mapping, batch int) error
	// Progress, if set, is called after each configuration (network,
	// chip, objective) with the count done and the total.
	Progress func(done, total int)
	// LatencyOnly skips the EDP-objective runs (the fitter needs only the
	// latency grid and the energy curve).
	LatencyOnly bool
	// Pipeline is the pipeline mode every plan is costed in (the
	// per-input pipeline by default).
	Pipeline estimate.Pipeline
}

// run is one method's plan on one configuration.
type run struct {
	totals partition.Totals
	spans  []*estimate.Span
}

// config is one network on one chip at one batch under one objective,
// with a run per method in methods order.
type config struct {
	model string
	chip  int // index into the family
	batch int
	obj   partition.Objective
	runs  [3]run
	// mapping is the network on the chip (shared by the job's configurations).
	mapping *mapping.Mapping
}

// grid holds every configuration a Result is computed from.
type grid struct {
	chips   []*hw.Chip
	latency []config // networks x chips x batches, in that order
	edp     []config // ResNet18 on the family's first chip (S) x batches
}

// of is one network's latency configurations, chip by chip, batch by
// batch.
func (g *grid) of(model string) []*config {
	var out []*config
	for i := range g.latency {
		if g.latency[i].model == model {
			out = append(out, &g.latency[i])
		}
	}
	return out
}

// at is one latency configuration, or nil.
func (g *grid) at(model string, chip, batch int) *config {
	for i := range g.latency {
		c := &g.latency[i]
		if c.model == model && c.chip == chip && c.batch == batch {
			return c
		}
	}
	return nil
}

// job is the configurations of one network on one chip under one
// objective: they share a mapping, so one goroutine runs them.
type job struct {
	model string
	chip  int
	obj   partition.Objective
	out   []*config
}

// measure runs the grid on a family of three chips (S, M, L).
func measure(ctx context.Context, chips []*hw.Chip, opt Options) (*grid, error) {
	if len(chips) != 3 {
		return nil, fmt.Errorf("a chip family is three chips (S, M, L), got %d", len(chips))
	}
	gr := &grid{chips: chips}
	for _, m := range networks {
		for ci := range chips {
			for _, b := range batches {
				gr.latency = append(gr.latency, config{model: m, chip: ci, batch: b, obj: partition.Latency})
			}
		}
	}
	if !opt.LatencyOnly {
		for _, b := range batches {
			gr.edp = append(gr.edp, config{model: "resnet18", chip: 0, batch: b, obj: partition.EDP})
		}
	}
	var jobs []job
	for i := 0; i < len(gr.latency); i += len(batches) {
		j := job{model: gr.latency[i].model, chip: gr.latency[i].chip, obj: partition.Latency}
		for k := range batches {
			j.out = append(j.out, &gr.latency[i+k])
		}
		jobs = append(jobs, j)
	}
	if len(gr.edp) > 0 {
		j := job{model: "resnet18", chip: 0, obj: partition.EDP}
		for k := range gr.edp {
			j.out = append(j.out, &gr.edp[k])
		}
		jobs = append(jobs, j)
	}
	graphs := map[string]*model.Graph{}
	for _, name := range networks {
		g, err := zoo.Build(name)
		if err != nil {
			return nil, err
		}
		graphs[name] = g
	}
	err := parallel.Run(ctx, len(jobs), opt.Workers, func(i int) error {
		j := jobs[i]
		if err := runJob(ctx, graphs[j.model], chips[j.chip], j, opt); err != nil {
			return fmt.Errorf("%s on %s: %w", j.model, chips[j.chip].Name, err)
		}
		return nil
	}, opt.Progress)
	if err != nil {
		return nil, err
	}
	return gr, nil
}

// runJob maps one network on one chip and plans every batch of the job
// with every method.
func runJob(ctx context.Context, g *model.Graph, chip *hw.Chip, j job, opt Options) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if opt.BeforeMap != nil {
		if err := opt.BeforeMap(g, chip); err != nil {
			return err
		}
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		return err
	}
	for _, c := range j.out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if opt.BeforeSearch != nil {
			if err := opt.BeforeSearch(m, c.batch); err != nil {
				return err
			}
		}
		c.mapping = m
		est, err := estimate.NewPipeline(m, c.batch, opt.Pipeline)
		if err != nil {
			return err
		}
		plans := [3]partition.Plan{partition.Greedy(est), partition.Layerwise(est)}
		ga, err := partition.GA(ctx, est, c.obj, partition.PaperGAOptions(opt.Seed))
		if err != nil {
			return err
		}
		plans[2] = ga.Plan
		for k, p := range plans {
			tot, spans, err := partition.Evaluate(est, p)
			if err != nil {
				return fmt.Errorf("%s plan at batch %d: %w", methods[k], c.batch, err)
			}
			if !(tot.TimeNs > 0) || math.IsInf(tot.TimeNs, 0) || !(tot.EnergyPJ > 0) || math.IsInf(tot.EnergyPJ, 0) {
				return fmt.Errorf("%s plan at batch %d: time %v ns, energy %v pJ: not finite and positive", methods[k], c.batch, tot.TimeNs, tot.EnergyPJ)
			}
			c.runs[k] = run{totals: tot, spans: spans}
		}
	}
	return nil
}
