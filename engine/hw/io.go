package hw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// maxJSONBytes bounds what Load reads: a chip description is a few KiB.
const maxJSONBytes = 1 << 20

// Load decodes one JSON chip description and validates it. Errors name the
// offending key: unknown keys, keys in the wrong letter case, missing keys
// (every key but "description" must be given), values of the wrong JSON
// type, anything after the JSON object, and every Validate failure.
func Load(r io.Reader) (*Chip, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading chip description: %w", err)
	}
	if len(data) > maxJSONBytes {
		return nil, fmt.Errorf("chip description is larger than %d bytes", maxJSONBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Chip
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decoding chip description: %s", describeJSONError(err, data))
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		line, col := position(data, int64(len(data)-len(rest)))
		return nil, fmt.Errorf("decoding chip description: trailing data after the JSON object at line %d, column %d",
			line, col)
	}
	if err := checkKeys(data); err != nil {
		return nil, fmt.Errorf("decoding chip description: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkKeys reports keys spelled in another letter case than the JSON
// names (encoding/json would accept them silently) and required keys (all
// but omitempty ones) that are absent, nested DRAM keys as dram.<key>. data
// has already decoded into a Chip, so it is a JSON object or null.
func checkKeys(data []byte) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	missing, err := absent(top, reflect.TypeFor[Chip](), "")
	if err != nil {
		return err
	}
	if raw, ok := top["dram"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) == nil {
			more, err := absent(inner, reflect.TypeFor[DRAM](), "dram.")
			if err != nil {
				return err
			}
			missing = append(missing, more...)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: every field must be given (`compass chip --chip M` prints a preset's complete description to start from)",
			strings.Join(missing, ", "))
	}
	return nil
}

// absent lists the required keys of struct type t that obj lacks, or fails
// on a key of obj that matches a known key only when case is ignored.
func absent(obj map[string]json.RawMessage, t reflect.Type, prefix string) ([]string, error) {
	var out []string
	var keys []string
	for f := range t.Fields() {
		key, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "" || key == "-" {
			continue
		}
		keys = append(keys, key)
		if _, ok := obj[key]; !ok && !strings.Contains(opts, "omitempty") {
			out = append(out, prefix+key)
		}
	}
	for k := range obj {
		for _, key := range keys {
			if k != key && strings.EqualFold(k, key) {
				return nil, fmt.Errorf("field %q must be spelled %q", prefix+k, prefix+key)
			}
		}
	}
	return out, nil
}

// describeJSONError turns a decoder error into a message with its position.
func describeJSONError(err error, data []byte) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s at line %d, column %d: got a JSON %s, want %s",
			field, line, col, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return "empty input: expected a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input: the JSON object is not closed"
	default:
		// Unknown fields: encoding/json says `json: unknown field "x"`.
		return strings.TrimPrefix(err.Error(), "json: ")
	}
}

// position returns the 1-based line and column of byte offset off.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// Write encodes the chip as indented JSON (two spaces, fields in
// declaration order, a final newline). Load of the output gives a chip equal
// to c. Write does not validate; a NaN or infinite value makes it fail.
func (c *Chip) Write(w io.Writer) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding chip %q: %w", c.Name, err)
	}
	data = append(data, '\n')
	_, err = w.Write(data)
	return err
}

// Resolve turns a --chip argument into a chip: a spec ending in ".json" is
// read as a file; otherwise a preset name (case insensitive) is looked up;
// otherwise, if a file of that name exists, it is read. Anything else is an
// error that lists the presets and says a .json path is accepted.
func Resolve(spec string) (*Chip, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("no chip given: %s", resolveHint())
	}
	if strings.HasSuffix(strings.ToLower(s), ".json") {
		return loadFile(s)
	}
	if c, err := Preset(s); err == nil {
		return c, nil
	}
	if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
		return loadFile(s)
	}
	return nil, fmt.Errorf("unknown chip %q: %s", spec, resolveHint())
}

// resolveHint says what Resolve accepts.
func resolveHint() string {
	return "use a preset (" + strings.Join(PresetNames(), ", ") +
		") or the path of a JSON chip description (file.json)"
}

// loadFile reads and validates a JSON chip description file.
func loadFile(path string) (*Chip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("chip description %s: %w (%s)", path, err, resolveHint())
	}
	defer f.Close()
	c, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("chip description %s: %w", path, err)
	}
	return c, nil
}
