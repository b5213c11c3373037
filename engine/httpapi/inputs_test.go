package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/onnx/onnxtest"
)

// TestUploadFaultsNameTheirField checks the field and the advice of each
// fault of an uploaded model's request: the advice is a request's JSON,
// never the CLI's --input flag.
func TestUploadFaultsNameTheirField(t *testing.T) {
	h := newHandler(t, Config{})
	dynamic := onnxtest.ConvModel([]any{"N", 3, "height", "width"}, 4)
	fixed := onnxtest.ConvModel([]any{1, 3, 8, 8}, 4)
	ifModel := onnxtest.IfModel(4, 2, 3)
	upload := func(name string, file []byte, extra map[string]any) []byte {
		req := map[string]any{"model": name, "model_data": base64.StdEncoding.EncodeToString(file), "chip": "S"}
		for k, v := range extra {
			req[k] = v
		}
		body, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	cases := []struct {
		name   string
		body   []byte
		status int
		field  string
		detail []string
	}{
		{"invalid base64", []byte(`{"model":"m.onnx","model_data":"not*base64","chip":"S"}`), 400, "model_data", []string{"base64"}},
		{"dynamic shape unset", upload("d.onnx", dynamic, nil), 422, "inputs",
			[]string{`"x"`, "height", `"inputs":[{"name":"x","shape":[1,3,HEIGHT,WIDTH]}]`}},
		{"unknown input", upload("d.onnx", dynamic, map[string]any{"inputs": []map[string]any{{"name": "y", "shape": []int{1, 3, 8, 8}}}}), 422, "inputs[0].name", []string{`"y"`, "x"}},
		{"input set twice", upload("d.onnx", dynamic, map[string]any{"inputs": []map[string]any{{"name": "x", "shape": []int{1, 3, 8, 8}}, {"name": "x", "shape": []int{1, 3, 8, 8}}}}), 422, "inputs[1].name", []string{"twice"}},
		{"wrong rank", upload("d.onnx", dynamic, map[string]any{"inputs": []map[string]any{{"name": "x", "shape": []int{1, 3, 8}}}}), 422, "inputs[0].shape", []string{"3 dimensions", "has 4"}},
		{"fixed dimension contradicted", upload("f.onnx", fixed, map[string]any{"inputs": []map[string]any{{"name": "x", "shape": []int{1, 4, 8, 8}}}}), 422, "inputs[0].shape", []string{"fixes it to 3"}},
		{"input_shape of the wrong rank", upload("f.onnx", fixed, map[string]any{"input_shape": []int{1, 3, 8}}), 422, "input_shape", []string{"first graph input"}},
		{"wrong value count", upload("if.onnx", ifModel, map[string]any{"inputs": []map[string]any{{"name": "sr", "value": []int{16000, 8000}}}}), 422, "inputs[0].value", []string{"2 values", "holds 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problemOf(t, do(t, h, http.MethodPost, "/v1/inspect", "application/json", c.body), c.status)
			if p.Field != c.field {
				t.Fatalf("field %q, want %q: %s", p.Field, c.field, p.Detail)
			}
			for _, want := range c.detail {
				if !strings.Contains(p.Detail, want) {
					t.Fatalf("detail lacks %q: %s", want, p.Detail)
				}
			}
			if strings.Contains(p.Detail, "--input") {
				t.Fatalf("detail gives an API client the CLI's flag: %s", p.Detail)
			}
		})
	}
	// The settings the advice asks for are accepted.
	rec := do(t, h, http.MethodPost, "/v1/inspect", "application/json", upload("d.onnx", dynamic, map[string]any{"inputs": []map[string]any{{"name": "x", "shape": []int{1, 3, 16, 16}}}}))
	wantOK(t, rec, "application/json")
}
