package main

import (
	"io"
	"path/filepath"

	"github.com/compass-go/compass/engine/api"
)

func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", `Usage: compass export --model NAME|file.onnx|file.json [--out FILE]

Writes a model as a graph in this project's JSON IR (docs/model-json.md), the
format --model file.json reads: a zoo network to start a network of your own
from, or an ONNX file as the graph the engine sees. Without --out it prints the
JSON.`, stdout, stderr)
	modelSpec := fs.String("model", "", "zoo network name (see compass models), a .onnx model or a .json graph file")
	out := fs.String("out", "", "write the JSON to this file instead of printing it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelSpec == "" {
		return usagef("--model is required: name a network from `compass models`, a .onnx model or a .json graph file")
	}
	if *out != "" && filepath.Ext(*out) != ".json" {
		return usagef("--out %s: name a .json file (a model file is read back as a graph only with that extension)", *out)
	}
	if err := checkModelName("model", *modelSpec); err != nil {
		return err
	}
	g, err := api.LoadModel(*modelSpec)
	if err != nil {
		return err
	}
	if *out == "" {
		return api.WriteGraphJSON(stdout, g)
	}
	return writeFile(*out, func(w io.Writer) error { return api.WriteGraphJSON(w, g) })
}
