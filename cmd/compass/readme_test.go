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

// checkedDocs are the files whose example blocks TestReadmeOutputs checks
// and whose prose TestDocsQuoteNoTimings scans: the README and docs/*.md.
func checkedDocs(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md found (%v)", err)
	}
	return append([]string{readmePath}, docs...)
}

// docName is a checked file's path from the repository root.
func docName(path string) string {
	rel, err := filepath.Rel(filepath.Join("..", ".."), path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// The examples these files must hold; a marker lost in an edit must not
// make the test pass by checking nothing.
var requiredExamples = map[string][]string{
	"README.md":   {"compile", "inspect", "simulate", "models", "sweep", "reproduce"},
	"docs/isa.md": {"simulate"},
}

// Every example output in the README and the docs is what its command
// prints today; go test ./cmd/compass -update rewrites the blocks that
// differ (review the diff: prose around a block may quote its figures).
func TestReadmeOutputs(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range checkedDocs(t) {
		name := docName(path)
		seen[name] = true
		checkExamples(t, path, name, requiredExamples[name])
	}
	for name := range requiredExamples {
		if !seen[name] {
			t.Errorf("%s, which must hold checked examples, is gone", name)
		}
	}
}

// checkExamples compares (or with -update rewrites) one file's examples.
func checkExamples(t *testing.T, path, name string, required []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	examples, err := readmeExamples(lines)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, want := range required {
		found := false
		for _, ex := range examples {
			found = found || ex.args[0] == want
		}
		if !found {
			t.Errorf("%s has no checked example of compass %s (a block starting %q)", name, want, readmeCommand+want)
		}
	}
	changed := false
	// Replace from the last block up, so earlier indexes stay valid.
	for k := len(examples) - 1; k >= 0; k-- {
		ex := examples[k]
		code, out, errOut := runCLI(ex.args...)
		if code != exitOK {
			t.Errorf("%s line %d: %s: exit %d: %s", name, ex.fence+2, strings.Join(ex.args, " "), code, errOut)
			continue
		}
		want, err := ex.show(out)
		if err != nil {
			t.Errorf("%s line %d: %v", name, ex.fence+1, err)
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
		t.Errorf("%s line %d: the output of %s is not what the file shows (rerun with -update and review the diff):\n--- %s\n%s\n--- now\n%s",
			name, ex.fence+2, strings.Join(ex.args, " "), name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if changed {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
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

// measuredTime is a time figure in prose: "0.56 s", "52 ms", "2.0 us",
// "20 min", "3 minutes", "6.7x faster".
var measuredTime = regexp.MustCompile(`\b[0-9][0-9,]*(\.[0-9]+)? ?(ms|us|µs|s|sec|seconds?|min|minutes?|hours?)\b|[0-9.]+x (faster|slower)`)

// notMeasured are the time figures the docs may quote because they are not
// measured timings of this project's code: hardware constants, model
// outputs, settings and cited figures. Each phrase must occur in its file
// (a stale entry fails) and covers the figures inside it.
var notMeasured = []struct{ file, phrase, why string }{
	{"README.md", "19.2 minutes (its TCAD paper)", "PIMCOMP's compile time, cited from its paper"},
	{"docs/hardware.md", "tREFI = 3.9 us", "LPDDR3 refresh interval, a hardware constant [DRAMsim3]"},
	{"docs/hardware.md", "11 us", "PUMA's crossbar write, a cited hardware figure"},
	{"docs/hardware.md", "2.56 us", "chip S's crossbar rewrite, the hardware model's output"},
	{"docs/hardware.md", "1 us a row", "a crossbar write time in a sensitivity study of the model"},
	{"docs/hardware.md", "x slower", "the fit's sensitivity to slower writes and bus, model figures"},
	{"docs/hardware.md", "1 ps to 1 ms", "a validation range of a latency field"},
	{"docs/hardware.md", "1 ps to 1 s", "a validation range of a latency field"},
	{"docs/hardware.md", "tREFI of 7.8 us", "DDR5's refresh interval, a hardware constant"},
	{"docs/estimator.md", "3.8x slower", "greedy's estimated throughput under another placement, a model figure"},
	{"docs/onnx.md", "ms at 16 kHz", "the audio length of a model input"},
	{"docs/onnx.md", "(80 ms)", "the audio length of a model input"},
	{"docs/deploy.md", "get 10 s to finish", "compass serve's shutdown grace, a setting"},
	{"docs/deploy.md", "10 s for the request headers, 60 s for the whole request", "compass serve's timeouts, settings"},
	{"docs/deploy.md", "plus 30 s for the reply, 120 s idle", "compass serve's timeouts, settings"},
	{"docs/deploy.md", "60 s deadline", "the Worker's default deadline, a setting"},
	{"docs/deploy.md", "=5s", "a deadline setting in an example"},
	{"docs/deploy.md", "a 1 s deadline", "a deadline setting in a test"},
	{"docs/deploy.md", "10 ms of CPU", "Cloudflare's free plan limit"},
	{"docs/deploy.md", "(30 s by default, up to 5 min", "Cloudflare's paid plan limits"},
	{"docs/deploy.md", "load a Worker (1 s)", "Cloudflare's startup limit"},
}

// Neither the README nor the docs quote a measured timing in their prose
// (outside code blocks and indented commands): timings live in
// docs/figures.md, which scripts/bench.sh writes with the machine and the
// command behind each. docs/reproduction.md, generated by compass
// reproduce, quotes only the model's estimated times, never a measured one.
func TestDocsQuoteNoTimings(t *testing.T) {
	used := make([]bool, len(notMeasured))
	for _, path := range checkedDocs(t) {
		name := docName(path)
		if name == "docs/figures.md" || name == "docs/reproduction.md" {
			continue
		}
		data, err := os.ReadFile(path)
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
			for k, nm := range notMeasured {
				if nm.file == name && strings.Contains(line, nm.phrase) {
					line = strings.ReplaceAll(line, nm.phrase, " ")
					used[k] = true
				}
			}
			if m := measuredTime.FindString(line); m != "" {
				t.Errorf("%s line %d quotes a timing (%q): move it to docs/figures.md (scripts/bench.sh) and point there, or, if it is not a measured timing, add it to notMeasured with the reason", name, i+1, m)
			}
		}
	}
	for k, nm := range notMeasured {
		if !used[k] {
			t.Errorf("notMeasured: %q no longer occurs in %s: remove the entry", nm.phrase, nm.file)
		}
	}
}

// The timing scan catches what it must and passes what it may.
func TestMeasuredTimePattern(t *testing.T) {
	for _, s := range []string{"runs in about 0.7 s on", "takes 4 ms", "about 2 us to", "20 min (91,101 runs)", "about 3 minutes at", "1.66 s", "6.7x faster", "in 25-80 ms", "1,200 s"} {
		if !measuredTime.MatchString(s) {
			t.Errorf("%q is not caught", s)
		}
	}
	for _, s := range []string{"2 shared cores", "16 stripes", "4 bits", "10 ns write pulse", "a few seconds", "36 MiB", "2.26x greedy"} {
		if m := measuredTime.FindString(s); m != "" {
			t.Errorf("%q is caught (%q)", s, m)
		}
	}
}

// benchCall is a section scripts/bench.sh always writes: its kind (timed,
// gobench, fenced), title and the rest of the call's line.
type benchCall struct{ kind, title, rest string }

var benchCallLine = regexp.MustCompile(`^(timed|gobench|fenced) "([^"]+)" (.*)$`)

// docs/figures.md has the structure scripts/bench.sh writes: the header
// with the date, commit, machine and load; every section the script
// always writes (a call at the script's top level), each with its
// command; every timed command's row; the page and API benchmarks or the
// note that they were not run; the closing load line. The figures
// themselves are measurements and are not checked.
func TestFiguresPageHasTheBenchStructure(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "bench.sh"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "figures.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	for _, re := range []string{
		`(?m)\A# Measured figures\n\nWritten by ` + "`bash scripts/bench.sh`",
		`(?m)^- measured: 20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]Z \(UTC\), commit [0-9a-f]{7,40}\b`,
		`(?m)^- machine: .+, [0-9]+ cores, go[0-9.]+ \S+, \S+`,
		`(?m)^- load average \(1, 5, 15 min\) at the start: [0-9.]+ [0-9.]+ [0-9.]+$`,
		`(?m)^- load average at the end: [0-9.]+ [0-9.]+ [0-9.]+; finished 20[0-9-]+T[0-9:]+Z \(UTC\)\n*\z`,
		`(?m)^### the same compile as WebAssembly under Node v[0-9.]+|^\(The WebAssembly benchmark was not run: node is not installed\.\)$`,
		`(?m)^### the page's main thread in headless Chromium\n\n` + "`bash scripts/bench-page.sh`" + `|^\(The page benchmark, .* was not run: set COMPASS_BENCH_PAGE=1\.\)$`,
		`(?m)^### one HTTP API request, natively and in workerd\n\n` + "`bash scripts/bench-api.sh 20`" + `|^\(The HTTP API benchmark, .* was not run: set COMPASS_BENCH_API=1\.\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(page) {
			t.Errorf("docs/figures.md lacks what bench.sh writes: %s", re)
		}
	}
	var calls []benchCall
	for _, line := range strings.Split(string(script), "\n") {
		if m := benchCallLine.FindStringSubmatch(line); m != nil {
			calls = append(calls, benchCall{m[1], m[2], m[3]})
		}
	}
	if len(calls) < 10 {
		t.Fatalf("scripts/bench.sh has %d top-level timed/gobench/fenced calls; the parse lost them", len(calls))
	}
	for _, c := range calls {
		switch c.kind {
		case "timed":
			row := "| " + c.title + " | `compass " + c.rest + "` | "
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row) + `[0-9.]+ s \| [0-9]+ MB \|$`).MatchString(page) {
				t.Errorf("docs/figures.md has no row %q with a time and a peak RSS: run bash scripts/bench.sh", row)
			}
		case "gobench":
			// gobench "TITLE" PACKAGE 'PATTERN' [flags]: the section's command and its Benchmark lines.
			f := strings.Fields(c.rest)
			if len(f) < 2 {
				t.Errorf("bench.sh: gobench %q: no package and pattern", c.title)
				continue
			}
			cmd := "`go test " + f[0] + " -run '^$' -bench " + f[1] + " -benchmem"
			re := `(?m)^### ` + regexp.QuoteMeta(c.title) + `\n\n` + regexp.QuoteMeta(cmd) + ".*`\n\n```text\n(Benchmark\\S+ .*\n)+```"
			if !regexp.MustCompile(re).MatchString(page) {
				t.Errorf("docs/figures.md has no section %q with the command %s and its Benchmark lines: run bash scripts/bench.sh", c.title, cmd)
			}
			for _, bench := range strings.Split(strings.Trim(f[1], "'"), "|") {
				if !regexp.MustCompile(`(?m)^Benchmark` + regexp.QuoteMeta(bench)).MatchString(page) {
					t.Errorf("docs/figures.md has no result of benchmark %s (bench.sh: %q)", bench, c.title)
				}
			}
		case "fenced":
			re := `(?m)^### ` + regexp.QuoteMeta(c.title) + "\n\n`[^`\n]+`\n\n```text\n[^`]+```"
			if !regexp.MustCompile(re).MatchString(page) {
				t.Errorf("docs/figures.md has no section %q with its command and output: run bash scripts/bench.sh", c.title)
			}
		}
	}
}
