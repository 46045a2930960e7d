package cwsim

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// billingModels is testdata/billing-models.json: ConnectWise's published
// models for billing, trimmed by testdata/trim_models.go.
type modelField struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Required bool   `json:"required"`
	Max      int    `json:"max"`
}

func billingModels(t *testing.T) map[string][]modelField {
	t.Helper()
	b, err := os.ReadFile("testdata/billing-models.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Models map[string]struct {
			Fields []modelField `json:"fields"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string][]modelField{}
	for k, m := range f.Models {
		out[k] = m.Fields
	}
	return out
}

// The simulator's catalog and additions follow ConnectWise's models: each
// required field missing is a MissingRequiredField naming it, each string
// limit holds at the limit and fails past it, and records carry only the
// model's fields.
func TestBillingModelsMatch(t *testing.T) {
	models := billingModels(t)
	s := newTestServer(t, Options{})
	seq := 0
	valid := map[string]func() map[string]any{
		"CatalogItem": func() map[string]any {
			seq++ // identifiers are unique
			return map[string]any{"identifier": "MODEL-" + strconv.Itoa(seq), "description": "Seat", "customerDescription": "Seat",
				"subcategory": map[string]any{"name": "Security Software"}, "type": map[string]any{"name": "Service"}}
		},
		"Addition": func() map[string]any {
			return map[string]any{"product": map[string]any{"identifier": "AV-ENDPOINT"}, "billCustomer": "Billable", "quantity": 1}
		},
	}
	path := map[string]string{"CatalogItem": "procurement/catalog", "Addition": "finance/agreements/1001/additions"}
	for model, body := range valid {
		n := 0
		for _, f := range models[model] {
			if f.Required {
				n++
				b := body()
				delete(b, f.Name)
				wantFieldError(t, api(t, s, "POST", path[model], b), f.Name, "MissingRequiredField")
			}
			if f.Max > 0 && f.Kind == "string" {
				if _, ok := body()[f.Name]; !ok {
					continue
				}
				b := body()
				b[f.Name] = strings.Repeat("B", f.Max+1)
				wantFieldError(t, api(t, s, "POST", path[model], b), f.Name, "InvalidField")
				b[f.Name] = strings.Repeat("C", f.Max)
				if r := api(t, s, "POST", path[model], b); r.status != 201 {
					t.Errorf("%s.%s at its limit %d: %d %s", model, f.Name, f.Max, r.status, r.body)
				}
			}
		}
		if n == 0 {
			t.Errorf("model %s has no required field: testdata is wrong", model)
		}
	}
	for coll, model := range map[string]string{"catalog": "CatalogItem", "additions": "Addition", "agreements": "Agreement",
		"subcategories": "SubCategory", "productTypes": "ProductType"} {
		known := map[string]bool{}
		for _, f := range models[model] {
			known[f.Name] = true
		}
		for _, rec := range s.Records(coll) {
			for k := range rec {
				if !known[k] {
					t.Errorf("%s record has %q, which ConnectWise's %s has not", coll, k, model)
				}
			}
		}
	}
}
