package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
)

// docs/reproduction.md is the output of `compass reproduce`: it cannot
// drift from the engine. go test ./cmd/compass -run ReproductionDoc -update
// rewrites it.
func TestReproductionDocIsTheCommandsOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := cmdReproduce(nil, &out, &errOut); err != nil {
		t.Fatalf("compass reproduce: %v\n%s", err, errOut.String())
	}
	path := filepath.Join("..", "..", "docs", "reproduction.md")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("docs/reproduction.md differs from `%s` (regenerate it, or go test ./cmd/compass -run ReproductionDoc -update, and review the diff)", reproduceCommand)
	}
	// The report names the command that writes it and both families'
	// held-out distances.
	for _, s := range []string{reproduceCommand, "Held-out distance", "(replacement + MVM) / MVM", "## Pipeline modes"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the report lacks %q", s)
		}
	}
}

// --out writes the same bytes as standard output, and --json gives both
// families and the sensitivity with every figure.
func TestReproduceOutAndJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reproduction twice more (seconds); TestReproductionDocIsTheCommandsOutput covers the report")
	}
	var out bytes.Buffer
	if err := cmdReproduce([]string{"--json"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Families []struct {
			Family  string `json:"family"`
			Figures []struct {
				ID   string  `json:"id"`
				Role string  `json:"role"`
				Ours float64 `json:"ours"`
			} `json:"figures"`
			HeldOut float64 `json:"held_out_distance"`
		} `json:"families"`
		FourADCs struct {
			Chips []string `json:"chips"`
		} `json:"four_adcs_per_crossbar"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Families) != 2 || rep.Families[0].Family != "sourced" || rep.Families[1].Family != "fit" {
		t.Fatalf("families: %+v", rep.Families)
	}
	for _, f := range rep.Families {
		if len(f.Figures) != 24 || !(f.HeldOut > 0) {
			t.Errorf("%s: %d figures, held-out distance %v", f.Family, len(f.Figures), f.HeldOut)
		}
	}
	if len(rep.FourADCs.Chips) != 3 {
		t.Errorf("sensitivity chips: %v", rep.FourADCs.Chips)
	}
	file := filepath.Join(t.TempDir(), "r.json")
	if err := cmdReproduce([]string{"--json", "--out", file}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, out.Bytes()) {
		t.Errorf("--out wrote other bytes than standard output (%v)", err)
	}
}

// Usage errors are usage errors (exit 2 once wired into run).
func TestReproduceAndCalibrateUsageErrors(t *testing.T) {
	for _, c := range []struct {
		cmd  func([]string, *bytes.Buffer, *bytes.Buffer) error
		args []string
		want string
	}{
		{func(a []string, o, e *bytes.Buffer) error { return cmdReproduce(a, o, e) }, []string{"--sed", "2"}, "did you mean --seed"},
		{func(a []string, o, e *bytes.Buffer) error { return cmdReproduce(a, o, e) }, []string{"extra"}, "unexpected argument"},
		{func(a []string, o, e *bytes.Buffer) error { return cmdCalibrate(a, o, e) }, []string{"--outt", "x"}, "did you mean --out"},
		{func(a []string, o, e *bytes.Buffer) error { return cmdCalibrate(a, o, e) }, []string{"--seed", "-1"}, "--seed"},
	} {
		err := c.cmd(c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
}

// The held-out groups the report breaks the distance into hold every
// held-out figure once, so their counts add up to the held-out count.
func TestHeldOutGroupsCoverEveryFigure(t *testing.T) {
	var figs struct {
		Figures []struct {
			ID   string `json:"id"`
			Role string `json:"role"`
		} `json:"figures"`
	}
	if err := json.Unmarshal(api.PaperFiguresJSON(), &figs); err != nil {
		t.Fatal(err)
	}
	for _, f := range figs.Figures {
		if f.Role != "held-out" {
			continue
		}
		n := 0
		for _, g := range heldOutGroups {
			for _, p := range g.prefixes {
				if strings.HasPrefix(f.ID, p) {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("held-out figure %s is in %d of the report's groups, want 1", f.ID, n)
		}
	}
}

// --summary prints one line a family with its held-out distance, the
// figures the report states; --max-sweep-rows on calibrate is a flag the
// command takes, and the refusal that names it comes from the engine.
func TestReproduceSummaryAndCalibrateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reproduction once more (seconds); TestReproductionDocIsTheCommandsOutput covers the report")
	}
	var out bytes.Buffer
	if err := cmdReproduce([]string{"--summary"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "family") || !strings.HasPrefix(lines[1], "sourced ") ||
		!strings.HasPrefix(lines[2], "fit ") || !strings.HasPrefix(lines[3], "sourced, 4 ADCs per crossbar") {
		t.Fatalf("--summary printed\n%s", out.String())
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "reproduction.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[1:3] {
		f := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(l, "sourced"), "fit"))
		if len(f) != 4 || !strings.Contains(string(doc), "**"+f[0]+"**") {
			t.Errorf("summary line %q: its held-out distance is not the report's", l)
		}
	}
	err = cmdCalibrate([]string{"--max-sweep-rows", "10"}, &bytes.Buffer{}, &bytes.Buffer{})
	var lim *api.LimitError
	if !errors.As(err, &lim) || !strings.Contains(err.Error(), "--max-sweep-rows") {
		t.Errorf("calibrate --max-sweep-rows 10: %v, want a limit error naming --max-sweep-rows", err)
	}
	if err := cmdReproduce([]string{"--summary", "--json"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, new(usageError)) {
		t.Errorf("--summary --json: %v, want a usage error", err)
	}
}
