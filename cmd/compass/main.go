// Command compass is the command-line front end of COMPASS-Go: it lists the
// model zoo, shows how a model's weights land on a chip's crossbars, and
// prints chip descriptions. Run `compass help` for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks an error in the command line itself (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

const mainUsage = `compass: a compiler and simulator for crossbar processing-in-memory accelerators
whose weights do not all fit on chip (the COMPASS method, arXiv 2501.06780).

Usage:
  compass <command> [flags]

Commands:
  models    list the built-in networks (name, layers, parameters, crossbar weights, MACs)
  inspect   show how a model's weights map onto a chip's crossbars, and whether it fits
  inputs    list a model file's graph inputs with their declared shapes (which --input can set)
  compile   partition a model for a chip (greedy, layerwise, the COMPASS GA, the exact optimum, and
            the optimum checked on the simulator)
  simulate  compile, schedule into per-core instructions and simulate (crossbars, bus, LPDDR3)
  sweep     compile a grid of models x chips x batches and compare methods (the paper's grid by default)
  reproduce the paper's published figures for the sourced and the paper-fitted chips (writes docs/reproduction.md)
  calibrate fit the paper-fitted chips S-fit, M-fit, L-fit (--out engine/hw/fitted.json)
  serve     build the browser playground and serve it on a loopback address
  build     build the browser playground into a static directory (WebAssembly, precompressed)
  chips     list the chip presets
  chip      print one chip description as JSON (a starting point for a custom chip file)
  export    write a model as a JSON graph file (a starting point for a network of your own)
  help      show this help, or a command's help: compass help inspect

models, inspect, inputs, chips, compile, simulate, sweep, reproduce and calibrate
take --json for machine-readable output; chip and export always print JSON.
Exit status: 0 on success, 2 on a usage error, 1 on any other error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "models":
		err = cmdModels(rest, stdout, stderr)
	case "inspect":
		err = cmdInspect(rest, stdout, stderr)
	case "inputs":
		err = cmdInputs(rest, stdout, stderr)
	case "chips":
		err = cmdChips(rest, stdout, stderr)
	case "chip":
		err = cmdChip(rest, stdout, stderr)
	case "compile":
		err = cmdCompile(rest, stdout, stderr)
	case "sweep":
		err = cmdSweep(rest, stdout, stderr)
	case "simulate":
		err = cmdSimulate(rest, stdout, stderr)
	case "serve":
		err = cmdServe(rest, stdout, stderr)
	case "build":
		err = cmdBuild(rest, stdout, stderr)
	case "export":
		err = cmdExport(rest, stdout, stderr)
	case "reproduce":
		err = cmdReproduce(rest, stdout, stderr)
	case "calibrate":
		err = cmdCalibrate(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	default:
		if near := closestCommand(cmd); near != "" {
			fmt.Fprintf(stderr, "compass: unknown command %q; did you mean %s?\n", cmd, near)
		} else {
			fmt.Fprintf(stderr, "compass: unknown command %q (compass help lists the commands)\n", cmd)
		}
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "compass %s: %v\n", cmd, err)
		return exitUsage
	case flagOfInputError(cmd, err) != "":
		fmt.Fprintf(stderr, "compass %s: --%s: %v\n", cmd, flagOfInputError(cmd, err), inputErrorText(err))
		return exitUsage
	default:
		fmt.Fprintf(stderr, "compass %s: %v\n", cmd, err)
		return exitError
	}
}

// closestCommand is the command of mainUsage closest to a mistyped one,
// or "".
func closestCommand(name string) string {
	_, list, _ := strings.Cut(mainUsage, "Commands:\n")
	var commands []string
	for _, line := range strings.Split(list, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(line, "  ") {
			break
		}
		if !strings.HasPrefix(line, "   ") { // not a description's second line
			commands = append(commands, fields[0])
		}
	}
	return closestName(name, commands)
}

// requestFlags maps the request fields the engine checks (its
// *api.InputError fields) to the flags that set them, per command: a value
// the engine refuses is a usage error (exit 2) naming the flag.
var requestFlags = map[string]map[string]string{
	"compile": {"batch": "batch", "objective": "objective", "methods": "method", "placement": "placement", "pipeline": "pipeline", "refine": "refine",
		"ga.population": "ga-population", "ga.generations": "ga-generations", "ga.keep": "ga-keep", "ga.patience": "ga-patience"},
	"sweep": {"batch": "batches", "objective": "objective", "methods": "method", "models": "models", "chips": "chips", "batches": "batches", "pipeline": "pipeline"},
}

func init() {
	requestFlags["simulate"] = requestFlags["compile"]
}

// flagOfInputError is the flag of cmd that set the request field an
// *api.InputError names, or "" when err is no such error.
func flagOfInputError(cmd string, err error) string {
	var ie *api.InputError
	if !errors.As(err, &ie) {
		return ""
	}
	if name, ok := strings.CutPrefix(ie.Field, "limits."); ok {
		return strings.ReplaceAll(name, "_", "-")
	}
	return requestFlags[cmd][ie.Field]
}

// inputErrorText is what an *api.InputError says without its field (the
// flag stands for it), or the whole error when another error wraps it (a
// sweep names the configuration it was compiling).
func inputErrorText(err error) error {
	var ie *api.InputError
	if errors.As(err, &ie) && err == error(ie) {
		return ie.Err
	}
	return err
}

// newFlags makes a flag set whose parse errors are usage errors and whose
// help goes to stdout.
func newFlags(name, synopsis string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	return fs
}

// parse parses a command's flags. The help (-h, --help) goes to stdout;
// a bad flag is one line naming it, with the closest flag for a typo,
// never the whole help printed around it.
func parse(fs *flag.FlagSet, args []string) error {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard) // the flag package's own message is replaced by flagError's
	err := fs.Parse(args)
	fs.Usage = help
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help()
			return err
		}
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		arg := fs.Arg(0)
		if name := positionalFlag(fs, arg); name != "" {
			return usagef("unexpected argument %q; did you mean --%s %s? (compass %s takes flags only)", arg, name, arg, fs.Name())
		}
		return usagef("unexpected argument %q: compass %s takes flags only (compass help %s lists them)", arg, fs.Name(), fs.Name())
	}
	return nil
}

// flagError rewrites one of the flag package's parse errors as a usage
// error that names the flag the way it is typed (--name) and says what to
// give instead.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		if near := closestFlag(fs, name); near != "" {
			return usagef("unknown flag --%s; did you mean --%s?", name, near)
		}
		return usagef("unknown flag --%s (compass help %s lists the flags)", name, fs.Name())
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return usagef("--%s needs a value (compass help %s says what it takes)", strings.TrimLeft(name, "-"), fs.Name())
	}
	// invalid value "V" for flag -NAME: ERR, or invalid boolean value "V" for -NAME: ERR
	if rest, ok := strings.CutPrefix(msg, "invalid "); ok {
		if q := strings.IndexByte(rest, '"'); q >= 0 {
			if v, after, ok := cutQuoted(rest[q:]); ok {
				if i := strings.Index(after, "-"); i >= 0 {
					name, reason, _ := strings.Cut(after[i+1:], ": ")
					if fl := fs.Lookup(name); fl != nil {
						if want := flagWants(fl); want != "" {
							return usagef("--%s %s: %s", name, v, want)
						}
						return usagef("--%s %s: %s", name, v, reason)
					}
				}
			}
		}
	}
	return usageError{msg}
}

// cutQuoted splits a Go-quoted string off the front of s.
func cutQuoted(s string) (value, rest string, ok bool) {
	for i := 1; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '"' {
			return s[:i+1], s[i+1:], true
		}
	}
	return "", s, false
}

// flagWants says what a typed flag accepts, or "" for a flag whose own
// error message says it (a Func or Var flag).
func flagWants(fl *flag.Flag) string {
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case bool:
		return "give true or false"
	case int, int64:
		return "give a whole number"
	case uint, uint64:
		return fmt.Sprintf("give a whole number from 0 to %d", uint64(math.MaxUint64))
	case float64:
		return "give a number"
	case time.Duration:
		return "give a duration such as 60s, 1m30s or 500ms"
	}
	return ""
}

// closestFlag is the flag whose name is closest to a mistyped one (at most
// a third of its letters, and at least one, wrong), or a flag the name
// starts, or "".
func closestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", len(name)/3+1
	var prefixed []string
	fs.VisitAll(func(fl *flag.Flag) {
		if d := editDistance(name, fl.Name); d < bestDist || (d == bestDist && best != "" && fl.Name < best) {
			best, bestDist = fl.Name, d
		}
		if len(name) >= 2 && strings.HasPrefix(fl.Name, name) {
			prefixed = append(prefixed, fl.Name)
		}
	})
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, with a swap
// of two adjacent letters counted as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// jsonOutput is the --json and --indent flags every reporting command has.
type jsonOutput struct{ on, indent *bool }

func addJSONFlags(fs *flag.FlagSet, usage string) jsonOutput {
	return jsonOutput{fs.Bool("json", false, usage),
		fs.Bool("indent", false, "with --json: indent the JSON for reading (without it: compact, the bytes the WebAssembly engine returns)")}
}

func (j jsonOutput) write(w io.Writer, v any) error {
	if *j.indent {
		return api.WriteIndentedJSON(w, v)
	}
	return api.WriteJSON(w, v)
}

func cmdModels(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models", "Usage: compass models [--json]\n\nLists the built-in networks at 224x224 input.", stdout, stderr)
	asJSON := addJSONFlags(fs, "print a JSON array instead of a table")
	if err := parse(fs, args); err != nil {
		return err
	}
	ms, err := api.Models()
	if err != nil {
		return err
	}
	if *asJSON.on {
		return asJSON.write(stdout, ms)
	}
	t := table{header: []string{"name", "family", "nodes", "conv/linear", "params", "crossbar weights", "MACs"}}
	for _, m := range ms {
		t.add(m.Name, m.Family, m.Nodes, m.Layers, thousands(m.Params), thousands(m.Weights), thousands(m.MACs))
	}
	return t.write(stdout)
}

func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", `Usage: compass inspect --model NAME|file.onnx|file.json --chip S|M|L|NAME|file.json
       [--input NAME=1,3,224,224]... [--input NAME:value=16000]... [--input-shape 1,3,224,224] [--json]

Shows each Conv/Linear layer's weight matrix (rows = kernel area x input channels
per group, cols = output channels per group), how it is tiled onto crossbars and
cut into partition units (each fits one core), and whether the whole model fits
the chip without weight replacement.`, stdout, stderr)
	modelSpec := fs.String("model", "", "zoo network name (see compass models), a .onnx model or a .json graph file")
	chipSpec := fs.String("chip", "M", "chip preset (see compass chips) or a chip .json file")
	inputShape := fs.String("input-shape", "", "full shape of an ONNX model's first input, batch first (e.g. 1,3,224,224)")
	inputs := addInputFlag(fs)
	asJSON := addJSONFlags(fs, "print JSON instead of a table")
	lf := addLimitFlags(fs, "max-nodes", "max-units")
	if err := parse(fs, args); err != nil {
		return err
	}
	lim, err := lf.limits()
	if err != nil {
		return err
	}
	if *modelSpec == "" {
		return usagef("--model is required: name a network from `compass models`, a .onnx model or a .json graph file")
	}
	if err := checkModelName("model", *modelSpec); err != nil {
		return err
	}
	if err := checkChipName("chip", *chipSpec); err != nil {
		return err
	}
	opt, err := modelOptions(*inputShape, inputs)
	if err != nil {
		return err
	}
	g, err := api.LoadModelWith(*modelSpec, opt)
	if err != nil {
		return err
	}
	chip, err := api.LoadChip(*chipSpec)
	if err != nil {
		return err
	}
	res, err := api.InspectModel(api.InspectRequest{Graph: g, ChipSpec: chip, Limits: lim})
	if err != nil {
		return err
	}
	if *asJSON.on {
		return asJSON.write(stdout, res)
	}
	fmt.Fprintf(stdout, "model  %s: %d crossbar layers (Conv, ConvTranspose, Linear), %s params, %s crossbar weights = %s at %s, %s MACs\n",
		res.Model, len(res.Layers), thousands(res.Params), thousands(res.Weights), mib(res.WeightBytes), layerBits(res.Layers), thousands(res.MACs))
	fmt.Fprintf(stdout, "chip   %s: %d cores x %d crossbars of %dx%d, %d bit(s) per cell = %d crossbars, %s of weights\n\n",
		chip.Name, chip.Cores, chip.CrossbarsPerCore, chip.CrossbarRows, chip.CrossbarCols, chip.BitsPerCell,
		res.CrossbarsAvailable, mib(res.ChipWeightBytes))
	t := table{header: []string{"layer", "op", "input", "matrix", "groups", "groups/xbar", "row blocks", "stripes", "splits", "crossbars", "units", "util"}}
	for _, l := range res.Layers {
		t.add(l.Name, l.Op, l.InShape, fmt.Sprintf("%dx%d", l.Rows, l.Cols), l.Groups, l.GroupsPerXbar, l.RowBlocks,
			l.Stripes, l.InputSplits, l.Crossbars, l.Units, fmt.Sprintf("%.1f%%", 100*l.Utilisation))
	}
	t.add("total", "", "", "", "", "", "", "", "", res.CrossbarsNeeded, res.Units, fmt.Sprintf("%.1f%%", 100*res.Utilisation))
	if err := t.write(stdout); err != nil {
		return err
	}
	if res.Fits {
		fmt.Fprintf(stdout, "\nfits: yes, %d of %d crossbars, every unit placed on a core at once\n", res.CrossbarsNeeded, res.CrossbarsAvailable)
	} else {
		fmt.Fprintf(stdout, "\nfits: no, the model needs %d crossbars and the chip has %d: it must be partitioned and its weights replaced from DRAM\n",
			res.CrossbarsNeeded, res.CrossbarsAvailable)
	}
	return nil
}

func cmdChips(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("chips", "Usage: compass chips [--json]\n\nLists the chip presets.", stdout, stderr)
	asJSON := addJSONFlags(fs, "print a JSON array of full chip descriptions")
	if err := parse(fs, args); err != nil {
		return err
	}
	chips, err := api.Chips()
	if err != nil {
		return err
	}
	if *asJSON.on {
		return asJSON.write(stdout, chips)
	}
	t := table{header: []string{"name", "cores", "xbars/core", "crossbar", "bits/cell", "weight bits", "capacity"}}
	for _, c := range chips {
		t.add(c.Name, c.Cores, c.CrossbarsPerCore, fmt.Sprintf("%dx%d", c.CrossbarRows, c.CrossbarCols), c.BitsPerCell, c.WeightBits, mib(c.WeightCapacityBytes()))
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	for _, c := range chips {
		fmt.Fprintf(stdout, "%s: %s\n", c.Name, c.Description)
	}
	return nil
}

func cmdChip(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("chip", "Usage: compass chip --chip S|M|L|NAME|file.json\n\nPrints a chip description as JSON, after validating it.", stdout, stderr)
	chipSpec := fs.String("chip", "", "chip preset or chip .json file")
	fs.Bool("json", true, "accepted for symmetry; the output is always JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *chipSpec == "" {
		return usagef("--chip is required: one of %s, or a .json file", strings.Join(hw.PresetNames(), ", "))
	}
	if err := checkChipName("chip", *chipSpec); err != nil {
		return err
	}
	c, err := api.LoadChip(*chipSpec)
	if err != nil {
		return err
	}
	return c.Write(stdout)
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// mib formats a byte count in MiB.
func mib(bytes int64) string { return fmt.Sprintf("%.3f MiB", float64(bytes)/(1<<20)) }

func cmdInputs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inputs", `Usage: compass inputs --model file.onnx|file.json [--json]

Lists a model file's graph inputs (not its weights) as the file declares them:
shapes batch first, with a dynamic dimension shown by its name (or ?). Every
dynamic dimension besides the batch must be given with --input NAME=shape on
inspect, compile and simulate; a small integer input (a sample rate, a mode
flag) can be given its value with --input NAME:value=16000.`, stdout, stderr)
	modelSpec := fs.String("model", "", "a .onnx model or a .json graph file")
	asJSON := addJSONFlags(fs, "print JSON instead of a table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelSpec == "" {
		return usagef("--model is required: a .onnx model or a .json graph file")
	}
	data, err := os.ReadFile(*modelSpec)
	if err != nil {
		return fmt.Errorf("model file: %w", err)
	}
	ins, err := api.ModelInputs(*modelSpec, data)
	if err != nil {
		return err
	}
	if *asJSON.on {
		return asJSON.write(stdout, ins)
	}
	t := table{header: []string{"input", "dtype", "declared shape", "batch axis", "to give"}}
	for _, in := range ins {
		dims := make([]string, len(in.Shape))
		var give []string
		for i, d := range in.Shape {
			switch {
			case d >= 0:
				dims[i] = fmt.Sprint(d)
			case i < len(in.DimNames) && in.DimNames[i] != "":
				dims[i] = in.DimNames[i]
			default:
				dims[i] = "?"
			}
			if d < 0 && i != in.BatchAxis {
				give = append(give, fmt.Sprintf("dim %d", i))
			}
		}
		note := "-"
		elems := 1
		for _, d := range in.Shape {
			elems *= max(d, 1)
		}
		switch {
		case len(give) > 0:
			note = "the size of " + strings.Join(give, " and ") + ": --input " + in.Name + "=..."
		case strings.HasPrefix(in.DType, "int") || strings.HasPrefix(in.DType, "uint") || in.DType == "bool":
			if elems <= 16 {
				note = "its value, if a branch depends on it: --input " + in.Name + ":value=..."
			}
		}
		batch := "-"
		if in.BatchAxis >= 0 {
			batch = fmt.Sprint(in.BatchAxis)
		}
		t.add(in.Name, in.DType, "["+strings.Join(dims, ",")+"]", batch, note)
	}
	t.write(stdout)
	return nil
}

// layerBits says the layers' weight widths: "4 bits", or "4 to 8 bits by
// layer" when quantized layers keep their own.
func layerBits(layers []api.InspectLayer) string {
	lo, hi := 0, 0
	for _, l := range layers {
		if lo == 0 || l.WeightBits < lo {
			lo = l.WeightBits
		}
		hi = max(hi, l.WeightBits)
	}
	if lo != hi {
		return fmt.Sprintf("%d to %d bits by layer", lo, hi)
	}
	return fmt.Sprintf("%d bits", lo)
}
