package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model/zoo"
)

// A zoo network or chip preset named by a flag is checked before any work:
// a name the engine does not know is a usage error (exit 2) that names the
// flag and the closest known name, the same on every command.

// zooSpec reports whether a --model value names a zoo network rather than
// a file, by api.LoadModel's rule: .onnx and .json values and paths are
// files, anything else a network name.
func zooSpec(spec string) bool {
	lower := strings.ToLower(spec)
	return spec != "" && !strings.HasSuffix(lower, ".onnx") && !strings.HasSuffix(lower, ".json") &&
		!strings.ContainsRune(spec, filepath.Separator)
}

// checkModelName is nil when flagName's value is a file or a network the
// zoo has, and otherwise a usage error with the closest network.
func checkModelName(flagName, spec string) error {
	if !zooSpec(spec) {
		return nil
	}
	names := zoo.Names()
	for _, n := range names {
		if strings.EqualFold(n, spec) {
			return nil
		}
	}
	// The zoo also takes spellings such as "SqueezeNet1.1"; only a name it
	// refuses is unknown.
	if _, err := api.LoadModel(spec); err == nil {
		return nil
	}
	if near := closestName(spec, names); near != "" {
		return usagef("--%s %s: the zoo has no such network; did you mean %s? (compass models lists them; a model file ends in .onnx or .json)", flagName, spec, near)
	}
	return usagef("--%s %s: the zoo has no such network: name one of %s, or a .onnx or .json model file", flagName, spec, strings.Join(names, ", "))
}

// checkChipName is nil when flagName's value is a chip file or a preset,
// and otherwise a usage error with the closest preset (hw.Resolve's rule:
// a .json value is a file, then a preset, then any existing file).
func checkChipName(flagName, spec string) error {
	s := strings.TrimSpace(spec)
	if s == "" || strings.HasSuffix(strings.ToLower(s), ".json") {
		return nil
	}
	if _, err := hw.Preset(s); err == nil {
		return nil
	}
	if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
		return nil
	}
	names := hw.PresetNames()
	if near := closestName(s, names); near != "" {
		return usagef("--%s %s: no chip preset of that name; did you mean %s? (compass chips lists them; a chip file ends in .json)", flagName, spec, near)
	}
	return usagef("--%s %s: no chip preset of that name: name one of %s, or a .json chip file", flagName, spec, strings.Join(names, ", "))
}

// checkNames checks a comma-separated list of names given by flagName.
func checkNames(flagName string, list []string, check func(flagName, spec string) error) error {
	for _, s := range list {
		if err := check(flagName, s); err != nil {
			return err
		}
	}
	return nil
}

// closestName is the candidate closest to name, case aside (at most a
// third of its letters, and at least one, wrong), or "".
func closestName(name string, candidates []string) string {
	best, bestDist := "", len(name)/3+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// positionalFlag is the flag a stray argument most likely belongs to
// ("compass chip Z" means --chip Z): the command's only name flag, or,
// when it has both --model and --chip, --chip for a preset and --model
// otherwise; "" when the command names neither.
func positionalFlag(fs *flag.FlagSet, arg string) string {
	var have []string
	for _, name := range []string{"model", "chip", "models", "chips"} {
		if fs.Lookup(name) != nil {
			have = append(have, name)
		}
	}
	switch {
	case len(have) == 0:
		return ""
	case len(have) == 1:
		return have[0]
	}
	if _, err := hw.Preset(arg); err == nil {
		return have[1]
	}
	return have[0]
}
