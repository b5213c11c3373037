package main

import (
	"flag"
	"fmt"

	"github.com/compass-go/compass/engine/api"
)

// limitFlag is one of api.Limits' fields as a command-line flag. The flag
// names are the ones the engine's *LimitError messages name.
type limitFlag struct {
	name, usage string
	def         func(api.Limits) int64
	set         func(*api.Limits, int64)
}

var limitFlagTable = []limitFlag{
	{"max-nodes", "refuse a model graph with more IR nodes",
		func(l api.Limits) int64 { return int64(l.MaxNodes) }, func(l *api.Limits, v int64) { l.MaxNodes = int(v) }},
	{"max-units", "refuse a model that maps onto more partition units",
		func(l api.Limits) int64 { return int64(l.MaxUnits) }, func(l *api.Limits, v int64) { l.MaxUnits = int(v) }},
	{"max-spans", "refuse a search that would cost more valid spans (the cut graph's edges)",
		func(l api.Limits) int64 { return l.MaxSpans }, func(l *api.Limits, v int64) { l.MaxSpans = v }},
	{"max-ga-plan-cuts", "refuse a GA whose population would hold more cuts at once (population x units)",
		func(l api.Limits) int64 { return l.MaxGAPlanCuts }, func(l *api.Limits, v int64) { l.MaxGAPlanCuts = v }},
	{"max-ga-work", "refuse a GA that would draw more cuts (population x generations x units)",
		func(l api.Limits) int64 { return l.MaxGAWork }, func(l *api.Limits, v int64) { l.MaxGAWork = v }},
	{"max-sweep-rows", "refuse a sweep of more configurations (models x chips x batches)",
		func(l api.Limits) int64 { return int64(l.MaxSweepRows) }, func(l *api.Limits, v int64) { l.MaxSweepRows = int(v) }},
	{"max-refine", "refuse an optimal-sim that would schedule and simulate more plans (--refine)",
		func(l api.Limits) int64 { return int64(l.MaxRefine) }, func(l *api.Limits, v int64) { l.MaxRefine = int(v) }},
	{"max-sim-events", "refuse a simulation that would process more events (instructions executed for the batch)",
		func(l api.Limits) int64 { return l.MaxSimEvents }, func(l *api.Limits, v int64) { l.MaxSimEvents = v }},
	{"max-sim-dram-bursts", "refuse a simulation whose DRAM transfers would take more bursts (bytes over the burst size, for the batch)",
		func(l api.Limits) int64 { return l.MaxSimDRAMBursts }, func(l *api.Limits, v int64) { l.MaxSimDRAMBursts = v }},
	{"max-trace-bytes", "cut the --trace timeline short beyond this many bytes in memory (32 a busy interval)",
		func(l api.Limits) int64 { return l.MaxTraceBytes }, func(l *api.Limits, v int64) { l.MaxTraceBytes = v }},
	{"max-program-bytes", "refuse a --program or --listing export whose instructions would take more bytes in memory (72 an instruction)",
		func(l api.Limits) int64 { return l.MaxProgramBytes }, func(l *api.Limits, v int64) { l.MaxProgramBytes = v }},
}

// limitFlags holds the values of the limit flags a command defines.
type limitFlags struct {
	vals map[string]*int64
}

// addLimitFlags defines the named limit flags (all of them when names is
// empty); 0, their default, keeps the engine's default limit.
func addLimitFlags(fs *flag.FlagSet, names ...string) limitFlags {
	d := api.DefaultLimits()
	lf := limitFlags{vals: map[string]*int64{}}
	for _, f := range limitFlagTable {
		if len(names) > 0 && !contains(names, f.name) {
			continue
		}
		lf.vals[f.name] = fs.Int64(f.name, 0, fmt.Sprintf("%s (0: the default, %d)", f.usage, f.def(d)))
	}
	return lf
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// limits returns the limits the flags set (nil when none is set), or a
// usage error for a negative value.
func (lf limitFlags) limits() (*api.Limits, error) {
	var out *api.Limits
	for _, f := range limitFlagTable {
		p := lf.vals[f.name]
		if p == nil || *p == 0 {
			continue
		}
		if *p < 0 {
			return nil, usagef("--%s = %d: give a positive limit, or 0 for the default", f.name, *p)
		}
		if out == nil {
			out = &api.Limits{}
		}
		f.set(out, *p)
	}
	return out, nil
}
