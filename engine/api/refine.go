package api

// MethodOptimalSim is the optimum checked on the simulator: the
// estimator's k best plans (partition.KBest: the k shortest paths through
// the cut graph for latency and energy, the Pareto front ranked by energy
// x time for EDP), each scheduled and simulated, and the one with the best
// simulated objective returned. It runs the simulator in Compile as well
// as in Simulate, so it is not part of "all" (Methods): it is asked for by
// name.
const MethodOptimalSim = "optimal-sim"

// DefaultRefine is how many plans optimal-sim simulates when a request
// does not say. On the paper's grid the best of the first 8 plans recovers
// three quarters of the simulated gain the first 32 give, at a quarter of
// the simulations (docs/search.md has the figures), and 8 simulations of
// VGG16 on chip S at batch 16 (about 257,000 events each) take about a
// second natively.
const DefaultRefine = 8

// RefineFigures are one plan's figures (per inference, or for the whole
// batch for the latency).
type RefineFigures struct {
	ThroughputPerS      float64 `json:"throughput_per_s"`
	LatencyS            float64 `json:"latency_s"`
	EnergyPerInferenceJ float64 `json:"energy_per_inference_j"`
	EDPJS               float64 `json:"edp_j_s"`
}

// RefinePlan is one of the plans optimal-sim simulated: its rank by the
// estimator (0: the estimator's optimum, the optimal method's plan), its
// estimated and simulated figures.
type RefinePlan struct {
	Rank       int           `json:"rank"`
	Partitions int           `json:"partitions"`
	Cuts       []int         `json:"cuts"`
	Estimated  RefineFigures `json:"estimated"`
	Simulated  RefineFigures `json:"simulated"`
}

// RefineReport is optimal-sim's account of its choice: the rank of the
// chosen plan among the plans it simulated (0 when the estimator's optimum
// is also the simulator's), the chosen plan's estimated and simulated
// figures, the estimator's optimum's simulated figures (what optimal gives
// on the simulator), and every plan it simulated.
type RefineReport struct {
	Asked            int           `json:"asked"` // plans asked for (refine)
	Rank             int           `json:"rank"`
	Estimated        RefineFigures `json:"estimated"`
	Simulated        RefineFigures `json:"simulated"`
	OptimumSimulated RefineFigures `json:"optimum_simulated"`
	Plans            []RefinePlan  `json:"plans"`
}
