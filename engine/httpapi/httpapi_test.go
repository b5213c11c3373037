package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/model/zoo"
)

// do sends one request to h and returns the recorded reply.
func do(t *testing.T, h http.Handler, method, path, contentType string, body []byte, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// facadeJSON is what the CLI's --json prints for v: api.WriteJSON.
func facadeJSON(t *testing.T, v any, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := api.WriteJSON(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func wantOK(t *testing.T, rec *httptest.ResponseRecorder, wantType string) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != wantType {
		t.Fatalf("Content-Type %q, want %q", got, wantType)
	}
}

// problemOf checks that rec is a problem document with the status and
// returns it.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem document does not parse: %v", err)
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Type != "about:blank" || p.Detail == "" || p.Instance == "" {
		t.Fatalf("problem document incomplete: %+v", p)
	}
	return p
}

func TestGetRoutesMatchFacade(t *testing.T) {
	h := newHandler(t, Config{Version: "test-1"})
	rec := do(t, h, http.MethodGet, "/v1/models", "", nil)
	wantOK(t, rec, "application/json")
	ms, err := api.Models()
	if want := facadeJSON(t, ms, err); rec.Body.String() != want {
		t.Fatalf("/v1/models differs from the CLI's --json:\n%s\nwant\n%s", rec.Body, want)
	}
	rec = do(t, h, http.MethodGet, "/v1/chips", "", nil)
	wantOK(t, rec, "application/json")
	cs, err := api.Chips()
	if want := facadeJSON(t, cs, err); rec.Body.String() != want {
		t.Fatalf("/v1/chips differs from the CLI's --json")
	}
	rec = do(t, h, http.MethodGet, "/v1/health", "", nil)
	wantOK(t, rec, "application/json")
	var health healthReply
	if err := json.Unmarshal(rec.Body.Bytes(), &health); err != nil {
		t.Fatal(err)
	}
	if health.Status != "ok" || health.Version != "test-1" || health.MaxBatch != DefaultMaxBatch ||
		health.MaxBodyBytes != DefaultMaxBodyBytes || health.Limits != api.DefaultLimits() {
		t.Fatalf("health = %+v", health)
	}
	// HEAD: headers, no body.
	rec = do(t, h, http.MethodHead, "/v1/chips", "", nil)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "0" {
		t.Fatalf("HEAD: status %d, %d body bytes, length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestPostRoutesMatchFacade(t *testing.T) {
	h := newHandler(t, Config{})
	ctx := context.Background()
	creq := api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{"greedy", "compass"}, Seed: 1}

	rec := do(t, h, http.MethodPost, "/v1/inspect", "application/json", []byte(`{"model":"resnet18","chip":"M"}`))
	wantOK(t, rec, "application/json")
	ir, err := api.InspectModel(api.InspectRequest{Model: "resnet18", Chip: "M"})
	if want := facadeJSON(t, ir, err); rec.Body.String() != want {
		t.Fatalf("/v1/inspect differs from the facade's JSON")
	}

	rec = do(t, h, http.MethodPost, "/v1/compile", "application/json", []byte(`{"model":"resnet18","chip":"M","batch":1,"methods":["greedy","compass"],"seed":1}`))
	wantOK(t, rec, "application/json")
	cr, err := api.Compile(ctx, creq)
	if want := facadeJSON(t, cr, err); rec.Body.String() != want {
		t.Fatalf("/v1/compile differs from the facade's JSON")
	}

	rec = do(t, h, http.MethodPost, "/v1/simulate", "", []byte(`{"model":"resnet18","chip":"M","batch":1,"methods":["greedy"],"seed":1}`))
	wantOK(t, rec, "application/json")
	sreq := creq
	sreq.Methods = []string{"greedy"}
	sr, err := api.Simulate(ctx, sreq, false, nil)
	if want := facadeJSON(t, sr, err); rec.Body.String() != want {
		t.Fatalf("/v1/simulate differs from the facade's JSON")
	}
	// With a trace, the reply carries each method's timeline.
	rec = do(t, h, http.MethodPost, "/v1/simulate", "", []byte(`{"model":"squeezenet1_1","chip":"S","batch":1,"methods":["greedy"],"seed":1,"trace":true}`))
	wantOK(t, rec, "application/json")
	var traced api.SimulateResult
	if err := json.Unmarshal(rec.Body.Bytes(), &traced); err != nil || len(traced.Results) != 1 || len(traced.Results[0].Trace) == 0 {
		t.Fatalf("simulate with trace: %v, %d results", err, len(traced.Results))
	}

	rec = do(t, h, http.MethodPost, "/v1/sweep", "application/json", []byte(`{"models":["resnet18"],"chips":["S","M"],"batches":[1,2],"methods":["greedy","layerwise"],"objective":"latency","seed":1}`))
	wantOK(t, rec, "application/json")
	sw, err := api.Sweep(ctx, api.SweepRequest{Models: []string{"resnet18"}, Chips: []string{"S", "M"}, Batches: []int{1, 2},
		Methods: []string{"greedy", "layerwise"}, Objective: "latency", Seed: 1})
	if want := facadeJSON(t, sweepReply{sw, sw.Summarise()}, err); rec.Body.String() != want {
		t.Fatalf("/v1/sweep differs from the facade's JSON:\n%s\nwant\n%s", rec.Body, want)
	}
}

func TestMsgpack(t *testing.T) {
	h := newHandler(t, Config{})
	jsonBody := []byte(`{"model":"resnet18","chip":"M","batch":1,"methods":["greedy"],"seed":1}`)
	want := do(t, h, http.MethodPost, "/v1/compile", "application/json", jsonBody)
	wantOK(t, want, "application/json")
	var fromJSON api.CompileResult
	if err := json.Unmarshal(want.Body.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	// The same request in msgpack; the reply in msgpack by Content-Type
	// alone, and by Accept with a JSON request.
	var packed bytes.Buffer
	if err := msgpack.NewEncoder(&packed).Encode(map[string]any{"model": "resnet18", "chip": "M", "batch": 1, "methods": []string{"greedy"}, "seed": 1}); err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"msgpack request": do(t, h, http.MethodPost, "/v1/compile", "application/msgpack", packed.Bytes()),
		"accept msgpack":  do(t, h, http.MethodPost, "/v1/compile", "application/json", jsonBody, "Accept", "application/msgpack"),
	} {
		wantOK(t, rec, "application/msgpack")
		dec := msgpack.NewDecoder(rec.Body)
		dec.SetCustomStructTag("json")
		var fromPack api.CompileResult
		if err := dec.Decode(&fromPack); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(fromPack, fromJSON) {
			t.Fatalf("%s: the msgpack reply holds other values than the JSON one", name)
		}
	}
	// A msgpack request answered in JSON when Accept says so: same bytes.
	rec := do(t, h, http.MethodPost, "/v1/compile", "application/msgpack", packed.Bytes(), "Accept", "application/json")
	wantOK(t, rec, "application/json")
	if rec.Body.String() != want.Body.String() {
		t.Fatal("a msgpack request answered in JSON differs from the JSON request's reply")
	}
	// Same request, same msgpack bytes.
	a := do(t, h, http.MethodGet, "/v1/chips", "", nil, "Accept", "application/msgpack")
	b := do(t, h, http.MethodGet, "/v1/chips", "", nil, "Accept", "application/msgpack")
	wantOK(t, a, "application/msgpack")
	if !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
		t.Fatal("msgpack replies differ for the same request")
	}
	// Unknown fields are refused in msgpack as in JSON.
	packed.Reset()
	msgpack.NewEncoder(&packed).Encode(map[string]any{"model": "resnet18", "chip": "M", "batch": 1, "bogus": true})
	p := problemOf(t, do(t, h, http.MethodPost, "/v1/compile", "application/msgpack", packed.Bytes()), 400)
	if p.Field != "bogus" {
		t.Fatalf("field %q, want bogus", p.Field)
	}
}

// graphJSON is a zoo network written in the JSON IR, as a user's model file.
func graphJSON(t *testing.T, name string) []byte {
	t.Helper()
	g, err := zoo.Build(name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestUploadedModel(t *testing.T) {
	h := newHandler(t, Config{})
	file := graphJSON(t, "squeezenet1_1")
	want, err := api.Compile(context.Background(), api.CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 2, Methods: []string{"greedy"}, Seed: 3})
	wantBody := facadeJSON(t, want, err)

	// base64 in JSON.
	body, _ := json.Marshal(map[string]any{"model": "net.json", "model_data": base64.StdEncoding.EncodeToString(file),
		"chip": "S", "batch": 2, "methods": []string{"greedy"}, "seed": 3})
	rec := do(t, h, http.MethodPost, "/v1/compile", "application/json", body)
	wantOK(t, rec, "application/json")
	if rec.Body.String() != wantBody {
		t.Fatal("a model uploaded as base64 compiles differently from the same zoo network")
	}

	// A multipart part.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	rw, _ := mw.CreateFormField("request")
	rw.Write([]byte(`{"chip":"S","batch":2,"methods":["greedy"],"seed":3}`))
	fw, _ := mw.CreateFormFile("model", "net.json")
	fw.Write(file)
	mw.Close()
	rec = do(t, h, http.MethodPost, "/v1/compile", mw.FormDataContentType(), mp.Bytes())
	wantOK(t, rec, "application/json")
	if rec.Body.String() != wantBody {
		t.Fatal("a model uploaded as a multipart part compiles differently from the same zoo network")
	}

	// A model file that is not a model: 422 naming model_data.
	body, _ = json.Marshal(map[string]any{"model": "net.onnx", "model_data": base64.StdEncoding.EncodeToString([]byte("not a protobuf at all")), "chip": "S", "batch": 1})
	p := problemOf(t, do(t, h, http.MethodPost, "/v1/compile", "application/json", body), 422)
	if p.Field != "model_data" {
		t.Fatalf("field %q, want model_data", p.Field)
	}
	// A multipart body without its request part.
	mp.Reset()
	mw = multipart.NewWriter(&mp)
	fw, _ = mw.CreateFormFile("model", "net.json")
	fw.Write(file)
	mw.Close()
	p = problemOf(t, do(t, h, http.MethodPost, "/v1/inspect", mw.FormDataContentType(), mp.Bytes()), 400)
	if p.Field != "request" {
		t.Fatalf("field %q, want request", p.Field)
	}
}

func TestErrorStatuses(t *testing.T) {
	h := newHandler(t, Config{MaxBodyBytes: 4096, MaxBatch: 64})
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		field                           string
	}{
		{"unknown path", "GET", "/v1/nothing", "", "", 404, ""},
		{"root", "GET", "/", "", "", 404, ""},
		{"GET on a POST route", "GET", "/v1/compile", "", "", 405, ""},
		{"POST on a GET route", "POST", "/v1/models", "application/json", "{}", 405, ""},
		{"form body", "POST", "/v1/compile", "application/x-www-form-urlencoded", "model=resnet18", 415, ""},
		{"text body", "POST", "/v1/inspect", "text/plain", "{}", 415, ""},
		{"not JSON", "POST", "/v1/compile", "application/json", "{model:", 400, ""},
		{"empty body", "POST", "/v1/compile", "application/json", "", 400, ""},
		{"array body", "POST", "/v1/compile", "application/json", "[1]", 400, ""},
		{"two objects", "POST", "/v1/compile", "application/json", `{"model":"resnet18"} {}`, 400, ""},
		{"unknown field", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":1,"bach":2}`, 400, "bach"},
		{"wrong type", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":"one"}`, 400, "batch"},
		{"no model", "POST", "/v1/compile", "application/json", `{"chip":"M","batch":1}`, 400, "model"},
		{"unknown model", "POST", "/v1/compile", "application/json", `{"model":"resnet19","chip":"M","batch":1}`, 400, "model"},
		{"a server file as model", "POST", "/v1/inspect", "application/json", `{"model":"/etc/passwd.json","chip":"M"}`, 400, "model"},
		{"a server file as chip", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"/etc/chip.json","batch":1}`, 400, "chip"},
		{"unknown chip", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"XL","batch":1}`, 400, "chip"},
		{"sweep unknown model", "POST", "/v1/sweep", "application/json", `{"models":["resnet18","x"],"chips":["M"],"batches":[1]}`, 400, "models[1]"},
		{"sweep unknown chip", "POST", "/v1/sweep", "application/json", `{"models":["resnet18"],"chips":["M","Q"],"batches":[1]}`, 400, "chips[1]"},
		{"batch over the server's bound", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":65}`, 422, ""},
		{"sweep batch over the bound", "POST", "/v1/sweep", "application/json", `{"models":["resnet18"],"chips":["M"],"batches":[1,100]}`, 422, ""},
		{"batch zero", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":0}`, 400, "batch"},
		{"unknown method", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":1,"methods":["fastest"]}`, 400, "methods"},
		{"invalid chip_spec", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip_spec":{"name":"bad"},"batch":1}`, 400, "chip_spec.cores"},
		{"negative limit", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":1,"limits":{"max_units":-1}}`, 400, "limits.max_units"},
		{"inputs for a zoo network", "POST", "/v1/inspect", "application/json", `{"model":"resnet18","chip":"M","inputs":[{"name":"x","shape":[1,3,32,32]}]}`, 400, "inputs"},
		{"nested wrong type", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":1,"ga":{"population":"big"}}`, 400, "ga.population"},
		// Hostile msgpack: declared lengths far beyond the body, deep nesting.
		{"msgpack array of 2^32-1 elements (19 bytes)", "POST", "/v1/sweep", "application/msgpack", "\x81\xa6models\xdd\xff\xff\xff\xff", 400, ""},
		{"msgpack map of 2^32-1 pairs", "POST", "/v1/compile", "application/msgpack", "\xdf\xff\xff\xff\xff", 400, ""},
		{"msgpack nested map of 2^32-1 pairs", "POST", "/v1/compile", "application/msgpack", "\x81\xa6limits\xdf\xff\xff\xff\xff", 400, ""},
		{"msgpack array16 of 65535 elements", "POST", "/v1/sweep", "application/msgpack", "\x81\xa6models\xdc\xff\xff\xa1x", 400, ""},
		{"msgpack str of 4 GB", "POST", "/v1/compile", "application/msgpack", "\x81\xa5model\xdb\xff\xff\xff\xff", 400, ""},
		{"msgpack bin of 4 GB", "POST", "/v1/compile", "application/msgpack", "\x81\xaamodel_data\xc6\xff\xff\xff\xff", 400, ""},
		{"msgpack ext of 4 GB", "POST", "/v1/compile", "application/msgpack", "\x81\xa5model\xc9\xff\xff\xff\xff\x01", 400, ""},
		{"msgpack length cut short", "POST", "/v1/sweep", "application/msgpack", "\x81\xa6models\xdd\xff", 400, ""},
		{"msgpack nested 2000 deep", "POST", "/v1/compile", "application/msgpack", "\x81\xa6limits" + strings.Repeat("\x91", 2000) + "\xc0", 400, ""},
		{"msgpack byte 0xc1", "POST", "/v1/compile", "application/msgpack", "\x81\xa5model\xc1", 400, ""},
		{"msgpack trailing bytes", "POST", "/v1/compile", "application/msgpack", "\x81\xa5model\xa8resnet18\xc0", 400, ""},
		{"msgpack not a map", "POST", "/v1/compile", "application/msgpack", "\x92\x01\x02", 400, ""},
		{"body over the limit", "POST", "/v1/compile", "application/json", `{"model":"resnet18","chip":"M","batch":1,"model_data":"` + strings.Repeat("A", 8192) + `"}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			rec := do(t, h, c.method, c.path, c.ctype, body)
			status := c.status
			p := problemOf(t, rec, status)
			if p.Field != c.field {
				t.Fatalf("field %q, want %q (%s)", p.Field, c.field, p.Detail)
			}
			if p.Instance != c.path {
				t.Fatalf("instance %q, want %q", p.Instance, c.path)
			}
			if status == 405 && rec.Header().Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if status == 422 && strings.Contains(c.name, "bound") && (p.Limit == nil || p.Limit.Limit != 64) {
				t.Fatalf("a refused batch names no limit of 64: %+v", p.Limit)
			}
		})
	}
}

// longSearch asks the GA for VGG16 on chip S with a large population
// and no early stop: hours of work unless the context stops it. The
// server's limits in these tests allow it (the defaults refuse it).
const longSearch = `{"model":"vgg16","chip":"S","batch":1,"methods":["compass"],"seed":1,"ga":{"population":3000,"keep":20,"generations":100000,"patience":0}}`

var longSearchLimits = api.Limits{MaxGAWork: 1 << 40}

// waitIdle waits until no request holds a slot, failing after limit.
func waitIdle(t *testing.T, h *handler, limit time.Duration) {
	t.Helper()
	end := time.Now().Add(limit)
	for len(h.slots) > 0 {
		if time.Now().After(end) {
			t.Fatalf("the engine still works %s after the reply: the search ignored the context", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeadlineStopsTheSearch(t *testing.T) {
	h := newHandler(t, Config{Deadline: 300 * time.Millisecond, Limits: longSearchLimits})
	start := time.Now()
	rec := do(t, h, http.MethodPost, "/v1/compile", "application/json", []byte(longSearch))
	replied := time.Since(start)
	p := problemOf(t, rec, http.StatusGatewayTimeout)
	if !strings.Contains(p.Detail, "deadline") {
		t.Fatalf("detail %q does not name the deadline", p.Detail)
	}
	// The search itself must stop, not just the reply: the slot frees
	// when the engine returns. Without the context it would run for hours.
	waitIdle(t, h, 60*time.Second)
	t.Logf("504 after %s, the search stopped %s after the start (deadline 300ms)", replied.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func TestConcurrencyBound(t *testing.T) {
	h := newHandler(t, Config{MaxConcurrent: 1, Deadline: 10 * time.Minute, Limits: longSearchLimits})
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/v1/compile", strings.NewReader(longSearch)).WithContext(ctx)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		first <- rec
	}()
	for len(h.slots) == 0 {
		select {
		case rec := <-first:
			t.Fatalf("the long search ended at once: %d %s", rec.Code, rec.Body)
		case <-time.After(time.Millisecond):
		}
	}
	rec := do(t, h, http.MethodPost, "/v1/compile", "application/json", []byte(`{"model":"resnet18","chip":"M","batch":1}`))
	problemOf(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	// GET routes are not bounded.
	wantOK(t, do(t, h, http.MethodGet, "/v1/chips", "", nil), "application/json")
	cancel() // the client goes away: the search stops and frees its slot
	if rec := <-first; rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("cancelled request: status %d", rec.Code)
	}
	waitIdle(t, h, 60*time.Second)
	wantOK(t, do(t, h, http.MethodPost, "/v1/compile", "application/json", []byte(`{"model":"resnet18","chip":"M","batch":1,"methods":["greedy"]}`)), "application/json")
}

func TestClientCannotLiftLimits(t *testing.T) {
	server, err := (&api.Limits{MaxUnits: 500, MaxSimEvents: 1000}).WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	got, err := lowerLimits(server, &api.Limits{MaxUnits: 100000, MaxSimEvents: 10, MaxSpans: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := server
	want.MaxSimEvents, want.MaxSpans = 10, 5 // lowered; MaxUnits not lifted
	if *got != want {
		t.Fatalf("lowerLimits = %+v, want %+v", *got, want)
	}
	if got, _ := lowerLimits(server, nil); *got != server {
		t.Fatalf("no request limits: %+v", *got)
	}
	if _, err := lowerLimits(server, &api.Limits{MaxNodes: -1}); err == nil {
		t.Fatal("a negative request limit was taken")
	}

	// Through the handler: a server limit of 10 units refuses ResNet18
	// (84 units on chip M) even when the request asks for more.
	h := newHandler(t, Config{Limits: api.Limits{MaxUnits: 10}})
	p := problemOf(t, do(t, h, http.MethodPost, "/v1/compile", "application/json",
		[]byte(`{"model":"resnet18","chip":"M","batch":1,"limits":{"max_units":100000}}`)), 422)
	if p.Limit == nil || p.Limit.Limit != 10 {
		t.Fatalf("limit %+v, want the server's 10 units", p.Limit)
	}
	// A request may lower a limit.
	p = problemOf(t, do(t, newHandler(t, Config{}), http.MethodPost, "/v1/compile", "application/json",
		[]byte(`{"model":"resnet18","chip":"M","batch":1,"limits":{"max_units":10}}`)), 422)
	if p.Limit == nil || p.Limit.Limit != 10 {
		t.Fatalf("limit %+v, want the request's 10 units", p.Limit)
	}
	if _, err := New(Config{MaxBatch: -1}); err == nil {
		t.Fatal("a negative MaxBatch was taken")
	}
}

func newHandler(t *testing.T, cfg Config) *handler {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h.(*handler)
}

func TestCORS(t *testing.T) {
	off := newHandler(t, Config{})
	rec := do(t, off, http.MethodGet, "/v1/chips", "", nil, "Origin", "https://docs.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS headers sent with no origin allowed")
	}
	problemOf(t, do(t, off, http.MethodOptions, "/v1/compile", "", nil, "Origin", "https://docs.example", "Access-Control-Request-Method", "POST"), 403)

	on := newHandler(t, Config{AllowOrigins: []string{"https://docs.example"}})
	rec = do(t, on, http.MethodOptions, "/v1/compile", "", nil, "Origin", "https://docs.example", "Access-Control-Request-Method", "POST")
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://docs.example" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
	rec = do(t, on, http.MethodPost, "/v1/inspect", "application/json", []byte(`{"model":"resnet18","chip":"M"}`), "Origin", "https://docs.example")
	wantOK(t, rec, "application/json")
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://docs.example" || rec.Header().Get("Vary") != "Origin" {
		t.Fatalf("CORS reply headers: %v", rec.Header())
	}
	rec = do(t, on, http.MethodGet, "/v1/chips", "", nil, "Origin", "https://evil.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS allowed an origin not configured")
	}
}

func TestReplyIsComplete(t *testing.T) {
	// Content-Length matches the body, so a Worker can pass it through.
	h := newHandler(t, Config{})
	rec := do(t, h, http.MethodGet, "/v1/models", "", nil)
	body, _ := io.ReadAll(rec.Body)
	if rec.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("Content-Length %q for %d bytes", rec.Header().Get("Content-Length"), len(body))
	}
}

func TestClockContext(t *testing.T) {
	// A deadline that has passed reads as expired at once, before any
	// timer could fire (as under GOOS=js, where a busy search never yields).
	past := clockContext{context.Background(), time.Now().Add(-time.Millisecond)}
	if !errors.Is(past.Err(), context.DeadlineExceeded) {
		t.Fatalf("past deadline: Err() = %v", past.Err())
	}
	future := clockContext{context.Background(), time.Now().Add(time.Hour)}
	if future.Err() != nil {
		t.Fatalf("future deadline: Err() = %v", future.Err())
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if c := (clockContext{cancelled, time.Now().Add(time.Hour)}); !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("cancelled: Err() = %v", c.Err())
	}
}

// TestMsgpackSameValuesEverywhere checks every route's msgpack reply
// against its JSON reply: the same fields (names, omitted empties) and
// values.
func TestMsgpackSameValuesEverywhere(t *testing.T) {
	h := newHandler(t, Config{})
	requests := []struct{ method, path, body string }{
		{"GET", "/v1/health", ""},
		{"GET", "/v1/models", ""},
		{"GET", "/v1/chips", ""},
		{"POST", "/v1/inspect", `{"model":"mobilenet_v2","chip":"L"}`},
		{"POST", "/v1/compile", `{"model":"squeezenet1_1","chip":"S","batch":4,"methods":["all"],"objective":"edp","seed":2}`},
		{"POST", "/v1/simulate", `{"model":"squeezenet1_1","chip":"S","batch":1,"methods":["greedy"],"seed":2,"trace":true}`},
		{"POST", "/v1/sweep", `{"models":["resnet18"],"chips":["M"],"batches":[1,2],"methods":["greedy","compass"],"objective":"latency","seed":1}`},
	}
	for _, r := range requests {
		var body []byte
		ctype := ""
		if r.body != "" {
			body, ctype = []byte(r.body), "application/json"
		}
		asJSON := do(t, h, r.method, r.path, ctype, body)
		asPack := do(t, h, r.method, r.path, ctype, body, "Accept", "application/msgpack")
		wantOK(t, asJSON, "application/json")
		wantOK(t, asPack, "application/msgpack")
		var fromPack any
		if err := msgpack.NewDecoder(asPack.Body).Decode(&fromPack); err != nil {
			t.Fatalf("%s: %v", r.path, err)
		}
		repacked, err := json.Marshal(fromPack)
		if err != nil {
			t.Fatalf("%s: %v", r.path, err)
		}
		var a, b any
		if err := json.Unmarshal(repacked, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(asJSON.Body.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: the msgpack reply holds other fields or values than the JSON reply:\n%.400s\nwant\n%.400s", r.path, repacked, asJSON.Body)
		}
	}
}

// BenchmarkCompileResNet18 is one ResNet18-M-1 compile (method compass):
// through the handler, JSON in and out, and through the facade alone with
// the same JSON written; the difference is the API's own cost.
func BenchmarkCompileResNet18(b *testing.B) {
	h, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"model":"resnet18","chip":"M","batch":1,"methods":["compass"],"seed":1}`)
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "/v1/compile", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("facade", func(b *testing.B) {
		for b.Loop() {
			res, err := api.Compile(context.Background(), api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{"compass"}, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			if err := api.WriteJSON(io.Discard, res); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// gonnxFile reads a sample ONNX model of the Go module
// github.com/advancedclimatesystems/gonnx (exported by PyTorch; not
// written by this project), which scripts/test.sh downloads into the
// module cache and names in COMPASS_GONNX_DIR.
func gonnxFile(t *testing.T, name string) []byte {
	t.Helper()
	dir := os.Getenv("COMPASS_GONNX_DIR")
	if dir == "" {
		msg := "COMPASS_GONNX_DIR is not set: run bash scripts/test.sh, which downloads github.com/advancedclimatesystems/gonnx@v1.1.0 into the module cache and sets it"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	data, err := os.ReadFile(filepath.Join(dir, "sample_models", "onnx_models", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestUploadedONNXWithInputs(t *testing.T) {
	file := gonnxFile(t, "ndm.onnx")
	h := newHandler(t, Config{})
	opt := api.ModelOptions{Inputs: []api.InputSetting{{Name: "sensor_input", Shape: []int{1, 10, 4}}}}
	g, err := api.LoadModelBytesWith("ndm.onnx", file, opt)
	if err != nil {
		t.Fatal(err)
	}
	res, err := api.Compile(context.Background(), api.CompileRequest{Graph: g, Chip: "S", Batch: 2, Methods: []string{"greedy", "optimal"}, Seed: 1})
	want := facadeJSON(t, res, err)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	rw, _ := mw.CreateFormField("request")
	rw.Write([]byte(`{"chip":"S","batch":2,"methods":["greedy","optimal"],"seed":1,"inputs":[{"name":"sensor_input","shape":[1,10,4]}]}`))
	fw, _ := mw.CreateFormFile("model", "ndm.onnx")
	fw.Write(file)
	mw.Close()
	rec := do(t, h, http.MethodPost, "/v1/compile", mw.FormDataContentType(), mp.Bytes())
	wantOK(t, rec, "application/json")
	if rec.Body.String() != want {
		t.Fatal("an ONNX model uploaded with its input setting compiles differently from the facade")
	}

	// The input setting as base64 JSON, with a wrong input name: the
	// model's error, naming the upload.
	body, _ := json.Marshal(map[string]any{"model": "ndm.onnx", "model_data": base64.StdEncoding.EncodeToString(file), "chip": "S", "batch": 1,
		"inputs": []map[string]any{{"name": "no_such_input", "shape": []int{1, 10, 4}}}})
	p := problemOf(t, do(t, h, http.MethodPost, "/v1/compile", "application/json", body), 422)
	if p.Field != "inputs[0].name" || !strings.Contains(p.Detail, "no_such_input") || !strings.Contains(p.Detail, "sensor_input") {
		t.Fatalf("wrong input name: field %q, %s", p.Field, p.Detail)
	}
}
