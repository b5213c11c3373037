package partition

// DefaultGAOptions is PaperGAOptions under the name of the retired
// project GA's settings (issue 12). It stays only until the schedule and
// sim tests call PaperGAOptions; new code must not use it.
func DefaultGAOptions(seed uint64) GAOptions { return PaperGAOptions(seed) }
