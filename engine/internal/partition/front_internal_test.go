package partition

import (
	"errors"
	"testing"
)

// A Pareto front past its bound is a *FrontError giving the count and the
// bound, never a silent truncation.
func TestPruneBoundsTheFront(t *testing.T) {
	pts := make([]frontPoint, maxFront+1)
	for i := range pts {
		pts[i] = frontPoint{energy: float64(i), time: float64(len(pts) - i)} // all non-dominated
	}
	_, err := prune(pts)
	var fe *FrontError
	if !errors.As(err, &fe) || fe.Points != maxFront+1 || fe.Limit != maxFront || fe.Total {
		t.Fatalf("prune of %d non-dominated points: %v", len(pts), err)
	}
	f, err := prune(pts[:maxFront])
	if err != nil || len(f) != maxFront {
		t.Fatalf("a front at the bound: %d points, %v", len(f), err)
	}
}
