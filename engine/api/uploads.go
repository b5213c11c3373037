package api

import (
	"fmt"
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// UploadPrefix starts the name of a model a front end loaded from a file
// ("upload:net.onnx"), so it never collides with a zoo network.
const UploadPrefix = "upload:"

// Uploads holds the models a front end loaded from files (the playground's
// uploads), by the name Load returns. Requests name them like zoo models;
// Resolve turns a request's model name into the loaded graph. It is not
// safe for concurrent use: the WebAssembly front end has one thread.
type Uploads struct {
	graphs map[string]*model.Graph
}

// Load reads a model file held in memory (with opt setting its inputs),
// keeps it under UploadPrefix + name, replacing an earlier file of that
// name, and returns its summary. Its errors are LoadModelBytesWith's,
// prefixed with the file's name.
func (u *Uploads) Load(name string, data []byte, opt ModelOptions) (ModelInfo, error) {
	g, err := LoadModelBytesWith(name, data, opt)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("%s: %w", name, err)
	}
	key := UploadPrefix + name
	if u.graphs == nil {
		u.graphs = map[string]*model.Graph{}
	}
	u.graphs[key] = g
	t := g.Totals()
	return ModelInfo{Name: key, Family: "uploaded", Description: name, Nodes: len(g.Nodes),
		Layers: len(g.CrossbarLayers()), Params: t.Params, Weights: t.Weights, MACs: t.MACs}, nil
}

// Resolve returns the loaded graph a model name stands for: nil for a
// name without UploadPrefix (a zoo network, which the engine resolves
// itself), and an *InputError on "model" for an upload this holder lacks.
func (u *Uploads) Resolve(name string) (*model.Graph, error) {
	if !strings.HasPrefix(name, UploadPrefix) {
		return nil, nil
	}
	g, ok := u.graphs[name]
	if !ok {
		return nil, &InputError{Field: "model", Err: fmt.Errorf("model %q is not loaded in this page: upload the file again", name)}
	}
	return g, nil
}
