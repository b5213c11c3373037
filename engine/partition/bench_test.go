package partition_test

import (
	"context"
	"testing"

	"github.com/compass-go/compass/engine/partition"
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
		res, err := partition.GA(ctx, e, partition.Latency, partition.DefaultGAOptions(1))
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
