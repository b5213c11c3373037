package api

import (
	"context"
	"errors"
	"testing"
)

// An uploaded file is compiled by its returned name; a zoo name resolves
// to nothing (the engine loads it), an unknown upload is an input error on
// the model, and a file that cannot be read keeps the holder as it was.
func TestUploadsLoadResolveCompile(t *testing.T) {
	var u Uploads
	const graph = `{"name":"tiny","nodes":[{"name":"x","op":"Input","shape":[8]},{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":4}}]}`
	info, err := u.Load("tiny.json", []byte(graph), ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != UploadPrefix+"tiny.json" || info.Layers != 1 || info.Params != 8*4 {
		t.Errorf("info %+v: want name %q, 1 layer, 8x4 weights (no bias declared)", info, UploadPrefix+"tiny.json")
	}
	g, err := u.Resolve(info.Name)
	if err != nil || g == nil {
		t.Fatalf("resolve %s: %v %v", info.Name, g, err)
	}
	res, err := Compile(context.Background(), CompileRequest{Model: info.Name, Graph: g, Chip: "S", Batch: 1, Methods: []string{MethodOptimal}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "tiny" || len(res.Layers) != 1 {
		t.Errorf("compiled %s with %d layers, want the uploaded tiny graph", res.Model, len(res.Layers))
	}
	if g, err := u.Resolve("resnet18"); g != nil || err != nil {
		t.Errorf("a zoo name resolved to %v, %v; want nothing (the engine loads it)", g, err)
	}
	var in *InputError
	if _, err := u.Resolve(UploadPrefix + "ghost.onnx"); !errors.As(err, &in) || in.Field != "model" {
		t.Errorf("an upload never loaded: %v, want an input error on model", err)
	}
	if _, err := u.Load("broken.json", []byte(`{"name":`), ModelOptions{}); err == nil {
		t.Error("a broken file loaded")
	}
	if _, err := u.Resolve(UploadPrefix + "broken.json"); err == nil {
		t.Error("a file that failed to load resolves")
	}
	if again, err := u.Resolve(info.Name); again != g || err != nil {
		t.Errorf("the earlier upload is gone after a failed load: %v %v", again, err)
	}
}
