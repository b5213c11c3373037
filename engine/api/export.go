package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/compass-go/compass/engine/model"
)

// WriteGraphJSON writes an inferred graph in the JSON IR that
// ReadGraphJSON and LoadModel (a .json file) read back:
// {"name": ..., "nodes": [...]}, one node a line, in the graph's
// topological order. Inferred output shapes are left out (the reader
// infers them again), so the file holds only what defines the network;
// docs/model-json.md describes the format.
func WriteGraphJSON(w io.Writer, g *model.Graph) error {
	if g == nil || !g.Inferred() {
		return fmt.Errorf("graph JSON: the graph must be inferred (model.Graph.Infer) before it is written")
	}
	name, err := json.Marshal(g.Name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\"name\": %s, \"nodes\": [\n", name)
	for i, n := range g.Nodes {
		c := *n
		c.Out = nil
		b, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("graph JSON: node %q: %w", n.Name, err)
		}
		bw.WriteString("  ")
		bw.Write(b)
		if i < len(g.Nodes)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
