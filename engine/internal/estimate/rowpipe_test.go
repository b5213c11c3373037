package estimate

import (
	"slices"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

func TestParsePipeline(t *testing.T) {
	for s, want := range map[string]Pipeline{"": PerInput, "per-input": PerInput, "row": Row} {
		if p, err := ParsePipeline(s); err != nil || p != want {
			t.Errorf("ParsePipeline(%q) = %v, %v; want %v", s, p, err, want)
		}
	}
	_, err := ParsePipeline("rows")
	if err == nil || !strings.Contains(err.Error(), `"rows"`) || !strings.Contains(err.Error(), "per-input") {
		t.Errorf("ParsePipeline(rows): %v, want an error naming the value and the modes", err)
	}
	if _, err := NewPipeline(nil, 1, Pipeline(7)); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

// Bands: rows dealt into at most MaxRowBands bands, by hand.
func TestBandBounds(t *testing.T) {
	for _, c := range []struct {
		rows int
		want []int
	}{
		{1, []int{0, 1}},
		{7, []int{0, 1, 2, 3, 4, 5, 6, 7}}, // one row a band
		{56, []int{0, 3, 7, 10, 14, 17, 21, 24, 28, 31, 35, 38, 42, 45, 49, 52, 56}}, // 16 bands of 3.5 rows
	} {
		if got := BandBounds(c.rows); !slices.Equal(got, c.want) {
			t.Errorf("BandBounds(%d) = %v, want %v", c.rows, got, c.want)
		}
	}
}

// A 3x3 convolution (padding 1) of a [4,16,16] input: 16 output rows of
// 16 positions, one band a row. A replica of positions 24..63 runs row 1
// from position 24, then rows 2 and 3; its rows 1..3 read input rows 0..4
// (the first window starts a row above row 1, the last ends a row below
// row 3), so bands 0..4 of the input. The per-input pipeline runs it as
// one chunk reading the whole input.
func TestChunksAndInputBands(t *testing.T) {
	b := model.NewBuilder("conv")
	x := b.Input("x", 4, 16, 16)
	b.Conv("c", x, model.Conv2D(4, 3, 1, 1))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	chip, _ := hw.Preset("S")
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	in := g.Producers(m.Layers[0].Node)[0]
	e, err := NewPipeline(m, 1, Row)
	if err != nil {
		t.Fatal(err)
	}
	if e.LayerRows(0) != 16 || e.Bands(in) != 16 {
		t.Fatalf("%d rows, input in %d bands; want 16 and 16", e.LayerRows(0), e.Bands(in))
	}
	got := e.Chunks(0, 24, 40)
	want := []Chunk{{1, 24, 8}, {2, 32, 16}, {3, 48, 16}}
	if !slices.Equal(got, want) {
		t.Fatalf("chunks of positions 24..63: %v, want %v", got, want)
	}
	whole := Chunk{0, 16, 48} // rows 1..3 in one chunk
	if b0, b1 := e.InputBands(0, whole, in); b0 != 0 || b1 != 5 {
		t.Errorf("rows 1..3 read input bands [%d, %d), want [0, 5)", b0, b1)
	}
	if b0, b1 := e.InputBands(0, Chunk{15, 240, 16}, in); b0 != 14 || b1 != 16 {
		t.Errorf("the last row reads input bands [%d, %d), want [14, 16)", b0, b1)
	}
	pe, err := New(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := pe.Chunks(0, 24, 40); !slices.Equal(got, []Chunk{{0, 24, 40}}) || pe.Bands(in) != 1 {
		t.Errorf("per input: chunks %v and %d input bands, want one of each", got, pe.Bands(in))
	}
}

// The cost of costing: every valid span of ResNet18 on chip M at batch 1,
// in each pipeline mode (the row mode walks each replica's bands for the
// fill).
func BenchmarkSpanCostPipelines(b *testing.B) {
	g, _ := zoo.Build("resnet18")
	chip, _ := hw.Preset("M")
	m, _ := mapping.Map(g, chip)
	for _, p := range []Pipeline{PerInput, Row} {
		b.Run(p.String(), func(b *testing.B) {
			b.ReportAllocs()
			spans := 0
			for b.Loop() {
				e, _ := NewPipeline(m, 1, p)
				spans = 0
				for a := 0; a < e.NumUnits(); a++ {
					spans += len(e.Costs(a))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
		})
	}
}

// On every valid span of three networks on the paper's chips, at batch 1
// and 8, the row pipeline's first input takes no longer than the
// per-input pipeline's (a chunk waits for a subset of what the whole
// layer waits for, and its layer's stage is shared among its chunks) and
// no less than the slowest layer's stage (a replica runs all its chunks),
// and so no span costs more row by row.
func TestRowFillBetweenStageAndPerInput(t *testing.T) {
	for _, c := range []struct{ model, chip string }{{"resnet18", "M"}, {"squeezenet1_1", "S"}, {"vgg16", "L"}} {
		g, err := zoo.Build(c.model)
		if err != nil {
			t.Fatal(err)
		}
		chip, _ := hw.Preset(c.chip)
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 8} {
			pe, err := New(m, batch)
			if err != nil {
				t.Fatal(err)
			}
			re, err := NewPipeline(m, batch, Row)
			if err != nil {
				t.Fatal(err)
			}
			faster := 0
			for a := 0; a < pe.NumUnits(); a++ {
				for b := a + 1; b <= pe.MaxEnd(a); b++ {
					p, r := pe.MustSpan(a, b), re.MustSpan(a, b)
					slowest := 0.0
					for _, lp := range r.Layers {
						slowest = max(slowest, lp.StageNs)
					}
					const eps = 1e-9
					if r.FillNs > p.FillNs*(1+eps) || r.FillNs < slowest*(1-eps) || r.TimeNs > p.TimeNs*(1+eps) {
						t.Fatalf("%s on %s, batch %d, span [%d, %d): row fill %.1f ns (slowest stage %.1f), per input %.1f; time %.1f vs %.1f",
							c.model, c.chip, batch, a, b, r.FillNs, slowest, p.FillNs, r.TimeNs, p.TimeNs)
					}
					if r.FillNs < p.FillNs*(1-1e-6) {
						faster++
					}
				}
			}
			if faster == 0 {
				t.Errorf("%s on %s, batch %d: no span is faster row by row", c.model, c.chip, batch)
			}
		}
	}
}
