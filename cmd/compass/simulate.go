package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/isa"
)

func cmdSimulate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", `Usage: compass simulate --model NAME|file --chip S|M|L|file.json [--batch B] [--method ...]
       [--objective ...] [--seed N] [--pipeline per-input|row] [--trace FILE] [--listing FILE] [--program FILE.msgpack] [--json]

Compiles like compile, schedules each method's plan into per-core instruction
streams and runs them on the discrete-event simulator (crossbars, vector units,
the shared bus and a bank-level LPDDR3 model), reporting the simulated latency,
throughput, energy by component, DRAM traffic and row-hit rate, and each
partition's phases (weight load, crossbar write, compute, activation I/O), with
the estimator's figures beside them. It takes compile's flags (but --simulate),
and --trace.`, stdout, stderr)
	f := addCompileFlags(fs)
	traceFile := fs.String("trace", "", "write each method's per-core timeline as JSON to this file")
	listingFile := fs.String("listing", "", "write the instruction listing to this file (one --method)")
	programFile := fs.String("program", "", "write the program as msgpack to this file (one --method)")
	if err := parse(fs, args); err != nil {
		return err
	}
	req, err := f.request(fs)
	if err != nil {
		return err
	}
	if (*programFile != "" || *listingFile != "") && len(req.Methods) != 1 {
		return usagef("--program and --listing export one plan: give exactly one --method")
	}
	var save func(string, *isa.Program) error
	if *programFile != "" || *listingFile != "" {
		save = func(_ string, p *isa.Program) error {
			if err := writeFile(*programFile, p.WriteMsgpack); err != nil {
				return err
			}
			return writeFile(*listingFile, p.WriteListing)
		}
	}
	res, err := api.Simulate(context.Background(), req, *traceFile != "", save)
	if err != nil {
		return err
	}
	if *traceFile != "" {
		for i := range res.Results {
			r := &res.Results[i]
			if r.TraceTruncated {
				fmt.Fprintf(stderr, "compass simulate: the %s trace is cut short at the trace limit: it holds %d of %d busy intervals, up to %.4g s of %.4g s; lift the limit with --max-trace-bytes (limits.max_trace_bytes)\n",
					r.Method, len(r.Trace), r.TraceEvents, r.TraceEndS, r.LatencyS)
			}
		}
		if err := writeFile(*traceFile, func(w io.Writer) error { return writeTraces(w, res.Results) }); err != nil {
			return err
		}
		for i := range res.Results {
			res.Results[i].Trace = nil // the file holds it
		}
	}
	if *f.asJSON.on {
		return f.asJSON.write(stdout, res)
	}
	fmt.Fprintf(stdout, "%s on chip %s, batch %d, objective %s, seed %d%s (simulated)\n", res.Model, res.Chip, res.Batch, res.Objective, res.Seed, pipelineNote(res.Pipeline))
	t := table{header: []string{"method", "inferences/s", "estimated", "energy/inference", "estimated", "EDP (J·s)", "DRAM read", "DRAM written", "spilled", "read back", "row hits", "instructions"}}
	for _, r := range res.Results {
		var n int64
		for _, c := range r.Instructions {
			n += c
		}
		t.add(r.Method, perSecond(r.ThroughputPerS), perSecond(r.Estimated.ThroughputPerS),
			joules(r.EnergyPerInferenceJ), joules(r.Estimated.EnergyPerInferenceJ), fmt.Sprintf("%.4g", r.EDPJS),
			mib(r.DRAMBytesRead), mib(r.DRAMBytesWritten), mib(r.SpillBytes), mib(r.ReloadBytes), fmt.Sprintf("%.1f%%", 100*r.DRAMRowHitRate), thousands(n))
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	for _, r := range res.Results {
		fmt.Fprintf(stdout, "\n%s partitions: each phase's simulated length (first to last instruction; phases overlap), the estimator's beside it\n", r.Method)
		p := table{header: []string{"#", "weight load", "estimated", "write", "estimated", "compute", "estimated", "act. I/O", "estimated", "ends at", "spilled"}}
		for _, sp := range r.Partitions {
			p.add(sp.Index, seconds(sp.WeightLoadS), seconds(sp.EstWeightLoadS), seconds(sp.WriteS), seconds(sp.EstWriteS),
				seconds(sp.ComputeS), seconds(sp.EstComputeS), seconds(sp.IOS), seconds(sp.EstIOS), seconds(sp.End), mib(sp.SpillBytes))
		}
		if err := p.write(stdout); err != nil {
			return err
		}
	}
	for _, r := range res.Results {
		e := r.EnergyBreakdownJ
		parts := []string{}
		for _, c := range []struct {
			name string
			v    float64
		}{{"mvm", e.MVM}, {"adc", e.ADC}, {"vfu", e.VFU}, {"local memory", e.LocalMemory}, {"bus", e.Bus}, {"dram", e.DRAM}, {"crossbar write", e.Write}, {"static", e.Static}} {
			parts = append(parts, fmt.Sprintf("%s %s", c.name, joules(c.v)))
		}
		fmt.Fprintf(stdout, "\n%s energy per inference: %s\n", r.Method, strings.Join(parts, ", "))
	}
	return nil
}

// writeTraces writes each method's timeline as the JSON array
// [{"method": ..., "events": [...]}, ...] (the bytes api.WriteJSON gives),
// an event at a time: a trace of millions of events is never held as one
// encoded buffer.
func writeTraces(w io.Writer, results []api.SimResult) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteByte('[')
	for i, r := range results {
		if i > 0 {
			bw.WriteByte(',')
		}
		name, err := json.Marshal(r.Method)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, `{"method":%s,"events":`, name)
		if r.Trace == nil {
			bw.WriteString("null")
		} else {
			bw.WriteByte('[')
			for k, ev := range r.Trace {
				if k > 0 {
					bw.WriteByte(',')
				}
				b, err := json.Marshal(ev)
				if err != nil {
					return err
				}
				bw.Write(b)
			}
			bw.WriteByte(']')
		}
		bw.WriteByte('}')
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// writeFile writes a file through emit; an empty path writes nothing.
func writeFile(path string, emit func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := emit(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
