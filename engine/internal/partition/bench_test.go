package partition_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model/zoo"
)

// The estimator memoises spans, so every iteration builds a fresh one
// (estimate.New is cheap next to the search) and pays for the span
// evaluations a cold search makes. The mapping is built once, outside the
// timed loop.

func benchGA(b *testing.B, net, chip string, batch int) {
	m := zooMapping(b, net, chip)
	ctx := context.Background()
	b.ReportAllocs()
	var gens int
	for b.Loop() {
		e := newEstimator(b, m, batch)
		res, err := partition.GA(ctx, e, partition.Latency, partition.PaperGAOptions(1))
		if err != nil {
			b.Fatal(err)
		}
		gens = len(res.History) - 1
	}
	b.ReportMetric(float64(gens), "generations")
}

func benchOptimal(b *testing.B, net, chip string, batch int, obj partition.Objective) {
	m := zooMapping(b, net, chip)
	ctx := context.Background()
	b.ReportAllocs()
	var spans, front int
	for b.Loop() {
		e := newEstimator(b, m, batch)
		res, err := partition.Optimal(ctx, e, obj)
		if err != nil {
			b.Fatal(err)
		}
		spans, front = res.Spans, len(res.Pareto)
	}
	b.ReportMetric(float64(spans), "spans")
	if obj == partition.EDP {
		b.ReportMetric(float64(front), "front-points")
	}
}

func BenchmarkGAResNet18M16(b *testing.B) { benchGA(b, "resnet18", "M", 16) }

func BenchmarkGAVGG16S1(b *testing.B) { benchGA(b, "vgg16", "S", 1) }

func BenchmarkOptimalResNet18M16(b *testing.B) {
	benchOptimal(b, "resnet18", "M", 16, partition.Latency)
}

func BenchmarkOptimalVGG16S1(b *testing.B) { benchOptimal(b, "vgg16", "S", 1, partition.Latency) }

func BenchmarkOptimalEDPResNet18M16(b *testing.B) {
	benchOptimal(b, "resnet18", "M", 16, partition.EDP)
}

// benchKBest times the k best plans on a cold estimator (the span costs
// included, as in benchOptimal).
func benchKBest(b *testing.B, net, chip string, batch int, obj partition.Objective, k int) {
	m := zooMapping(b, net, chip)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e := newEstimator(b, m, batch)
		if _, err := partition.KBest(ctx, e, obj, k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKBest8VGG16S1(b *testing.B) { benchKBest(b, "vgg16", "S", 1, partition.Latency, 8) }

func BenchmarkKBest64VGG16S1(b *testing.B) { benchKBest(b, "vgg16", "S", 1, partition.Latency, 64) }

func BenchmarkKBest8ResNet18M16(b *testing.B) {
	benchKBest(b, "resnet18", "M", 16, partition.Latency, 8)
}

// smallCrossbarMapping maps ResNet18 on chip M with 32x32 crossbars, 4 per
// core: 11436 units and 182888 valid spans, the "many tiny crossbars"
// shape that once made the searches hold every span's full estimate
// (about 15 KB per unit). With compact span costs they hold 16 bytes a
// span; -benchmem shows the bytes allocated per search.
func smallCrossbarMapping(b testing.TB) *mapping.Mapping {
	g, err := zoo.Build("resnet18")
	if err != nil {
		b.Fatal(err)
	}
	preset, err := hw.Preset("M")
	if err != nil {
		b.Fatal(err)
	}
	chip := *preset
	chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore = 32, 32, 4
	m, err := mapping.Map(g, &chip)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// liveBytes is the heap still reachable after a collection: what a
// search keeps (its estimator's memo, its population), not what it
// allocated and dropped (which -benchmem's B/op counts).
func liveBytes() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc)
}

func benchSmallCrossbars(b *testing.B, search func(e *estimate.Estimator) error) {
	m := smallCrossbarMapping(b)
	base := liveBytes()
	b.ReportAllocs()
	var live float64
	for b.Loop() {
		e := newEstimator(b, m, 1)
		if err := search(e); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		live = liveBytes() - base
		runtime.KeepAlive(e)
		b.StartTimer()
	}
	b.ReportMetric(live/float64(len(m.Units)), "live-B/unit")
	b.ReportMetric(float64(len(m.Units)), "units")
}

func BenchmarkOptimalSmallCrossbars(b *testing.B) {
	benchSmallCrossbars(b, func(e *estimate.Estimator) error {
		_, err := partition.Optimal(context.Background(), e, partition.Latency)
		return err
	})
}

func BenchmarkGASmallCrossbars(b *testing.B) {
	benchSmallCrossbars(b, func(e *estimate.Estimator) error {
		_, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
		return err
	})
}
