package api_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/compass-go/compass/engine/api"
)

// Partition ResNet18 for the paper's chip M at batch 16 with the two
// baselines and the exact optimum, and compare their throughput.
func ExampleCompile() {
	res, err := api.Compile(context.Background(), api.CompileRequest{
		Model:   "resnet18",
		Chip:    "M",
		Batch:   16,
		Methods: []string{api.MethodGreedy, api.MethodLayerwise, api.MethodOptimal},
		Seed:    1,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s on %s: %d crossbars needed, %d on chip, %d partition units\n",
		res.Model, res.Chip, res.CrossbarsNeeded, res.CrossbarsAvailable, res.Units)
	greedy := res.Result(api.MethodGreedy)
	for _, r := range res.Results {
		fmt.Printf("%-9s %2d partitions, %.2fx greedy's throughput\n", r.Method, len(r.Partitions), r.ThroughputPerS/greedy.ThroughputPerS)
	}
	// Output:
	// resnet18 on M: 727 crossbars needed, 256 on chip, 84 partition units
	// greedy     7 partitions, 1.00x greedy's throughput
	// layerwise 21 partitions, 1.50x greedy's throughput
	// optimal   18 partitions, 1.59x greedy's throughput
}

// Schedule ResNet18's greedy plan for chip M into per-core instructions
// and run it on the discrete-event simulator, beside the estimator's
// figures for the same plan.
func ExampleSimulate() {
	res, err := api.Simulate(context.Background(), api.CompileRequest{
		Model:   "resnet18",
		Chip:    "M",
		Batch:   1,
		Methods: []string{api.MethodGreedy},
		Seed:    1,
	}, false, nil)
	if err != nil {
		log.Fatal(err)
	}
	r := res.Results[0]
	var n int64
	for _, c := range r.Instructions {
		n += c
	}
	fmt.Printf("%s, %s: %d partitions, %d instructions\n", res.Model, r.Method, len(r.Partitions), n)
	fmt.Printf("estimated / simulated latency: %.2f\n", r.Estimated.LatencyS/r.LatencyS)
	for _, p := range r.Partitions[:2] {
		fmt.Printf("partition %d: weights in place at %.2f ms, computed by %.2f ms\n", p.Index, 1e3*p.ReplacementEnd, 1e3*p.ComputeEnd)
	}
	// Output:
	// resnet18, greedy: 7 partitions, 3664 instructions
	// estimated / simulated latency: 0.98
	// partition 0: weights in place at 0.10 ms, computed by 4.85 ms
	// partition 1: weights in place at 4.88 ms, computed by 5.01 ms
}

// Read a network written in the JSON IR (docs/model-json.md) from memory,
// as the page does with a file the user opens, and see how it maps onto
// chip S. By hand: the Conv's matrix has 3x3x3 = 27 rows and 16 columns;
// its 432 weights, the Linear's 16x10 and 10 biases make 602 parameters;
// 32x32 positions x 432 plus 160 make 442,528 multiply-accumulates.
func ExampleLoadModelBytes() {
	graph := []byte(`{"name": "tiny", "nodes": [
	  {"name": "x", "op": "Input", "shape": [3, 32, 32]},
	  {"name": "conv", "op": "Conv", "inputs": ["x"], "conv": {"out_channels": 16, "kernel_h": 3, "kernel_w": 3,
	    "stride_h": 1, "stride_w": 1, "pad_top": 1, "pad_left": 1, "pad_bottom": 1, "pad_right": 1,
	    "dilation_h": 1, "dilation_w": 1, "groups": 1, "bias": false}},
	  {"name": "relu", "op": "ReLU", "inputs": ["conv"]},
	  {"name": "gap", "op": "GlobalAvgPool", "inputs": ["relu"]},
	  {"name": "flat", "op": "Flatten", "inputs": ["gap"]},
	  {"name": "fc", "op": "Linear", "inputs": ["flat"], "linear": {"out_features": 10, "bias": true}}
	]}`)
	g, err := api.LoadModelBytes("tiny.json", graph)
	if err != nil {
		log.Fatal(err)
	}
	t := g.Totals()
	fmt.Printf("%s: %d nodes, %d crossbar layers, %d parameters, %d MACs\n", g.Name, len(g.Nodes), len(g.CrossbarLayers()), t.Params, t.MACs)
	chip, err := api.LoadChip("S")
	if err != nil {
		log.Fatal(err)
	}
	res, err := api.Inspect(g, chip)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range res.Layers {
		fmt.Printf("%s: %dx%d weight matrix on %d crossbar(s)\n", l.Name, l.Rows, l.Cols, l.Crossbars)
	}
	fmt.Println("fits without partitioning:", res.Fits)
	// Output:
	// tiny: 6 nodes, 2 crossbar layers, 602 parameters, 442528 MACs
	// conv: 27x16 weight matrix on 1 crossbar(s)
	// fc: 16x10 weight matrix on 1 crossbar(s)
	// fits without partitioning: true
}

// Write a network as a JSON graph file that --model file.json (and
// LoadModel) reads back: one node a line, without the inferred shapes.
func ExampleWriteGraphJSON() {
	g, err := api.LoadModelBytes("tiny.json", []byte(`{"name": "tiny", "nodes": [
	  {"name": "x", "op": "Input", "shape": [16]},
	  {"name": "fc", "op": "Linear", "inputs": ["x"], "linear": {"out_features": 4, "bias": true}},
	  {"name": "act", "op": "ReLU", "inputs": ["fc"]}]}`))
	if err != nil {
		log.Fatal(err)
	}
	if err := api.WriteGraphJSON(os.Stdout, g); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"name": "tiny", "nodes": [
	//   {"name":"x","op":"Input","shape":[16]},
	//   {"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":4,"bias":true}},
	//   {"name":"act","op":"ReLU","inputs":["fc"]}
	// ]}
}
