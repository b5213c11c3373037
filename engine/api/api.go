// Package api is the facade every front end (the CLI, the WebAssembly
// module, tests) calls: it resolves model and chip names, runs the engine's
// stages and returns plain result values with stable JSON encodings, so the
// same request gives byte-identical output everywhere.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

// ModelInfo summarises one zoo network.
type ModelInfo struct {
	Name        string `json:"name"`
	Family      string `json:"family"`
	Description string `json:"description"`
	Nodes       int    `json:"nodes"`
	Layers      int    `json:"layers"`  // Conv, ConvTranspose and Linear layers (mapped onto crossbars)
	Params      int64  `json:"params"`  // all learned parameters
	Weights     int64  `json:"weights"` // Conv/Linear weights without biases
	MACs        int64  `json:"macs"`    // multiply-accumulates per inference
}

// Models lists the zoo with each network's figures.
func Models() ([]ModelInfo, error) {
	var out []ModelInfo
	for _, e := range zoo.List() {
		g, err := zoo.Build(e.Name)
		if err != nil {
			return nil, err
		}
		t := g.Totals()
		out = append(out, ModelInfo{Name: e.Name, Family: e.Family, Description: e.Description,
			Nodes: len(g.Nodes), Layers: len(g.CrossbarLayers()), Params: t.Params, Weights: t.Weights, MACs: t.MACs})
	}
	return out, nil
}

// LoadModel resolves a model spec: a zoo name, the path of an ONNX model
// (a .onnx file, read by engine/onnx with a dynamic batch at 1; a dynamic
// dimension other than the batch is an error: use LoadModelWith with input
// settings), or the path of a graph file in this project's JSON IR (a .json
// file holding {"name", "nodes"}).
func LoadModel(spec string) (*model.Graph, error) {
	if spec == "" {
		return nil, fmt.Errorf("no model given: name one of %s, or a .onnx model or a .json graph file", strings.Join(zoo.Names(), ", "))
	}
	if isONNX(spec) {
		return loadONNXFile(spec, ModelOptions{})
	}
	if strings.HasSuffix(strings.ToLower(spec), ".json") || strings.ContainsRune(spec, filepath.Separator) {
		f, err := os.Open(spec)
		if err != nil {
			return nil, fmt.Errorf("model file: %w", err)
		}
		defer f.Close()
		return ReadGraphJSON(f)
	}
	return zoo.Build(spec)
}

// maxGraphJSONBytes bounds a graph file read into memory (64 MiB).
const maxGraphJSONBytes = 64 << 20

// ReadGraphJSON reads a graph in the JSON IR and infers it. Unknown fields
// are errors, so a typo in an attribute name is reported, not ignored.
func ReadGraphJSON(r io.Reader) (*model.Graph, error) {
	lr := &io.LimitedReader{R: r, N: maxGraphJSONBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var g model.Graph
	if err := dec.Decode(&g); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("graph JSON is larger than %d bytes", maxGraphJSONBytes)
		}
		return nil, fmt.Errorf("graph JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("graph JSON: unexpected data after the graph object")
	}
	if g.Name == "" {
		g.Name = "model"
	}
	if err := g.Infer(); err != nil {
		return nil, err
	}
	return &g, nil
}

// LoadChip resolves a chip spec: a preset name or a JSON file.
func LoadChip(spec string) (*hw.Chip, error) { return hw.Resolve(spec) }

// InspectLayer is one Conv/Linear layer's crossbar mapping.
type InspectLayer struct {
	Name          string  `json:"name"`
	Op            string  `json:"op"`
	InShape       string  `json:"in_shape"`
	OutShape      string  `json:"out_shape"`
	Rows          int     `json:"rows"`   // matrix rows per group
	Cols          int     `json:"cols"`   // matrix columns per group (output channels per group)
	Groups        int     `json:"groups"` // convolution groups
	ColsPerWeight int     `json:"cols_per_weight"`
	GroupsPerXbar int     `json:"groups_per_crossbar"`
	RowBlocks     int     `json:"row_blocks"`
	Stripes       int     `json:"stripes"`
	InputSplits   int     `json:"input_splits"`
	Crossbars     int     `json:"crossbars"`
	Units         int     `json:"units"`
	Utilisation   float64 `json:"utilisation"`
	Weights       int64   `json:"weights"`
	WeightBits    int     `json:"weight_bits"` // the layer's weight precision on the chip (a quantized ONNX layer keeps its own)
	MACs          int64   `json:"macs"`
	Positions     int64   `json:"positions"` // input vectors (MVMs per crossbar) per inference
}

// InspectResult is the mapping of a whole model on a chip.
type InspectResult struct {
	Model              string         `json:"model"`
	Chip               string         `json:"chip"`
	Params             int64          `json:"params"`
	Weights            int64          `json:"weights"`
	WeightBytes        int64          `json:"weight_bytes"` // at each layer's weight precision
	MACs               int64          `json:"macs"`
	ChipWeightBytes    int64          `json:"chip_weight_bytes"`
	Layers             []InspectLayer `json:"layers"`
	Units              int            `json:"units"`
	CrossbarsNeeded    int            `json:"crossbars_needed"`
	CrossbarsAvailable int            `json:"crossbars_available"`
	Utilisation        float64        `json:"utilisation"`
	Fits               bool           `json:"fits"`
}

// Inspect maps a model onto a chip and reports the placement.
func Inspect(g *model.Graph, chip *hw.Chip) (*InspectResult, error) {
	m, err := mapping.Map(g, chip)
	if err != nil {
		return nil, err
	}
	t := g.Totals()
	// The weights' bytes at each layer's weight precision (a quantized
	// ONNX layer keeps 8 bits on a 4-bit chip: mapping.Layer.WeightBits).
	var bits int64
	for _, l := range m.Layers {
		bits += g.NodeStats(l.Node).Weights * int64(l.WeightBits)
	}
	res := &InspectResult{Model: g.Name, Chip: chip.Name, Params: t.Params, Weights: t.Weights, MACs: t.MACs,
		WeightBytes:     (bits + 7) / 8,
		ChipWeightBytes: chip.WeightCapacityBytes(), Units: len(m.Units),
		CrossbarsNeeded: m.CrossbarsNeeded, CrossbarsAvailable: m.CrossbarsAvailable,
		Utilisation: m.Utilisation, Fits: m.Fits}
	for _, l := range m.Layers {
		st := g.NodeStats(l.Node)
		in := g.Nodes[g.Producers(l.Node)[0]].Out
		res.Layers = append(res.Layers, InspectLayer{Name: l.Name, Op: string(l.Op),
			InShape: in.String(), OutShape: g.Nodes[l.Node].Out.String(),
			Rows: l.Rows, Cols: l.Cols, Groups: l.Groups, ColsPerWeight: l.ColsPerWeight,
			GroupsPerXbar: l.GroupsPerCrossbar, RowBlocks: l.RowBlocks, Stripes: l.Stripes, InputSplits: l.InputSplits,
			Crossbars: l.Crossbars, Units: l.NumUnits, Utilisation: l.Utilisation,
			Weights: st.Weights, WeightBits: l.WeightBits, MACs: st.MACs, Positions: l.Positions})
	}
	return res, nil
}

// WriteJSON encodes v as every front end returns it: compact, a trailing
// newline, HTML characters unescaped. The CLI's --json and the WebAssembly
// module both use it, so the same request gives the same bytes. (Compact:
// indentation doubled the bytes and cost a fifth of a compile's time.)
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteIndentedJSON is WriteJSON with two-space indentation, for reading
// (the CLI's --json --indent).
func WriteIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Chips returns every chip preset, in PresetNames order.
func Chips() ([]*hw.Chip, error) {
	var out []*hw.Chip
	for _, name := range hw.PresetNames() {
		c, err := hw.Preset(name)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// InspectRequest names a model and a chip to inspect.
type InspectRequest struct {
	Model    string       `json:"model"`
	Graph    *model.Graph `json:"-"` // an already loaded model (takes precedence over Model)
	Chip     string       `json:"chip"`
	ChipSpec *hw.Chip     `json:"chip_spec,omitempty"` // a full chip description (takes precedence over Chip)
	Limits   *Limits      `json:"limits,omitempty"`    // bounds on the work (nil: DefaultLimits; only max_nodes and max_units apply)
}

// InspectModel resolves the request and inspects the mapping. A model over
// the node limit, or whose mapping would have more units than the unit
// limit, is refused with a *LimitError before it is mapped.
func InspectModel(req InspectRequest) (*InspectResult, error) {
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	g, chip, err := resolveModelChip(req.Model, req.Graph, req.Chip, req.ChipSpec)
	if err != nil {
		return nil, err
	}
	if err := overLimit("model graph nodes", int64(len(g.Nodes)), int64(lim.MaxNodes), liftNodes); err != nil {
		return nil, err
	}
	if err := checkUnits(g, chip, lim); err != nil {
		return nil, err
	}
	res, err := Inspect(g, chip)
	if err != nil {
		return nil, asInputError("model", err)
	}
	return res, nil
}

// NodeError reports what is wrong with one node of a model (a graph's
// check, or an ONNX node the reader refuses): the node's name, its op and
// the reason. It reaches a front end inside the *InputError of the model's
// field, so errors.As finds both: the field to mark and the node to name.
type NodeError = model.NodeError

// resolveModelChip loads the model and chip a request names. Its errors
// are *InputError: Field "model" for the model (wrapping a *NodeError when
// one node is at fault), "chip" for a preset name or chip file, and
// "chip_spec.<key>" for each bad key of a chip description given in the
// request (several joined by errors.Join).
func resolveModelChip(modelSpec string, g *model.Graph, chipSpec string, spec *hw.Chip) (*model.Graph, *hw.Chip, error) {
	var err error
	if g == nil {
		if g, err = LoadModel(modelSpec); err != nil {
			return nil, nil, asInputError("model", err)
		}
	}
	chip := spec
	if chip == nil {
		if chip, err = LoadChip(chipSpec); err != nil {
			return nil, nil, asInputError("chip", err)
		}
	} else if err := chip.Validate(); err != nil {
		return nil, nil, chipSpecError(err)
	}
	return g, chip, nil
}

// asInputError returns err if it already is an *InputError, else wraps it
// as one for field.
func asInputError(field string, err error) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	return &InputError{Field: field, Err: err}
}

// chipSpecError turns Validate's field errors into one *InputError per
// key, Field "chip_spec.<key>", joined when there are several.
func chipSpecError(err error) error {
	fes := hw.FieldErrors(err)
	if len(fes) == 0 {
		return &InputError{Field: "chip_spec", Err: err}
	}
	if len(fes) == 1 {
		return &InputError{Field: "chip_spec." + fes[0].Field, Err: fes[0]}
	}
	errs := make([]error, len(fes))
	for i, fe := range fes {
		errs[i] = &InputError{Field: "chip_spec." + fe.Field, Err: fe}
	}
	return errors.Join(errs...)
}
