package hw

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRefreshFixIsInRange: for every way trefi_cycles can fail to exceed
// trfc_cycles, the message suggests only values the ranges allow, and
// taking the suggestion gives a valid chip.
func TestRefreshFixIsInRange(t *testing.T) {
	const top = 1 << 20 // the range of a DRAM timing, typed here from docs/hardware.md
	cases := []struct {
		name        string
		trfc, trefi int
		want, avoid string
		apply       func(c *Chip) // the suggestion, taken at its bound
	}{
		{"trfc at its maximum", top, 3120, "use trfc_cycles from 1 to 3119", "trefi_cycles from",
			func(c *Chip) { c.DRAM.TRFCCycles = 3119 }},
		{"both at their maximum", top, top, "use trfc_cycles from 1 to 1048575", "trefi_cycles from",
			func(c *Chip) { c.DRAM.TRFCCycles = top - 1 }},
		{"trefi of one cycle", 168, 1, "use trefi_cycles from 169 to 1048576", "trfc_cycles from",
			func(c *Chip) { c.DRAM.TREFICycles = 169 }},
		{"either may move", 168, 100, "use trefi_cycles from 169 to 1048576, or trfc_cycles from 1 to 99", "",
			func(c *Chip) { c.DRAM.TRFCCycles = 99 }},
		{"neither alone can move", top, 1, "so that 1 <= trfc_cycles < trefi_cycles <= 1048576", "from",
			func(c *Chip) { c.DRAM.TRFCCycles, c.DRAM.TREFICycles = 1, 2 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustPreset(t, "M")
			c.DRAM.TRFCCycles, c.DRAM.TREFICycles = tc.trfc, tc.trefi
			errs := FieldErrors(c.Validate())
			if len(errs) != 1 || errs[0].Field != "dram.trefi_cycles" {
				t.Fatalf("errors %v", errs)
			}
			msg := errs[0].Msg
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q lacks %q", msg, tc.want)
			}
			if tc.avoid != "" && strings.Contains(msg, tc.avoid) {
				t.Errorf("message %q suggests a value out of range (%q)", msg, tc.avoid)
			}
			if strings.Contains(msg, "> 1048576") || strings.Contains(msg, "1048577") {
				t.Errorf("message %q suggests a value above the range", msg)
			}
			tc.apply(c)
			if err := c.Validate(); err != nil {
				t.Errorf("the suggestion does not validate: %v", err)
			}
		})
	}
}

// TestMessagesNameNoGoIdentifiers: the messages a user sees state numbers
// and JSON keys, never a Go constant or method.
func TestMessagesNameNoGoIdentifiers(t *testing.T) {
	goName := regexp.MustCompile(`\b(Max|Min)[A-Z]\w*|\bChip\.\w|\bhw\.\w|\bsanity cap`)
	mutations := []func(c *Chip){
		func(c *Chip) { c.Cores, c.CrossbarsPerCore = 32768, 64 },
		func(c *Chip) { c.Cores = 1 << 21 },
		func(c *Chip) { c.CrossbarsPerCore = 65 },
		func(c *Chip) { c.DRAM.TRFCCycles = 1 << 20 },
		func(c *Chip) { c.DRAM.TREFICycles = 1 << 21 },
		func(c *Chip) { c.ClockHz = 0 },
		func(c *Chip) { c.DRAM.IDD0MA = 1 },
		func(c *Chip) { c.DRAM.IDD4RMA = 0.5 },
	}
	for i, m := range mutations {
		c := mustPreset(t, "M")
		m(c)
		err := c.Validate()
		if err == nil {
			t.Fatalf("mutation %d accepted", i)
		}
		if s := goName.FindString(err.Error()); s != "" {
			t.Errorf("mutation %d: message %q names %q", i, err, s)
		}
	}
	c := mustPreset(t, "M")
	c.Cores, c.CrossbarsPerCore = 32768, 64
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "must be at most 1048576 crossbars in total") {
		t.Errorf("the crossbar cap is not stated as a number: %v", err)
	}
	good := writeString(t, mustPreset(t, "M"))
	_, err := Load(strings.NewReader(strings.Replace(good, `"tck_ns": 1.25,`, "", 1)))
	if err == nil || goName.MatchString(err.Error()) || !strings.Contains(err.Error(), "compass chip --chip M") {
		t.Errorf("missing field: %v", err)
	}
}

// TestIDD0FixValidates: the least IDD0 the message suggests is accepted.
func TestIDD0FixValidates(t *testing.T) {
	c := mustPreset(t, "M")
	c.DRAM.IDD3NMA, c.DRAM.IDD2NMA = 33.337, 21.111 // a least value with many digits
	c.DRAM.IDD0MA = 1
	err := c.Validate()
	m := regexp.MustCompile(`use at least (\S+) mA`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("no suggestion in %v", err)
	}
	v, perr := strconv.ParseFloat(m[1], 64)
	if perr != nil {
		t.Fatal(perr)
	}
	c.DRAM.IDD0MA = v
	if err := c.Validate(); err != nil {
		t.Errorf("IDD0 = %v, as suggested: %v", v, err)
	}
}
