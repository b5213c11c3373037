package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

// Media types the API reads and writes.
const (
	typeJSON      = "application/json"
	typeMsgpack   = "application/msgpack"
	typeProblem   = "application/problem+json"
	typeMultipart = "multipart/form-data"
)

// msgpackTypes are the names clients use for msgpack.
var msgpackTypes = []string{typeMsgpack, "application/x-msgpack", "application/vnd.msgpack"}

// requestError is a fault of the request found before the engine runs:
// the HTTP status, the field of the request's JSON at fault ("" for the
// body as a whole) and what is wrong.
type requestError struct {
	status int
	field  string
	err    error
}

func (e *requestError) Error() string {
	if e.field == "" {
		return e.err.Error()
	}
	return e.field + ": " + e.err.Error()
}
func (e *requestError) Unwrap() error { return e.err }

func badField(field string, format string, a ...any) error {
	return &requestError{http.StatusBadRequest, field, fmt.Errorf(format, a...)}
}

// uploader is a request body that can take a model file sent as a
// multipart part.
type uploader interface {
	setModelFile(name string, data []byte)
}

// decode reads a request body into v by its Content-Type: JSON (also when
// no type is given), msgpack (decoded, then read as the same JSON, so both
// encodings accept exactly the same requests) or multipart/form-data with
// a "request" part (JSON) and an optional "model" part (a model file).
// The body is bounded by MaxBodyBytes. Unknown fields are errors naming
// them.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	ct := r.Header.Get("Content-Type")
	mt, params := "", map[string]string(nil)
	if ct != "" {
		var err error
		if mt, params, err = mime.ParseMediaType(ct); err != nil {
			return &requestError{http.StatusUnsupportedMediaType, "", fmt.Errorf("Content-Type %q does not parse (%v): send application/json, application/msgpack or multipart/form-data", ct, err)}
		}
	}
	switch {
	case mt == "" || mt == typeJSON:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		return decodeJSON(data, v)
	case isMsgpack(mt):
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		return decodeMsgpack(data, v)
	case mt == typeMultipart:
		return decodeMultipart(r, params["boundary"], v)
	}
	return &requestError{http.StatusUnsupportedMediaType, "", fmt.Errorf("Content-Type %q is not one the API reads: send application/json, application/msgpack or multipart/form-data (a \"request\" part and a \"model\" file part)", mt)}
}

func isMsgpack(mt string) bool {
	for _, t := range msgpackTypes {
		if strings.EqualFold(mt, t) {
			return true
		}
	}
	return false
}

// decodeJSON reads one JSON object strictly.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return badField("", "the request body is empty: send a JSON object such as {\"model\":\"resnet18\",\"chip\":\"M\",\"batch\":1}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badField("", "unexpected data after the request's JSON object: send one object")
	}
	return nil
}

// jsonError names the field a JSON decoding error is about.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var b64Err base64.CorruptInputError
	switch {
	case errors.As(err, &typeErr):
		field := jsonPath(typeErr.Field)
		if field == "" {
			return badField("", "the request must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return badField(field, "a JSON %s cannot be a %s: see docs/deploy.md for the request fields", typeErr.Value, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return badField("", "the body is not valid JSON (at byte %d: %v)", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &b64Err):
		return badField("model_data", "not valid base64 (at byte %d of the string): send the model file's bytes in standard base64 with padding (in msgpack: as bin, not str), or the file as a multipart \"model\" part", int64(b64Err))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badField("", "the body's JSON ends early: send a complete object")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		return badField(field, "no such field in this request: see docs/deploy.md for the fields each endpoint takes")
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return err
	}
	return badField("", "%v", err)
}

// embeddedTypes are the Go names of the structs a request body embeds,
// which encoding/json puts in a field's path; the client knows only the
// JSON names.
var embeddedTypes = []string{"CompileRequest.", "InspectRequest.", "SweepRequest.", "compileBody.", "modelOptions."}

// jsonPath is a decoding error's field path in the request's JSON names.
func jsonPath(field string) string {
	for changed := true; changed; {
		changed = false
		for _, t := range embeddedTypes {
			if rest, ok := strings.CutPrefix(field, t); ok {
				field, changed = rest, true
			}
		}
	}
	return field
}

// decodeMsgpack reads a msgpack map and decodes it as the same JSON
// object, so the field names, types and checks are the JSON request's
// (binary data, such as a model file, becomes the base64 JSON carries).
//
// The body is walked first (checkMsgpack): the decoder sizes slices and
// maps by their declared lengths, so no length may exceed the body's
// bytes, and nesting and the count of values are bounded.
func decodeMsgpack(data []byte, v any) error {
	if len(data) == 0 {
		return badField("", "the request body is empty: send a msgpack map such as {\"model\":\"resnet18\"}")
	}
	if err := checkMsgpack(data); err != nil {
		return badField("", "%v", err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return badField("", "the body is not valid msgpack: %v", err)
	}
	if _, ok := generic.(map[string]any); !ok {
		return badField("", "the msgpack body must be a map with string keys (the JSON request's fields), not %T", generic)
	}
	j, err := json.Marshal(generic)
	if err != nil {
		return badField("", "the msgpack body holds a value JSON cannot carry: %v", err)
	}
	return decodeJSON(j, v)
}

// decodeMultipart reads a "request" part (JSON) and an optional "model"
// part (a model file: ONNX or a JSON graph, named by its file name).
func decodeMultipart(r *http.Request, boundary string, v any) error {
	if boundary == "" {
		return badField("", "multipart/form-data without a boundary parameter")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return badField("", "multipart body: %v", err)
	}
	var reqJSON, modelData []byte
	var modelName string
	seenRequest := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return err
			}
			return badField("", "multipart body: %v", err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return err
		}
		switch part.FormName() {
		case "request":
			reqJSON, seenRequest = data, true
		case "model":
			modelData, modelName = data, part.FileName()
		default:
			return badField(part.FormName(), "unknown multipart part: send a \"request\" part (the JSON request) and optionally a \"model\" part (the model file)")
		}
	}
	if !seenRequest {
		return badField("request", "the multipart body has no \"request\" part holding the JSON request")
	}
	if err := decodeJSON(reqJSON, v); err != nil {
		return err
	}
	if modelData != nil {
		u, ok := v.(uploader)
		if !ok {
			return badField("model", "this endpoint takes no model file")
		}
		u.setModelFile(modelName, modelData)
	}
	return nil
}

// resolveModel turns the request's model fields into a graph: an
// uploaded file (model_data, named by model) or a zoo network. A client
// never names a file on the server.
func resolveModel(name string, data []byte, opt modelOptions) (*model.Graph, error) {
	if len(data) > 0 {
		if name == "" {
			name = "model"
		}
		g, err := api.LoadModelBytesWith(name, data, api.ModelOptions{InputShape: opt.InputShape, Inputs: opt.Inputs})
		if err != nil {
			if inErr := inputsError(name, data, opt, err); inErr != nil {
				return nil, inErr
			}
			return nil, &requestError{http.StatusUnprocessableEntity, "model_data", err}
		}
		return g, nil
	}
	if len(opt.InputShape) > 0 || len(opt.Inputs) > 0 {
		field := "inputs"
		if len(opt.Inputs) == 0 {
			field = "input_shape"
		}
		return nil, badField(field, "input shapes and values apply to an uploaded ONNX model only, and %q is a built-in network with fixed shapes", name)
	}
	if name == "" {
		return nil, badField("model", "no model given: name one of %s, or upload a model file (model_data as base64, or a multipart \"model\" part)", strings.Join(zoo.Names(), ", "))
	}
	g, err := zoo.Build(name)
	if err != nil {
		return nil, badField("model", "%q is not a built-in network: name one of %s, or upload the file (model_data as base64, or a multipart \"model\" part)", name, strings.Join(zoo.Names(), ", "))
	}
	return g, nil
}

// modelOptions are an uploaded ONNX model's input settings
// (api.ModelOptions): the first input's shape, or inputs set by name.
type modelOptions struct {
	InputShape []int              `json:"input_shape,omitempty"`
	Inputs     []api.InputSetting `json:"inputs,omitempty"`
}

// checkChip accepts a preset name when no full chip is given: a client
// never names a file on the server.
func checkChip(field, name string, spec *hw.Chip) error {
	if spec != nil {
		return nil
	}
	if _, err := hw.Preset(name); err != nil {
		return badField(field, "%q is not a chip preset: name one of %s, or send the whole chip as chip_spec (GET /v1/chips lists them)", name, strings.Join(hw.PresetNames(), ", "))
	}
	return nil
}

// A field a request omits means what the CLI's flag means when it is not
// given, so that a request and the command line with the same fields give
// the same bytes: the body is filled with these before it is decoded, and
// decoding replaces only the fields the request holds.

// defaultInspect is `compass inspect`'s defaults: chip M.
func defaultInspect() api.InspectRequest { return api.InspectRequest{Chip: "M"} }

// defaultCompile is `compass compile` and `compass simulate`'s defaults:
// chip M, batch 1, method compass, objective latency, seed 1.
func defaultCompile() api.CompileRequest {
	return api.CompileRequest{Chip: "M", Batch: 1, Methods: []string{api.MethodCompass}, Objective: "latency", Seed: 1}
}

// defaultSweep is `compass sweep`'s defaults: the paper's grid (its three
// networks on chips S, M, L at batches 1, 2, 4, 8, 16) with every method,
// objective latency, seed 1.
func defaultSweep() api.SweepRequest {
	g := api.PaperGrid()
	g.Methods = api.Methods()
	return g
}

// inspectBody is POST /v1/inspect's request: api.InspectRequest and an
// optional uploaded model.
type inspectBody struct {
	api.InspectRequest
	ModelData []byte `json:"model_data,omitempty"` // a model file, base64 in JSON
	modelOptions
}

func (b *inspectBody) setModelFile(name string, data []byte) {
	b.ModelData = data
	if name != "" {
		b.Model = name
	}
}

func (b *inspectBody) request(cfg Config) (api.InspectRequest, error) {
	req := b.InspectRequest
	g, err := resolveModel(req.Model, b.ModelData, b.modelOptions)
	if err != nil {
		return req, err
	}
	req.Graph = g
	if err := checkChip("chip", req.Chip, req.ChipSpec); err != nil {
		return req, err
	}
	req.Limits, err = lowerLimits(cfg.Limits, req.Limits)
	return req, err
}

// compileBody is POST /v1/compile's request: api.CompileRequest and an
// optional uploaded model.
type compileBody struct {
	api.CompileRequest
	ModelData []byte `json:"model_data,omitempty"` // a model file, base64 in JSON
	modelOptions
}

func (b *compileBody) setModelFile(name string, data []byte) {
	b.ModelData = data
	if name != "" {
		b.Model = name
	}
}

func (b *compileBody) request(cfg Config) (api.CompileRequest, error) {
	req := b.CompileRequest
	if req.Batch > cfg.MaxBatch {
		return req, &api.LimitError{What: "inputs per batch (batch)", Need: int64(req.Batch), Limit: int64(cfg.MaxBatch), Lift: "--max-batch"}
	}
	g, err := resolveModel(req.Model, b.ModelData, b.modelOptions)
	if err != nil {
		return req, err
	}
	req.Graph = g
	if err := checkChip("chip", req.Chip, req.ChipSpec); err != nil {
		return req, err
	}
	req.Limits, err = lowerLimits(cfg.Limits, req.Limits)
	return req, err
}

// simulateBody is POST /v1/simulate's request: a compile request and
// whether to return each method's per-core timeline.
type simulateBody struct {
	compileBody
	Trace bool `json:"trace,omitempty"`
}

// sweepBody is POST /v1/sweep's request: api.SweepRequest over built-in
// networks and chip presets.
type sweepBody struct {
	api.SweepRequest
}

func (b *sweepBody) request(cfg Config) (api.SweepRequest, error) {
	req := b.SweepRequest
	for i, name := range req.Models {
		g, err := zoo.Build(name)
		if err != nil {
			return req, badField(fmt.Sprintf("models[%d]", i), "%q is not a built-in network: a sweep takes %s", name, strings.Join(zoo.Names(), ", "))
		}
		req.Graphs = append(req.Graphs, g)
	}
	for i, c := range req.Chips {
		if err := checkChip(fmt.Sprintf("chips[%d]", i), c, nil); err != nil {
			return req, err
		}
	}
	for _, batch := range req.Batches {
		if batch > cfg.MaxBatch {
			return req, &api.LimitError{What: "inputs per batch (batches)", Need: int64(batch), Limit: int64(cfg.MaxBatch), Lift: "--max-batch"}
		}
	}
	req.Workers = 1 // the concurrency bound counts requests; one thread each
	var err error
	req.Limits, err = lowerLimits(cfg.Limits, req.Limits)
	return req, err
}

// lowerLimits is the server's limits (every field set), each lowered to
// the request's where the request asks for less: a request never lifts a
// limit. A negative request limit is an *api.InputError naming it.
func lowerLimits(server api.Limits, client *api.Limits) (*api.Limits, error) {
	out := server
	if client == nil {
		return &out, nil
	}
	asked, err := client.WithDefaults()
	if err != nil {
		return nil, err
	}
	o, a := reflect.ValueOf(&out).Elem(), reflect.ValueOf(asked)
	for i := range o.NumField() {
		if f := o.Field(i); f.CanInt() && a.Field(i).Int() < f.Int() {
			f.SetInt(a.Field(i).Int())
		}
	}
	return &out, nil
}

// wantsMsgpack reports whether the reply should be msgpack: the Accept
// header asks for it, or the request was msgpack and Accept does not ask
// for JSON.
func wantsMsgpack(r *http.Request) bool {
	accept := strings.ToLower(r.Header.Get("Accept"))
	for _, t := range msgpackTypes {
		if strings.Contains(accept, t) {
			return true
		}
	}
	if strings.Contains(accept, typeJSON) {
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return isMsgpack(mt)
}

// encodeMsgpack encodes v as msgpack with the JSON field names and map
// keys sorted, so the same request gives the same bytes.
func encodeMsgpack(w io.Writer, v any) error {
	enc := msgpack.NewEncoder(w)
	enc.SetCustomStructTag("json")
	enc.SetSortMapKeys(true)
	return enc.Encode(v)
}
