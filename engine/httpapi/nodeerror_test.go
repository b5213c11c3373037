package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/compass-go/compass/engine/onnx/onnxtest"
)

// TestProblemNamesTheNode: an uploaded model whose one node is at fault is
// answered with a problem document whose node member names it, beside
// the field; a fault of no node has no node member.
func TestProblemNamesTheNode(t *testing.T) {
	h := newHandler(t, Config{})
	dangling := []byte(`{"name":"bad","nodes":[{"name":"x","op":"Input","shape":[8]},{"name":"fc","op":"Linear","inputs":["nope"],"linear":{"out_features":4}}]}`)
	cases := []struct {
		name, file string
		data       []byte
		node       string // "" for no node member
	}{
		{"a JSON graph's dangling input", "net.json", dangling, "fc"},
		{"an ONNX node the reader refuses", "net.onnx", onnxtest.ConvModel([]any{1, 3, 8, 8}, 4, "Reshape"), "reshape_0"},
		{"a file that is no model", "net.onnx", []byte("not a protobuf at all"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/v1/compile", "/v1/inspect"} {
				req := map[string]any{"model": c.file, "model_data": base64.StdEncoding.EncodeToString(c.data), "chip": "S"}
				if path == "/v1/compile" {
					req["batch"] = 1
				}
				body, _ := json.Marshal(req)
				rec := do(t, h, http.MethodPost, path, "application/json", body)
				if rec.Code != http.StatusUnprocessableEntity {
					t.Fatalf("%s: status %d, want 422: %s", path, rec.Code, rec.Body)
				}
				var doc map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
					t.Fatalf("%s: problem document does not parse: %v", path, err)
				}
				if doc["field"] != "model_data" {
					t.Errorf("%s: field %v, want model_data", path, doc["field"])
				}
				node, has := doc["node"]
				switch {
				case c.node == "" && has:
					t.Errorf("%s: node member %v for a fault of no node", path, node)
				case c.node != "" && node != c.node:
					t.Errorf("%s: node member %v, want %q (%s)", path, node, c.node, rec.Body)
				}
			}
		})
	}
}
