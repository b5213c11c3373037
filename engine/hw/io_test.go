package hw

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeString(t *testing.T, c *Chip) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

func TestRoundTripEveryPreset(t *testing.T) {
	for _, n := range PresetNames() {
		c := mustPreset(t, n)
		text := writeString(t, c)
		back, err := Load(strings.NewReader(text))
		if err != nil {
			t.Fatalf("%s: Load(Write(preset)): %v", n, err)
		}
		if !reflect.DeepEqual(c, back) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v", n, c, back)
		}
		if again := writeString(t, back); again != text {
			t.Errorf("%s: Write is not stable", n)
		}
		if !strings.HasPrefix(text, "{\n  \"name\": ") || !strings.HasSuffix(text, "}\n") {
			t.Errorf("%s: unexpected layout:\n%s", n, text)
		}
	}
}

// TestWriteKeysCarryUnits checks that every numeric key names its unit or is
// a count.
func TestWriteKeysCarryUnits(t *testing.T) {
	text := writeString(t, mustPreset(t, "L"))
	// Order is the declaration order, so later stages can diff files.
	order := []string{`"name"`, `"cores"`, `"crossbar_rows"`, `"clock_hz"`, `"adc_latency_ns"`,
		`"mvm_slice_latency_ns"`, `"vfu_lanes"`, `"local_memory_bytes"`, `"bus_bandwidth_bytes_per_s"`,
		`"control_static_power_mw"`, `"dram"`, `"tck_ns"`, `"trcd_cycles"`, `"vdd_v"`, `"idd3p_ma"`}
	last := -1
	for _, k := range order {
		i := strings.Index(text, k)
		if i <= last {
			t.Fatalf("key %s missing or out of order", k)
		}
		last = i
	}
}

func TestLoadRejectsUnknownField(t *testing.T) {
	text := writeString(t, mustPreset(t, "M"))
	for _, tc := range []struct{ edit, field string }{
		{strings.Replace(text, `"cores": 16,`, `"cores": 16, "clock_mhz": 1000,`, 1), "clock_mhz"},
		{strings.Replace(text, `"tck_ns": 1.25,`, `"tck_ns": 1.25, "tck_ps": 1250,`, 1), "tck_ps"},
	} {
		_, err := Load(strings.NewReader(tc.edit))
		if err == nil || !strings.Contains(err.Error(), `unknown field "`+tc.field+`"`) {
			t.Errorf("unknown field %s: got %v", tc.field, err)
		}
	}
}

func TestLoadBadJSON(t *testing.T) {
	good := writeString(t, mustPreset(t, "M"))
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "empty input"},
		{"blank", "  \n ", "empty input"},
		{"truncated", good[:len(good)/2], "unexpected end of input"},
		{"syntax", "{\"name\": \"x\",\n \"cores\": 16,,}", "invalid JSON at line 2"},
		{"array", "[1, 2]", "(top level)"},
		{"string for int", strings.Replace(good, `"cores": 16`, `"cores": "many"`, 1), "field cores"},
		{"float for int", strings.Replace(good, `"banks": 8`, `"banks": 8.5`, 1), "banks"},
		{"trailing object", good + "{}", "trailing data after the JSON object at line"},
		{"trailing junk", good + "x", "trailing data"},
		{"negative cores", strings.Replace(good, `"cores": 16`, `"cores": -3`, 1), `chip "M": cores = -3`},
		{"zero bandwidth", strings.Replace(good, `"bus_bandwidth_bytes_per_s": 32000000000`, `"bus_bandwidth_bytes_per_s": 0`, 1), "bus_bandwidth_bytes_per_s = 0"},
		{"null", "null", "missing name,"},
		{"missing fields", `{"name": "x", "cores": 1}`, "missing crossbars_per_core, crossbar_rows,"},
		{"missing dram field", strings.Replace(good, `"tck_ns": 1.25,`, "", 1), "missing dram.tck_ns: every field must be given"},
		{"wrong case", strings.Replace(good, `"cores": 16`, `"Cores": 16`, 1), `field "Cores" must be spelled "cores"`},
		{"wrong case in dram", strings.Replace(good, `"banks": 8`, `"BANKS": 8`, 1), `field "dram.BANKS" must be spelled "dram.banks"`},
	} {
		c, err := Load(strings.NewReader(tc.text))
		if err == nil {
			t.Errorf("%s: Load accepted %q", tc.name, tc.text)
			continue
		}
		if c != nil {
			t.Errorf("%s: Load returned a chip with its error", tc.name)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q lacks %q", tc.name, err, tc.want)
		}
	}
	// Trailing whitespace is fine.
	if _, err := Load(strings.NewReader(good + "\n\n  ")); err != nil {
		t.Errorf("trailing whitespace rejected: %v", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	big := strings.NewReader(`{"name": "` + strings.Repeat("x", maxJSONBytes) + `"}`)
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized input: %v", err)
	}
}

func TestWriteNaNFails(t *testing.T) {
	c := mustPreset(t, "M")
	c.ClockHz = math.NaN()
	var b bytes.Buffer
	if err := c.Write(&b); err == nil {
		t.Error("Write encoded NaN")
	}
}

func TestResolve(t *testing.T) {
	for _, spec := range []string{"S", "m", " L ", "reram"} {
		c, err := Resolve(spec)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", spec, err)
		}
		if !strings.EqualFold(c.Name, strings.TrimSpace(spec)) {
			t.Errorf("Resolve(%q).Name = %q", spec, c.Name)
		}
	}

	dir := t.TempDir()
	custom := mustPreset(t, "L")
	custom.Name = "custom"
	custom.Cores = 4
	path := filepath.Join(dir, "chip.json")
	if err := os.WriteFile(path, []byte(writeString(t, custom)), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Resolve(path)
	if err != nil {
		t.Fatalf("Resolve(file): %v", err)
	}
	if !reflect.DeepEqual(got, custom) {
		t.Errorf("Resolve(file) = %+v, want %+v", got, custom)
	}

	// An existing file without the .json suffix is read too.
	plain := filepath.Join(dir, "chipdesc")
	if err := os.WriteFile(plain, []byte(writeString(t, custom)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve(plain); err != nil || got.Name != "custom" {
		t.Errorf("Resolve(existing path) = %v, %v", got, err)
	}

	// An invalid file names the file and the field.
	bad := filepath.Join(dir, "bad.json")
	custom.Cores = 0
	if err := os.WriteFile(bad, []byte(writeString(t, custom)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(bad); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "cores = 0") {
		t.Errorf("Resolve(invalid file): %v", err)
	}

	// A missing .json file names the path.
	if _, err := Resolve(filepath.Join(dir, "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("Resolve(missing file): %v", err)
	}

	// Unknown names list the presets and mention JSON files.
	for _, spec := range []string{"XL", ""} {
		_, err := Resolve(spec)
		if err == nil {
			t.Fatalf("Resolve(%q) succeeded", spec)
		}
		for _, want := range []string{"S, M, L, ReRAM", ".json"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Resolve(%q) error %q lacks %q", spec, err, want)
			}
		}
	}
}

// FuzzLoad: Load must never panic, and whatever it accepts must round-trip.
func FuzzLoad(f *testing.F) {
	for _, n := range PresetNames() {
		c, _ := Preset(n)
		var b bytes.Buffer
		_ = c.Write(&b)
		f.Add(b.String())
	}
	f.Add(`{"cores": 1e400}`)
	f.Add(`{"dram": {"banks": -1}}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Load(strings.NewReader(text))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := c.Write(&b); err != nil {
			t.Fatalf("Write of a loaded chip: %v", err)
		}
		back, err := Load(&b)
		if err != nil || !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip of a loaded chip: %v", err)
		}
	})
}
