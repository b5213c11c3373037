// Package onnx reads ONNX model files (.onnx, the ONNX protobuf format) into
// the graph IR of package model, so that any network exported from PyTorch,
// TensorFlow, Paddle or another framework can be mapped onto a chip.
//
// The reader decodes the protobuf wire format itself with
// google.golang.org/protobuf/encoding/protowire (no generated code and no
// reflection-based runtime, which keeps the WebAssembly build small). It
// reads what the IR needs: the graph, the operators and their attributes,
// every tensor's data type and dims, and the values of the few small
// constants that shape inference needs (Reshape targets, Slice bounds, Pad
// pads, Clip bounds, Resize scales, Shape->Gather->Concat chains). Weight
// payloads are never decoded or copied: a layer's size comes from its
// weight's dims, and a file's payloads are only checked to hold as many
// bytes as the dims declare.
//
// Batch. The first axis of every graph input is its batch axis. The IR's
// shapes exclude the batch, so the reader tracks where the batch axis of
// every tensor lies (a Transpose may move it) and removes it from the
// shapes it gives the IR; attributes that name axes (Concat, Softmax,
// Split, Slice, ...) are translated accordingly, with ONNX's negative-axis
// rules. A dynamic batch is 1 unless Options.Inputs or InputShape gives it;
// any other dynamic dimension must be given (a *DynamicShapeError says
// which and how).
//
// Weights as constants. Exporters store weights as initializers or as
// Constant nodes (Paddle2ONNX does the latter); both are read the same
// way. A constant operand of a vector op (a scale, a mean, a mask) becomes
// an IR Constant node: a shape without learned parameters. Operators whose
// every input is constant are folded at read time, values included when
// they are small.
//
// Graph inputs can be set by name (Options.Inputs): a shape, or the values
// of a small integer input, which then folds like a constant (an If on a
// sample rate takes its branch at read time). Inputs lists them as
// declared.
//
// The supported operators, how each maps onto the IR and what is not
// supported are listed by SupportedOps and in docs/onnx.md. A file with
// other operators fails with an *UnsupportedOpsError listing every one of
// them (count and first node); a dynamic dimension nothing gives is a
// *DynamicShapeError naming it and the flag that sets it.
package onnx

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// DefaultMaxBytes bounds the size of a model file (1 GiB) when
// Options.MaxBytes is zero. Protobuf itself cannot hold more than 2 GiB;
// larger models keep their weights in external data files.
const DefaultMaxBytes = int64(1) << 30

// Options control a read.
type Options struct {
	// InputShape is the full shape of the first graph input, batch first
	// (e.g. [1,3,224,224]). It replaces the input's dynamic dimensions;
	// its fixed dimensions must agree. Empty: dynamic dimensions are 1.
	InputShape []int
	// Inputs set graph inputs by name: a full shape (batch first) and,
	// for small integer inputs, values. A shape for the first input that
	// differs from InputShape is an error naming both.
	Inputs []InputSetting
	// AllowExternal lets the reader use the filesystem for tensors whose
	// data lies in external files: their metadata is checked against
	// the file (relative to BaseDir), and the few small values shape
	// inference needs are read from it. Without it (the browser) such a
	// model is an error that says so.
	AllowExternal bool
	// BaseDir is the directory external data locations are relative to:
	// the model file's directory.
	BaseDir string
	// MaxBytes bounds the file size; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Name names the graph when the file does not; "" gives "model".
	Name string
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Read reads an ONNX model from r (at most Options.MaxBytes bytes, which
// are held in memory while it is read) and returns its inferred graph.
func Read(r io.Reader, opt Options) (*model.Graph, error) {
	limit := opt.maxBytes()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: reading the model: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("onnx: the model is larger than %d bytes (Options.MaxBytes)", limit)
	}
	return ReadBytes(buf.Bytes(), opt)
}

// ReadBytes reads an ONNX model held in memory. The bytes are not copied
// and not modified.
func ReadBytes(data []byte, opt Options) (*model.Graph, error) {
	if limit := opt.maxBytes(); int64(len(data)) > limit {
		return nil, fmt.Errorf("onnx: the model is %d bytes, larger than %d (Options.MaxBytes)", len(data), limit)
	}
	return read(memSource(data), opt)
}

// ReadFile reads an ONNX model file. Only the parts the graph needs are
// read, so a model with hundreds of MB of weights costs little memory.
// External data files are located next to the model unless opt.BaseDir
// says otherwise; ReadFile allows them (opt.AllowExternal is set).
func ReadFile(path string, opt Options) (*model.Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("onnx: %s is not a regular file", path)
	}
	if limit := opt.maxBytes(); st.Size() > limit {
		return nil, fmt.Errorf("onnx: %s is %d bytes, larger than %d (Options.MaxBytes)", path, st.Size(), limit)
	}
	opt.AllowExternal = true
	if opt.BaseDir == "" {
		opt.BaseDir = filepath.Dir(path)
	}
	if opt.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	g, err := read(newFileSource(f, st.Size()), opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

func read(src source, opt Options) (*model.Graph, error) {
	mp, err := decodeModel(src)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	g, err := convert(mp, opt)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return g, nil
}
