package api_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/compass-go/compass/engine/api"
)

// The reported deadlock: a ReLU between the graph input and the first
// (only) convolution made every method's simulation deadlock ("128 of
// 129 streams never finished"). Every method now simulates at batch 1
// and 2 on chip M, and the same request gives the same bytes twice.
func TestSimulateVectorNodeBeforeFirstLayer(t *testing.T) {
	const graph = `{"name":"t","nodes":[{"name":"x","op":"Input","shape":[4,8,8]},{"name":"a","op":"ReLU","inputs":["x"]},
{"name":"c","op":"Conv","inputs":["a"],"conv":{"out_channels":8,"kernel_h":1,"kernel_w":1,"stride_h":1,"stride_w":1,"dilation_h":1,"dilation_w":1,"groups":1}}]}`
	g, err := api.LoadModelBytes("t.json", []byte(graph))
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 2} {
		var runs [2][]byte
		for k := range runs {
			res, err := api.Simulate(context.Background(), api.CompileRequest{Graph: g, Chip: "M", Batch: batch, Methods: api.Methods(), Seed: 1}, true, nil)
			if err != nil {
				t.Fatalf("batch %d: %v", batch, err)
			}
			for _, r := range res.Results {
				if !(r.LatencyS > 0) || r.MVMs != int64(64*batch) || r.Instructions["VACT"] == 0 {
					t.Errorf("batch %d %s: latency %v s, %d MVMs (want %d: 64 output positions an input), %d VACT",
						batch, r.Method, r.LatencyS, r.MVMs, 64*batch, r.Instructions["VACT"])
				}
			}
			var buf bytes.Buffer
			if err := api.WriteJSON(&buf, res); err != nil {
				t.Fatal(err)
			}
			runs[k] = buf.Bytes()
		}
		if !bytes.Equal(runs[0], runs[1]) {
			t.Errorf("batch %d: two runs of the same request differ", batch)
		}
	}
}
