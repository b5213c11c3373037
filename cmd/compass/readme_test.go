package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmePath is the README whose example outputs TestReadmeOutputs checks.
var readmePath = filepath.Join("..", "..", "README.md")

// A README example is a fenced block whose first line is the command,
// "$ go run ./cmd/compass ARGS", and whose other lines are that command's
// output. An HTML comment on the line before the fence may pick parts of
// the output, "<!-- output: first 2, lines 4-6, last 3 -->" (1-based,
// inclusive); a line "..." stands for the lines left out between parts.
// Without the comment the block holds the whole output.
type readmeExample struct {
	fence  int // index of the opening fence line
	end    int // index of the closing fence line
	args   []string
	parts  [][2]int // 1-based inclusive ranges; 0 in [1] means "to the end", negative counts from the end
	picked string   // the comment's text, for messages
}

const readmeCommand = "$ go run ./cmd/compass "

// readmeExamples finds the examples in the README's lines.
func readmeExamples(lines []string) ([]readmeExample, error) {
	var out []readmeExample
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], readmeCommand) {
			continue
		}
		ex := readmeExample{fence: i}
		cmd := strings.TrimPrefix(lines[i+1], readmeCommand)
		if strings.ContainsAny(cmd, `"'|<>$;&`) {
			return nil, fmt.Errorf("README line %d: %q: an example command is plain words, no quotes or shell syntax", i+2, lines[i+1])
		}
		ex.args = strings.Fields(cmd)
		for j := i + 2; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				ex.end = j
				break
			}
		}
		if ex.end == 0 {
			return nil, fmt.Errorf("README line %d: the example's block is never closed", i+1)
		}
		if i > 0 {
			if spec, ok := strings.CutPrefix(strings.TrimSpace(lines[i-1]), "<!-- output:"); ok {
				spec = strings.TrimSpace(strings.TrimSuffix(spec, "-->"))
				parts, err := parseOutputParts(spec)
				if err != nil {
					return nil, fmt.Errorf("README line %d: %v", i, err)
				}
				ex.parts, ex.picked = parts, spec
			}
		}
		out = append(out, ex)
		i = ex.end
	}
	return out, nil
}

// parseOutputParts reads "first N", "last N" and "lines A-B" separated by
// commas.
func parseOutputParts(spec string) ([][2]int, error) {
	var parts [][2]int
	for _, p := range strings.Split(spec, ",") {
		f := strings.Fields(p)
		if len(f) != 2 {
			return nil, fmt.Errorf("output part %q: write first N, last N or lines A-B", p)
		}
		switch f[0] {
		case "first", "last":
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("output part %q: N must be a positive integer", p)
			}
			if f[0] == "first" {
				parts = append(parts, [2]int{1, n})
			} else {
				parts = append(parts, [2]int{-n, 0})
			}
		case "lines":
			a, b, ok := strings.Cut(f[1], "-")
			lo, err1 := strconv.Atoi(a)
			hi, err2 := strconv.Atoi(b)
			if !ok || err1 != nil || err2 != nil || lo < 1 || hi < lo {
				return nil, fmt.Errorf("output part %q: write lines A-B with 1 <= A <= B", p)
			}
			parts = append(parts, [2]int{lo, hi})
		default:
			return nil, fmt.Errorf("output part %q: write first N, last N or lines A-B", p)
		}
	}
	return parts, nil
}

// show is the block an example should hold for a command's output: the
// command line, then the picked lines with "..." between parts that do
// not meet, and where the block starts or ends inside the output.
func (ex readmeExample) show(output string) ([]string, error) {
	out := strings.Split(strings.TrimSuffix(output, "\n"), "\n")
	for i := range out {
		out[i] = strings.TrimRight(out[i], " ")
	}
	block := []string{readmeCommand + strings.Join(ex.args, " ")}
	if ex.parts == nil {
		return append(block, out...), nil
	}
	next := 1 // the first output line not yet shown
	for _, p := range ex.parts {
		lo, hi := p[0], p[1]
		if lo < 0 {
			lo, hi = len(out)+lo+1, len(out)
		}
		if lo < next || hi > len(out) {
			return nil, fmt.Errorf("output part %v of %q: the output has %d lines, and parts must come in order without overlap", p, ex.picked, len(out))
		}
		if lo > next {
			block = append(block, "...")
		}
		block = append(block, out[lo-1:hi]...)
		next = hi + 1
	}
	if next <= len(out) {
		block = append(block, "...")
	}
	return block, nil
}

// Every example output in the README is what its command prints today;
// go test ./cmd/compass -update rewrites the blocks that differ (review
// the diff: prose around a block may quote its figures).
func TestReadmeOutputs(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	examples, err := readmeExamples(lines)
	if err != nil {
		t.Fatal(err)
	}
	// The README shows at least these; a marker lost in an edit must not
	// make the test pass by checking nothing.
	for _, want := range []string{"compile", "inspect", "simulate", "models"} {
		found := false
		for _, ex := range examples {
			found = found || ex.args[0] == want
		}
		if !found {
			t.Errorf("the README has no checked example of compass %s (a block starting %q)", want, readmeCommand+want)
		}
	}
	changed := false
	// Replace from the last block up, so earlier indexes stay valid.
	for k := len(examples) - 1; k >= 0; k-- {
		ex := examples[k]
		code, out, errOut := runCLI(ex.args...)
		if code != exitOK {
			t.Errorf("README line %d: %s: exit %d: %s", ex.fence+2, strings.Join(ex.args, " "), code, errOut)
			continue
		}
		want, err := ex.show(out)
		if err != nil {
			t.Errorf("README line %d: %v", ex.fence+1, err)
			continue
		}
		got := lines[ex.fence+1 : ex.end]
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			continue
		}
		if *update {
			lines = append(lines[:ex.fence+1], append(want, lines[ex.end:]...)...)
			changed = true
			continue
		}
		t.Errorf("README line %d: the output of %s is not what the README shows (rerun with -update and review the diff):\n--- README\n%s\n--- now\n%s",
			ex.fence+2, strings.Join(ex.args, " "), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if changed {
		if err := os.WriteFile(readmePath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The example parser picks what the comments say.
func TestReadmeExampleParts(t *testing.T) {
	readme := strings.Split("text\n<!-- output: first 1, lines 3-3, last 1 -->\n```\n$ go run ./cmd/compass models\nold\n```\n", "\n")
	exs, err := readmeExamples(readme)
	if err != nil || len(exs) != 1 {
		t.Fatalf("%v, %d examples", err, len(exs))
	}
	got, err := exs[0].show("a\nb\nc\nd\ne\n")
	if want := "$ go run ./cmd/compass models\na\n...\nc\n...\ne"; err != nil || strings.Join(got, "\n") != want {
		t.Errorf("show = %q (%v), want %q", strings.Join(got, "\n"), err, want)
	}
	if got, err := exs[0].show("a\nb\nc\n"); err == nil {
		t.Errorf("overlapping parts were accepted: %q", got)
	}
	for _, bad := range []string{"first 0", "lines 4-2", "middle 3", "last x"} {
		if _, err := parseOutputParts(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if _, err := readmeExamples([]string{"```", "$ go run ./cmd/compass compile --model 'x'", "```"}); err == nil {
		t.Error("a quoted argument was accepted")
	}
}

// measuredTime is a wall-clock figure in prose: "0.56 s", "52 ms",
// "2.0 us", "6.7x faster".
var measuredTime = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)? ?(ms|us|µs|s)\b|[0-9.]+x (faster|slower)`)

// The README quotes no measured timing in its prose (outside the checked
// example blocks and the indented commands): timings live in
// docs/figures.md, which scripts/bench.sh writes.
func TestReadmeQuotesNoTimings(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	inBlock := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock || strings.HasPrefix(line, "    ") {
			continue
		}
		if m := measuredTime.FindString(line); m != "" {
			t.Errorf("README line %d quotes a timing (%q): move it to docs/figures.md (scripts/bench.sh) and point there", i+1, m)
		}
	}
	figures, err := os.ReadFile(filepath.Join("..", "..", "docs", "figures.md"))
	if err != nil || !strings.Contains(string(figures), "Written by `bash scripts/bench.sh`") {
		t.Errorf("docs/figures.md is missing or not the output of scripts/bench.sh (%v)", err)
	}
}
