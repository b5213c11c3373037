package httpapi

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// packed encodes v as msgpack.
func packed(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := msgpack.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocated is the bytes fn allocates (the process's TotalAlloc across it).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// allocBound is the most decoding a msgpack body of n bytes may allocate:
// the body's values decoded (at most maxMsgpackValues, each well under
// 512 bytes as a map), their JSON and its decoding (a few times n), and
// 1 MiB for the decoders' fixed buffers.
func allocBound(n int) uint64 {
	return uint64(8*n) + uint64(min(n, maxMsgpackValues))*512 + 1<<20
}

func TestCheckMsgpackAcceptsRequests(t *testing.T) {
	for _, v := range []map[string]any{
		{"model": "resnet18", "chip": "M", "batch": 1, "methods": []string{"greedy", "compass"}, "seed": uint64(1) << 63},
		{"model": "m.onnx", "model_data": bytes.Repeat([]byte{0xdd, 0xff}, 70000), "inputs": []any{map[string]any{"name": "x", "shape": []int{1, 3, 48, 320}, "value": []int64{-1, 1 << 40}}}},
		{"models": []string{"vgg16"}, "chips": []string{strings.Repeat("S", 300)}, "batches": []int{1, 65536}, "objective": "edp", "limits": map[string]any{"max_units": 3.5, "max_nodes": int8(-3), "x": nil, "y": true}},
	} {
		if err := checkMsgpack(packed(t, v)); err != nil {
			t.Fatalf("%v: %v", v, err)
		}
	}
}

func TestCheckMsgpackBoundsValues(t *testing.T) {
	// maxMsgpackValues+1 nils in one array: every length is honest, the
	// count is over the bound.
	n := maxMsgpackValues + 1
	body := append([]byte{0x81, 0xa6, 'm', 'o', 'd', 'e', 'l', 's', 0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xc0}, n)...)
	err := checkMsgpack(body)
	if err == nil || !strings.Contains(err.Error(), "values") {
		t.Fatalf("an array of %d values: %v, want a refusal naming the values", n, err)
	}
	if err := checkMsgpack(body[:len(body)-2]); err == nil || !strings.Contains(err.Error(), "holds only") {
		t.Fatalf("a cut array: %v, want a refusal naming the missing bytes", err)
	}
}

// hostileMsgpack are bodies whose declared lengths or nesting would make
// a trusting decoder allocate without bound.
var hostileMsgpack = []string{
	"\x81\xa6models\xdd\xff\xff\xff\xff",
	"\xdf\xff\xff\xff\xff",
	"\x81\xa6limits\xdf\xff\xff\xff\xff",
	"\x81\xa5model\xdb\xff\xff\xff\xff",
	"\x81\xaamodel_data\xc6\xff\xff\xff\xff",
	"\x81\xa5model\xc9\xff\xff\xff\xff\x01",
	"\x81\xa6limits" + strings.Repeat("\x91", 100000) + "\xc0",
	"\x81\xa6models" + strings.Repeat("\xdd\xff\xff\xff\xff", 1000),
}

func TestDecodeMsgpackHostileBodies(t *testing.T) {
	for _, body := range hostileMsgpack {
		var got compileBody
		var err error
		n := allocated(func() { err = decodeMsgpack([]byte(body), &got) })
		var reqErr *requestError
		if !errors.As(err, &reqErr) || reqErr.status != 400 || reqErr.field != "" || !strings.Contains(err.Error(), "msgpack body") {
			t.Fatalf("%.40q: %v, want a 400 naming the msgpack body", body, err)
		}
		if n > allocBound(len(body)) {
			t.Fatalf("%.40q (%d bytes): decoding allocated %d bytes, over %d", body, len(body), n, allocBound(len(body)))
		}
	}
}

// FuzzDecodeMsgpack decodes arbitrary bodies as a compile request: no
// panic, and allocation bounded by the body's size whatever it declares.
// CI runs it with -fuzz FuzzDecodeMsgpack -fuzztime 2000x.
func FuzzDecodeMsgpack(f *testing.F) {
	for _, body := range hostileMsgpack {
		f.Add([]byte(body))
	}
	f.Add(packed(f, map[string]any{"model": "resnet18", "chip": "M", "batch": 1, "methods": []string{"greedy"}, "seed": 7}))
	f.Add(packed(f, map[string]any{"model": "m.onnx", "model_data": []byte("\x08\x07"), "inputs": []any{map[string]any{"name": "x", "shape": []int{1, 3, 8, 8}}}}))
	f.Add(packed(f, map[string]any{"model": "resnet18", "limits": map[string]any{"max_units": 10}, "ga": map[string]any{"population": 4}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got compileBody
		var err error
		n := allocated(func() { err = decodeMsgpack(body, &got) })
		if n > allocBound(len(body)) {
			t.Fatalf("%d-byte body: decoding allocated %d bytes, over %d", len(body), n, allocBound(len(body)))
		}
		var reqErr *requestError
		if err != nil && !errors.As(err, &reqErr) {
			t.Fatalf("%v: not a request error (a 400 naming the field)", err)
		}
	})
}
