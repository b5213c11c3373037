package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
)

// TestLimitRefusalsNameTheServersLimit checks that a refusal tells an API
// client the limit is the server's (set by a serve flag), not the CLI's
// advice to lift it with a flag the client does not have.
func TestLimitRefusalsNameTheServersLimit(t *testing.T) {
	h := newHandler(t, Config{MaxBatch: 4, Limits: api.Limits{MaxUnits: 10}})
	cases := []struct {
		name, path, body, flag, field string
	}{
		{"units", "/v1/compile", `{"model":"resnet18","chip":"M"}`, "compass serve --max-units", "limits.max_units"},
		{"units in inspect", "/v1/inspect", `{"model":"resnet18","chip":"M"}`, "compass serve --max-units", "limits.max_units"},
		{"batch", "/v1/compile", `{"model":"resnet18","batch":5}`, "compass serve --max-batch", ""},
		{"units in a sweep row", "/v1/sweep", `{"models":["resnet18"],"chips":["M"],"batches":[1],"methods":["greedy"]}`, "compass serve --max-units", "limits.max_units"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problemOf(t, do(t, h, http.MethodPost, c.path, "application/json", []byte(c.body)), 422)
			if p.Limit == nil {
				t.Fatalf("no limit in the refusal: %s", p.Detail)
			}
			for _, text := range []string{p.Detail, p.Limit.Lift} {
				if !strings.Contains(text, c.flag) || !strings.Contains(text, "server's") {
					t.Fatalf("%q names neither the server's limit nor %s", text, c.flag)
				}
				if strings.Contains(text, "lift the limit with") {
					t.Fatalf("%q gives a client the CLI's advice", text)
				}
				if c.field != "" && !strings.Contains(text, c.field+" can only lower it") {
					t.Fatalf("%q does not say %s can only lower the limit", text, c.field)
				}
			}
		})
	}
	if got := serverLift("nothing (the bound is fixed): use the compass method"); got != "nothing (the bound is fixed): use the compass method" {
		t.Fatalf("a fixed bound's advice became %q", got)
	}
}
