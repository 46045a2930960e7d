package cwsim

import (
	"reflect"
	"testing"
)

var allCollections = []string{"companies", "sites", "boards", "statuses", "types", "subtypes", "priorities",
	"agreementTypes", "agreements", "additions", "catalog", "subcategories", "productTypes", "tickets", "notes", "mySecurity"}

func TestSeedDeterminism(t *testing.T) {
	a, b := New(Options{Seed: 7}), New(Options{Seed: 7})
	c := New(Options{Seed: 8})
	if a.Credentials() != b.Credentials() || a.Credentials() == c.Credentials() {
		t.Error("credentials not derived from the seed")
	}
	for _, name := range allCollections {
		ra, rb := a.Records(name), b.Records(name)
		if len(ra) == 0 {
			t.Errorf("%s empty", name)
		}
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("%s differs for the same seed", name)
		}
	}
	if reflect.DeepEqual(a.Records("companies"), c.Records("companies")) {
		t.Error("different seeds gave identical companies")
	}
	a.AddCompanies(50)
	b.AddCompanies(50)
	if !reflect.DeepEqual(a.Records("companies"), b.Records("companies")) || len(a.Records("companies")) != 76 {
		t.Error("AddCompanies not deterministic")
	}
}

func TestSeedContent(t *testing.T) {
	s := New(Options{})
	names := map[string]map[string]any{}
	idents := map[string]bool{}
	deleted := 0
	for _, c := range s.Records("companies") {
		names[c["name"].(string)] = c
		id := c["identifier"].(string)
		if idents[id] || len(id) > 25 || id == "" {
			t.Errorf("identifier %q", id)
		}
		idents[id] = true
		if c["deletedFlag"] == true {
			deleted++
		}
	}
	for _, n := range []string{"Acme Dental Group", "Northwind Logistics", `O"Brien & Sons+`, "Müller & Söhne GmbH",
		"[Bracket] Holdings", "50% Off Outlet", "Under_Score Ltd", "St. Mary's Family Clinic"} {
		if names[n] == nil {
			t.Errorf("missing company %q", n)
		}
	}
	if !idents["Catchall"] || len(names) != 26 || deleted == 0 {
		t.Errorf("catchall %v, companies %d, deleted %d", idents["Catchall"], len(names), deleted)
	}
	boards := map[string]map[string]any{}
	for _, b := range s.Records("boards") {
		boards[b["name"].(string)] = b
	}
	if boards["Legacy Board"]["inactiveFlag"] != true || boards["Projects"]["projectFlag"] != true || boards["Security"]["inactiveFlag"] != false {
		t.Errorf("boards: %v", boards)
	}
	if n := len(s.Records("statuses")); n != 36 {
		t.Errorf("statuses %d", n)
	}
	if n := len(s.Records("subtypes")); n != 30 {
		t.Errorf("subtypes %d", n)
	}
	var def []string
	for _, p := range s.Records("priorities") {
		if p["defaultFlag"] == true {
			def = append(def, p["name"].(string))
		}
	}
	if len(def) != 1 || def[0] != "Priority 3 - Normal Response" {
		t.Errorf("default priority %v", def)
	}
	cancelled, perCompany := 0, map[int]int{}
	for _, a := range s.Records("agreements") {
		perCompany[a["company"].(map[string]any)["id"].(int)]++
		if a["agreementStatus"] == "Cancelled" {
			cancelled++
		}
	}
	if cancelled == 0 || len(perCompany) < 10 || len(perCompany) >= 25 {
		t.Errorf("agreements: cancelled %d, companies with agreements %d", cancelled, len(perCompany))
	}
	// Records are deep copies.
	recs := s.Records("tickets")
	recs[0]["summary"] = "changed"
	recs[0]["board"].(map[string]any)["name"] = "changed"
	again := s.Records("tickets")
	if again[0]["summary"] == "changed" || again[0]["board"].(map[string]any)["name"] == "changed" {
		t.Error("Records exposes internal state")
	}
	if s.Records("nosuch") != nil {
		t.Error("unknown collection")
	}
}
