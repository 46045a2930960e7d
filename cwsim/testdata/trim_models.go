//go:build ignore

// trim_models copies the billing models the simulator is checked against
// out of ConnectWise's published models, so tests run without ../shared:
//
//	go run ./cwsim/testdata/trim_models.go ../shared/data/connectwise-models.json > cwsim/testdata/billing-models.json
//
// Source: connectwise-models.json (derived from the OpenAPI-generated Go
// client in github.com/ai-connor/connectwise; its header names the commit).
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

var keep = []string{"Addition", "Agreement", "CatalogItem", "SubCategory", "ProductType",
	"IvItemReference", "ProductSubCategoryReference", "ProductTypeReference"}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run trim_models.go PATH/connectwise-models.json")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var all struct {
		Header map[string]any             `json:"header"`
		Models map[string]json.RawMessage `json:"models"`
	}
	if err := json.Unmarshal(b, &all); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := struct {
		Source string                     `json:"source"`
		Commit any                        `json:"commit"`
		Models map[string]json.RawMessage `json:"models"`
	}{Source: "connectwise-models.json, " + fmt.Sprint(all.Header["source"]), Commit: all.Header["commit"], Models: map[string]json.RawMessage{}}
	for _, k := range keep {
		m, ok := all.Models[k]
		if !ok {
			fmt.Fprintln(os.Stderr, "no model", k)
			os.Exit(1)
		}
		out.Models[k] = m
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
