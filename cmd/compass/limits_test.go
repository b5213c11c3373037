package main

import (
	"github.com/compass-go/compass/engine/api"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every limit the engine enforces is refused with a message naming the flag
// that lifts it, and that flag exists on the command that hit it: set each
// flag to 1 and check the refusal names it.
func TestLimitFlagsNameThemselves(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "p.msgpack")
	cases := []struct {
		flag string
		args []string
	}{
		{"max-nodes", []string{"compile", "--model", "resnet18", "--method", "greedy"}},
		{"max-units", []string{"compile", "--model", "resnet18", "--method", "greedy"}},
		{"max-units", []string{"inspect", "--model", "resnet18"}},
		{"max-nodes", []string{"inspect", "--model", "resnet18"}},
		{"max-spans", []string{"compile", "--model", "resnet18", "--method", "optimal"}},
		{"max-ga-plan-cuts", []string{"compile", "--model", "resnet18", "--method", "compass"}},
		{"max-ga-work", []string{"compile", "--model", "resnet18", "--method", "compass"}},
		{"max-sweep-rows", []string{"sweep", "--models", "squeezenet1_1", "--chips", "S,M", "--batches", "1", "--method", "greedy"}},
		{"max-sim-events", []string{"simulate", "--model", "squeezenet1_1", "--chip", "S", "--method", "greedy"}},
		{"max-sim-dram-bursts", []string{"simulate", "--model", "squeezenet1_1", "--chip", "S", "--method", "greedy"}},
		{"max-refine", []string{"compile", "--model", "squeezenet1_1", "--chip", "S", "--method", "optimal-sim"}},
		{"max-program-bytes", []string{"compile", "--model", "squeezenet1_1", "--chip", "S", "--method", "greedy", "--program", prog}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.flag] = true
		args := append(append([]string{}, c.args...), "--"+c.flag, "1")
		code, _, errOut := runCLI(args...)
		if code != exitError || !strings.Contains(errOut, "--"+c.flag+" ") {
			t.Errorf("%v: exit %d, stderr %q: want exit %d and a refusal naming --%s", args, code, errOut, exitError, c.flag)
		}
	}
	// The trace limit cuts the timeline short instead of refusing (tested
	// with the simulator); every other flag of the table is covered above.
	seen["max-trace-bytes"] = true
	for _, f := range limitFlagTable {
		if !seen[f.name] {
			t.Errorf("limit flag --%s has no refusal case here", f.name)
		}
	}
	if _, err := os.Stat(prog); err == nil {
		t.Errorf("a refused --program export still wrote %s", prog)
	}
}

func TestLimitFlagsRejectNegative(t *testing.T) {
	code, _, errOut := runCLI("compile", "--model", "resnet18", "--max-spans", "-1")
	if code != exitUsage || !strings.Contains(errOut, "--max-spans") {
		t.Errorf("negative limit: exit %d, %q", code, errOut)
	}
}

func TestLayerBitsSaysEachLayersWidth(t *testing.T) {
	four := api.InspectLayer{WeightBits: 4}
	eight := api.InspectLayer{WeightBits: 8}
	for _, c := range []struct {
		layers []api.InspectLayer
		want   string
	}{
		{[]api.InspectLayer{four, four}, "4 bits"},
		{[]api.InspectLayer{eight, four, eight}, "4 to 8 bits by layer"},
	} {
		if got := layerBits(c.layers); got != c.want {
			t.Errorf("%v: %q, want %q", c.layers, got, c.want)
		}
	}
}

func TestPerSecondNeverPrintsZeroForASlowChip(t *testing.T) {
	for v, want := range map[float64]string{1450.94: "1450.9", 1: "1.0", 0.000412: "0.000412", 0.5: "0.5"} {
		if got := perSecond(v); got != want {
			t.Errorf("perSecond(%g) = %q, want %q", v, got, want)
		}
	}
}
