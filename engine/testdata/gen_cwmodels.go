//go:build ignore

// gen_cwmodels writes cwmodels.json: the part of the published ConnectWise
// models that the engine's requests are checked against (links_test.go).
//
// Source: ../shared/data/connectwise-models.json (derived from the OpenAPI
// client in github.com/ai-connor/connectwise; see its "header"). Run from
// the engine directory:
//
//	go run ./testdata/gen_cwmodels.go ../../shared/data/connectwise-models.json > testdata/cwmodels.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// prefixes are the API areas the engine calls.
var prefixes = []string{"/system/info", "/system/mySecurity", "/company/companies", "/company/contacts",
	"/company/configurations", "/service/boards", "/service/priorities", "/service/tickets",
	"/finance/agreements", "/procurement/catalog", "/procurement/subcategories", "/procurement/types"}

var modelRE = regexp.MustCompile(`object\(([A-Za-z0-9_]+)\)`)

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var in struct {
		Header     map[string]any             `json:"header"`
		Models     map[string]json.RawMessage `json:"models"`
		Operations []map[string]any           `json:"operations"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var ops []map[string]any
	want := map[string]int{} // model → depth
	for _, op := range in.Operations {
		p, _ := op["path"].(string)
		keep := false
		for _, pre := range prefixes {
			if strings.HasPrefix(p, pre) {
				keep = true
			}
		}
		if !keep {
			continue
		}
		ops = append(ops, map[string]any{"method": op["method"], "path": p, "query": op["query"], "body": op["body"], "returns": op["returns"]})
		for _, k := range []string{"body", "returns"} {
			s, _ := op[k].(string)
			for _, m := range modelRE.FindAllStringSubmatch(s, -1) {
				want[m[1]] = 0
			}
		}
	}
	// Models one and two levels down, for fields= and conditions paths.
	for depth := 1; depth <= 2; depth++ {
		for name, d := range want {
			if d != depth-1 {
				continue
			}
			var m struct {
				Fields []struct {
					Kind string `json:"kind"`
				} `json:"fields"`
			}
			json.Unmarshal(in.Models[name], &m)
			for _, f := range m.Fields {
				for _, sub := range modelRE.FindAllStringSubmatch(f.Kind, -1) {
					if _, ok := want[sub[1]]; !ok {
						want[sub[1]] = depth
					}
				}
			}
		}
	}
	models := map[string]json.RawMessage{}
	var names []string
	for n := range want {
		if m, ok := in.Models[n]; ok {
			models[n] = m
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := map[string]any{
		"source":     "trimmed from ../shared/data/connectwise-models.json by testdata/gen_cwmodels.go",
		"header":     map[string]any{"source": in.Header["source"], "commit": in.Header["commit"], "api_version": in.Header["api_version"]},
		"models":     models,
		"operations": ops,
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
