// Package graph draws a pipeline's step DAG as Mermaid, Graphviz DOT or
// JSON, for `slipway graph` and for documentation.
package graph

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slipway-ml/slipway/compiler/ir"
)

// Formats lists the supported formats.
var Formats = []string{"mermaid", "dot", "json"}

// Render draws the program's pipelines in format.
func Render(prog *ir.Program, format string) ([]byte, error) {
	switch format {
	case "mermaid":
		return []byte(Mermaid(prog)), nil
	case "dot":
		return []byte(Dot(prog)), nil
	case "json":
		return JSON(prog)
	}
	return nil, fmt.Errorf("unknown graph format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// shapes per kind, in Mermaid syntax: open and close.
var mermaidShape = map[ir.Kind][2]string{
	ir.KindFetch: {"[(", ")]"}, ir.KindValidate: {"{{", "}}"}, ir.KindFeatures: {"[", "]"},
	ir.KindTrain: {"[[", "]]"}, ir.KindEvaluate: {"{", "}"}, ir.KindPackage: {"[/", "/]"},
	ir.KindDeploy: {"([", "])"}, ir.KindMonitor: {"((", "))"}, ir.KindRetrain: {">", "]"},
	ir.KindCustom: {"[", "]"},
}

// Mermaid draws a flowchart, one subgraph per pipeline.
func Mermaid(prog *ir.Program) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	for _, p := range prog.Pipelines {
		fmt.Fprintf(&b, "  subgraph %s[%q]\n", nodeID(p.Name), p.Name)
		for _, s := range p.Steps {
			sh := mermaidShape[s.Kind]
			fmt.Fprintf(&b, "    %s%s\"%s<br/><small>%s</small>\"%s\n", nodeID(s.ID), sh[0], s.Name, s.Kind, sh[1])
		}
		b.WriteString("  end\n")
		for _, s := range p.Steps {
			for _, d := range s.DependsOn {
				fmt.Fprintf(&b, "  %s --> %s\n", nodeID(d), nodeID(s.ID))
			}
		}
	}
	return b.String()
}

// Dot draws a Graphviz digraph, one cluster per pipeline.
func Dot(prog *ir.Program) string {
	var b strings.Builder
	b.WriteString("digraph slipway {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n")
	for _, p := range prog.Pipelines {
		fmt.Fprintf(&b, "  subgraph %q {\n    label=%q;\n", "cluster_"+p.Name, p.Name)
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "    %q [label=%q];\n", s.ID, s.Name+"\n("+string(s.Kind)+")")
		}
		b.WriteString("  }\n")
		for _, s := range p.Steps {
			for _, d := range s.DependsOn {
				fmt.Fprintf(&b, "  %q -> %q;\n", d, s.ID)
			}
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// Node is a step in the JSON graph.
type Node struct {
	ID        string   `json:"id"`
	Kind      ir.Kind  `json:"kind"`
	DependsOn []string `json:"dependsOn"`
}

// JSON lists nodes and their dependencies per pipeline.
func JSON(prog *ir.Program) ([]byte, error) {
	out := map[string][]Node{}
	for _, p := range prog.Pipelines {
		nodes := []Node{}
		for _, s := range p.Steps {
			nodes = append(nodes, Node{ID: s.ID, Kind: s.Kind, DependsOn: s.DependsOn})
		}
		out[p.Name] = nodes
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode graph: %w", err)
	}
	return append(data, '\n'), nil
}

// nodeID makes a Mermaid-safe node id from a step id.
func nodeID(id string) string {
	r := strings.NewReplacer("/", "__", "-", "_")
	return r.Replace(id)
}
