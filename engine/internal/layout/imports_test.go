package layout_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The pipeline's stages sit in the order issue 14 gives them: the
// estimator and the partition searches depend on no layout; the layout
// stage and the simulator depend on no cost model (so the simulator's
// figures are its own); the scheduler compiles from the layout.
func TestStagesImportInPipelineOrder(t *testing.T) {
	const root = "github.com/compass-go/compass/engine/internal/"
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", root+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, c := range []struct {
		pkg     string
		must    []string
		mustNot []string
	}{
		{"estimate", []string{"mapping"}, []string{"layout", "partition", "schedule", "sim"}},
		{"partition", []string{"estimate"}, []string{"layout", "schedule", "sim"}},
		{"layout", []string{"mapping"}, []string{"estimate", "partition", "schedule", "sim"}},
		{"schedule", []string{"layout", "estimate"}, []string{"partition", "sim"}},
		{"sim", []string{"layout"}, []string{"estimate", "partition", "schedule"}},
	} {
		d := deps(c.pkg)
		for _, p := range c.must {
			if !slices.Contains(d, root+p) {
				t.Errorf("%s does not depend on %s; the pipeline order wants it to", c.pkg, p)
			}
		}
		for _, p := range c.mustNot {
			if slices.Contains(d, root+p) {
				t.Errorf("%s depends on %s (go list -deps): it must not", c.pkg, p)
			}
		}
	}
}
