package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/compass-go/compass/engine/api"
)

// TestOmittedFieldsAreTheCLIDefaults checks the echoed seed, objective and
// methods of requests that omit them, and that a field given as zero stays
// zero (only an omitted field takes the default).
func TestOmittedFieldsAreTheCLIDefaults(t *testing.T) {
	h := newHandler(t, Config{})
	type echo struct {
		Objective string                    `json:"objective"`
		Seed      uint64                    `json:"seed"`
		Batch     int                       `json:"batch"`
		Chip      string                    `json:"chip"`
		Results   []struct{ Method string } `json:"results"`
		Rows      []struct {
			Figures []struct{ Method string } `json:"figures"`
		} `json:"rows"`
	}
	post := func(path, body string) echo {
		t.Helper()
		rec := do(t, h, http.MethodPost, path, "application/json", []byte(body))
		wantOK(t, rec, "application/json")
		var e echo
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	c := post("/v1/compile", `{"model":"squeezenet1_1"}`)
	if c.Seed != 1 || c.Objective != "latency" || c.Batch != 1 || c.Chip != "M" || len(c.Results) != 1 || c.Results[0].Method != "compass" {
		t.Fatalf("compile with defaults echoes %+v, want seed 1, latency, batch 1, chip M, method compass", c)
	}
	if c := post("/v1/compile", `{"model":"squeezenet1_1","seed":0}`); c.Seed != 0 {
		t.Fatalf("an explicit seed 0 echoes seed %d", c.Seed)
	}
	s := post("/v1/sweep", `{"models":["squeezenet1_1"],"chips":["S"],"batches":[1]}`)
	if s.Objective != "latency" || s.Seed != 1 || len(s.Rows) != 1 || len(s.Rows[0].Figures) != len(api.Methods()) {
		t.Fatalf("sweep with defaults echoes %+v, want latency, seed 1 and every method of api.Methods()", s)
	}
	if s := post("/v1/sweep", `{"models":["squeezenet1_1"],"chips":["S"],"batches":[1],"methods":["greedy"],"objective":"EDP"}`); s.Objective != "edp" {
		t.Fatalf("sweep objective EDP echoes %q, want edp", s.Objective)
	}
	if s := post("/v1/sweep", `{"methods":["greedy"]}`); len(s.Rows) != 3*3*5 {
		t.Fatalf("sweep without a grid has %d rows, want the paper's 45", len(s.Rows))
	}
}
