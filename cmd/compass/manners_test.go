package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A mistyped flag gets one line naming it and the flag it is closest to,
// with exit 2, not the command's help printed around the error.
func TestUnknownFlagIsOneLineWithTheClosestFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"compile", "--modle", "resnet18"}, "compass compile: unknown flag --modle; did you mean --model?\n"},
		{[]string{"compile", "--model", "resnet18", "--bacth", "4"}, "compass compile: unknown flag --bacth; did you mean --batch?\n"},
		{[]string{"simulate", "--model", "resnet18", "--trcae", "t.json"}, "compass simulate: unknown flag --trcae; did you mean --trace?\n"},
		{[]string{"inspect", "-chp", "M"}, "compass inspect: unknown flag --chp; did you mean --chip?\n"},
		{[]string{"sweep", "--modles", "resnet18"}, "compass sweep: unknown flag --modles; did you mean --models?\n"},
		{[]string{"compile", "--max-unit", "5"}, "compass compile: unknown flag --max-unit; did you mean --max-units?\n"},
		{[]string{"compile", "--frobnicate"}, "compass compile: unknown flag --frobnicate (compass help compile lists the flags)\n"},
		{[]string{"compile", "--model"}, "compass compile: --model needs a value (compass help compile says what it takes)\n"},
		{[]string{"compil", "--model", "resnet18"}, "compass: unknown command \"compil\"; did you mean compile?\n"},
		{[]string{"frobnicate"}, "compass: unknown command \"frobnicate\" (compass help lists the commands)\n"},
		{[]string{"th"}, "compass: unknown command \"th\" (compass help lists the commands)\n"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(c.args...)
		if code != exitUsage || errOut != c.want || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %d bytes; want exit %d, stderr %q and no stdout",
				c.args, code, errOut, len(out), exitUsage, c.want)
		}
	}
}

// A flag value outside its range exits 2 like any usage error, with one
// line naming the flag and what it accepts.
func TestOutOfRangeFlagValueIsAUsageError(t *testing.T) {
	cases := []struct {
		args []string
		want []string // in the one stderr line
	}{
		{[]string{"compile", "--model", "resnet18", "--batch", "0"}, []string{"compass compile: --batch:", "from 1 to 65536"}},
		{[]string{"compile", "--model", "resnet18", "--batch", "65537"}, []string{"--batch:", "from 1 to 65536"}},
		{[]string{"simulate", "--model", "resnet18", "--batch", "-4"}, []string{"compass simulate: --batch:", "from 1 to 65536"}},
		{[]string{"compile", "--model", "resnet18", "--seed", "-1"}, []string{`--seed "-1"`, "from 0 to 18446744073709551615"}},
		{[]string{"compile", "--model", "resnet18", "--batch", "four"}, []string{`--batch "four"`, "whole number"}},
		{[]string{"compile", "--model", "resnet18", "--simulate=perhaps"}, []string{`--simulate "perhaps"`, "true or false"}},
		{[]string{"compile", "--model", "resnet18", "--objective", "speed"}, []string{"--objective:", "latency, energy, edp"}},
		{[]string{"compile", "--model", "resnet18", "--method", "fastest"}, []string{"--method:", "greedy", "optimal"}},
		{[]string{"compile", "--model", "resnet18", "--ga-population", "1"}, []string{"--ga-population:", "from 2 to"}},
		{[]string{"simulate", "--model", "resnet18", "--placement", "diagonal"}, []string{"compass simulate: --placement:", `"unit"`, `"crossbar"`}},
		{[]string{"compile", "--model", "resnet18", "--max-units", "-3"}, []string{"--max-units", "positive"}},
		{[]string{"inspect", "--model", "resnet18", "--max-nodes", "-1"}, []string{"--max-nodes", "positive"}},
		{[]string{"sweep", "--models", "resnet18", "--chips", "M", "--batches", "0"}, []string{"--batches", "positive integer"}},
		{[]string{"sweep", "--models", "resnet18", "--chips", "M", "--batches", "70000", "--method", "greedy"}, []string{"compass sweep: --batches:", "from 1 to 65536"}},
		{[]string{"sweep", "--objective", "speed"}, []string{"--objective:", "latency, energy, edp"}},
		{[]string{"serve", "--max-concurrent", "0", "--build=false"}, []string{"--max-concurrent", "positive"}},
		{[]string{"serve", "--deadline", "soon", "--build=false"}, []string{`--deadline "soon"`, "duration such as 60s"}},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(c.args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q: want exit %d and one line", c.args, code, errOut, exitUsage)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errOut, w)
			}
		}
	}
}

// The help still goes to stdout with exit 0, and asking for it never
// prints an error.
func TestHelpFlagStillPrintsHelp(t *testing.T) {
	for _, args := range [][]string{{"compile", "--help"}, {"compile", "-h"}, {"help", "simulate"}, {"export", "--help"}} {
		code, out, errOut := runCLI(args...)
		if code != exitOK || errOut != "" || !strings.Contains(out, "Usage: compass "+args[len(args)-1]) && !strings.Contains(out, "Usage: compass "+args[0]) {
			t.Errorf("%v: exit %d, stderr %q, stdout starts %.60q", args, code, errOut, out)
		}
	}
}

// Unknown flags are matched against the command's own flags, not a fixed
// list: the distance is small for typos and large for other words.
func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"model", "model", 0}, {"modle", "model", 1}, {"mdel", "model", 1}, {"bacth", "batch", 1}, {"chip", "chips", 1}, {"seed", "json", 4}, {"", "abc", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

var defaultValue = regexp.MustCompile(`default [-0-9"]`)

// No help line shows two defaults: a flag whose default is the engine's
// (the GA settings) says that default once, not also a sentinel.
func TestHelpShowsOneDefaultPerFlag(t *testing.T) {
	for _, cmd := range []string{"models", "inspect", "inputs", "chips", "chip", "compile", "simulate", "sweep", "export", "build", "serve", "reproduce", "calibrate"} {
		_, out, _ := runCLI(cmd, "--help")
		if !strings.Contains(out, "Flags:") {
			t.Fatalf("compass %s --help printed no flags", cmd)
		}
		for _, line := range strings.Split(out, "\n") {
			if len(defaultValue.FindAllString(line, -1)) > 1 {
				t.Errorf("compass %s --help: %q names more than one default", cmd, line)
			}
		}
	}
}

// The GA flags reach the request: two generations without patience run
// the initial generation and two more.
func TestGAFlagsReachTheSearch(t *testing.T) {
	code, out, errOut := runCLI("compile", "--model", "squeezenet1_1", "--chip", "S", "--method", "compass",
		"--ga-population", "8", "--ga-keep", "2", "--ga-generations", "2", "--ga-patience", "0", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Results []struct {
			GA struct {
				History []json.RawMessage `json:"history"`
			} `json:"ga"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) != 1 {
		t.Fatalf("%v: %.300s", err, out)
	}
	if n := len(res.Results[0].GA.History); n != 3 {
		t.Errorf("--ga-generations 2: the history has %d generations, want 3 (the initial one and two)", n)
	}
}

// --placement reaches the request: the result names a policy other than
// the default, and the default's result is the one without the flag.
func TestPlacementFlag(t *testing.T) {
	args := []string{"compile", "--model", "squeezenet1_1", "--chip", "S", "--method", "greedy", "--json"}
	_, plain, _ := runCLI(args...)
	code, unit, errOut := runCLI(append(args, "--placement", "unit")...)
	if code != exitOK || unit != plain {
		t.Errorf("--placement unit: exit %d (%s), or a result unlike the default's", code, errOut)
	}
	code, crossbar, errOut := runCLI(append(args, "--placement", "crossbar")...)
	if code != exitOK || !strings.Contains(crossbar, `"placement":"crossbar"`) {
		t.Errorf("--placement crossbar: exit %d (%s), the result does not name it", code, errOut)
	}
}

// --refine reaches optimal-sim, whose choice the text output reports; a
// refine below 1 is a usage error, one over --max-refine a refusal naming
// that flag.
func TestRefineFlag(t *testing.T) {
	args := []string{"compile", "--model", "resnet18", "--chip", "M", "--method", "optimal-sim", "--refine", "2"}
	code, out, errOut := runCLI(append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Results []struct {
			Refine struct {
				Asked int               `json:"asked"`
				Rank  int               `json:"rank"`
				Plans []json.RawMessage `json:"plans"`
			} `json:"refine"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) != 1 {
		t.Fatalf("%v: %.300s", err, out)
	}
	rr := res.Results[0].Refine
	if rr.Asked != 2 || len(rr.Plans) == 0 || len(rr.Plans) > 2 || rr.Rank >= len(rr.Plans) {
		t.Errorf("--refine 2: asked %d, %d plans simulated, rank %d", rr.Asked, len(rr.Plans), rr.Rank)
	}
	_, text, _ := runCLI(args...)
	if want := fmt.Sprintf("simulated the estimator's %d best plans and kept its rank %d ", len(rr.Plans), rr.Rank); !strings.Contains(text, want) {
		t.Errorf("the text output lacks %q", want)
	}
	code, _, errOut = runCLI("compile", "--model", "resnet18", "--method", "optimal-sim", "--refine", "-1")
	if code != exitUsage || !strings.Contains(errOut, "--refine:") {
		t.Errorf("--refine -1: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI("compile", "--model", "resnet18", "--method", "optimal-sim", "--refine", "3", "--max-refine", "2")
	if code != exitError || !strings.Contains(errOut, "--max-refine") {
		t.Errorf("--refine over --max-refine: exit %d, %q", code, errOut)
	}
}

// A zoo network or chip preset the engine does not know, named by any
// flag of any command, is a usage error (exit 2) in one line that names
// the flag and, for a near miss, the closest name.
func TestUnknownModelOrChipIsAUsageErrorWithTheClosestName(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"compile", "--model", "resnt18"}, "compass compile: --model resnt18: the zoo has no such network; did you mean resnet18?"},
		{[]string{"simulate", "--model", "ResNet-81"}, "compass simulate: --model ResNet-81: the zoo has no such network; did you mean resnet18?"},
		{[]string{"inspect", "--model", "vgg61"}, "compass inspect: --model vgg61: the zoo has no such network; did you mean vgg16?"},
		{[]string{"export", "--model", "alexnt"}, "compass export: --model alexnt: the zoo has no such network; did you mean alexnet?"},
		{[]string{"sweep", "--models", "resnet18,mobilenet_v3"}, "compass sweep: --models mobilenet_v3: the zoo has no such network; did you mean mobilenet_v2?"},
		{[]string{"compile", "--model", "resnet18", "--chip", "Sfit"}, "compass compile: --chip Sfit: no chip preset of that name; did you mean S-fit?"},
		{[]string{"simulate", "--model", "resnet18", "--chip", "rerm"}, "compass simulate: --chip rerm: no chip preset of that name; did you mean ReRAM?"},
		{[]string{"inspect", "--model", "resnet18", "--chip", "M-fti"}, "compass inspect: --chip M-fti: no chip preset of that name; did you mean M-fit?"},
		{[]string{"sweep", "--chips", "S,Lfit"}, "compass sweep: --chips Lfit: no chip preset of that name; did you mean L-fit?"},
		{[]string{"chip", "--chip", "Mfit"}, "compass chip: --chip Mfit: no chip preset of that name; did you mean M-fit?"},
		// Nothing close: the line lists what there is.
		{[]string{"compile", "--model", "nosuch"}, "compass compile: --model nosuch: the zoo has no such network: name one of vgg16, resnet18,"},
		{[]string{"sweep", "--models", "nosuch"}, "compass sweep: --models nosuch: the zoo has no such network: name one of vgg16,"},
		{[]string{"compile", "--model", "resnet18", "--chip", "Q"}, "compass compile: --chip Q: no chip preset of that name: name one of S, M, L, ReRAM, S-fit, M-fit, L-fit, or a .json chip file"},
		{[]string{"sweep", "--chips", "Q"}, "compass sweep: --chips Q: no chip preset of that name: name one of S,"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(c.args...)
		if code != exitUsage || !strings.HasPrefix(errOut, c.want) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%v: exit %d, stderr %q, %d bytes of stdout; want exit %d and one line starting %q", c.args, code, errOut, len(out), exitUsage, c.want)
		}
	}
	// The zoo's other spellings and any case of a preset still work.
	for _, args := range [][]string{
		{"inspect", "--model", "SqueezeNet1.1", "--chip", "m"},
		{"sweep", "--models", "ResNet18", "--chips", "s-FIT", "--batches", "1", "--method", "greedy"},
	} {
		if code, _, errOut := runCLI(args...); code != exitOK {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	// A model or chip file that cannot be read is not a usage error.
	if code, _, errOut := runCLI("compile", "--model", filepath.Join(t.TempDir(), "missing.json")); code != exitError {
		t.Errorf("a missing model file: exit %d (%s), want %d", code, errOut, exitError)
	}
}

// A name given without its flag gets the flag it belongs to.
func TestPositionalNameSuggestsItsFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"chip", "Z"}, "compass chip: unexpected argument \"Z\"; did you mean --chip Z? (compass chip takes flags only)\n"},
		{[]string{"chip", "S-fit"}, "compass chip: unexpected argument \"S-fit\"; did you mean --chip S-fit? (compass chip takes flags only)\n"},
		{[]string{"compile", "resnet18"}, "compass compile: unexpected argument \"resnet18\"; did you mean --model resnet18? (compass compile takes flags only)\n"},
		{[]string{"inspect", "--model", "resnet18", "L"}, "compass inspect: unexpected argument \"L\"; did you mean --chip L? (compass inspect takes flags only)\n"},
		{[]string{"export", "vgg16"}, "compass export: unexpected argument \"vgg16\"; did you mean --model vgg16? (compass export takes flags only)\n"},
		{[]string{"sweep", "resnet18"}, "compass sweep: unexpected argument \"resnet18\"; did you mean --models resnet18? (compass sweep takes flags only)\n"},
		{[]string{"models", "extra"}, "compass models: unexpected argument \"extra\": compass models takes flags only (compass help models lists them)\n"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(c.args...)
		if code != exitUsage || errOut != c.want || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, stderr %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}
