package cwsim

import (
	"net/http"
	"strings"
)

var (
	catalogModelled = []string{"identifier", "description", "customerDescription", "subcategory", "type",
		"inactiveFlag", "productClass", "serializedFlag", "price", "cost", "taxableFlag", "unitOfMeasure",
		"manufacturer", "manufacturerPartNumber", "vendor", "vendorSku", "notes", "integrationXRef",
		"recurringFlag", "recurringRevenue", "recurringCost", "recurringBillCycle", "recurringCycleType",
		"dropShipFlag", "specialOrderFlag", "priceAttribute", "customFields"}
	catalogIgnored = []string{"id", "category", "_info", "sla", "recurringOneTimeFlag", "billableOption",
		"agreementType", "markupPercentage", "markupFlag", "autoUpdateUnitCostFlag", "autoUpdateUnitPriceFlag",
		"calculatedPriceFlag", "calculatedCostFlag", "minStockLevel", "phaseProductFlag", "entityType", "level"}
	catalogFields  = newFieldSet(concat(catalogModelled, catalogIgnored)...)
	productClasses = []string{"Agreement", "Bundle", "Inventory", "NonInventory", "Service"}
)

func (s *Server) handleCatalogPost(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	in, e := readObject(r, "catalogItem")
	if e != nil {
		return e
	}
	return s.commit(w, r, rc, http.StatusCreated, func() (*record, *apiError) {
		data, e := s.buildCatalogItem(in)
		if e != nil {
			return nil, e
		}
		return s.colls["catalog"].insert(0, data), nil
	})
}

func (s *Server) buildCatalogItem(in map[string]any) (map[string]any, *apiError) {
	v := &validation{resource: "catalogItem"}
	v.rejectUnknown(in, catalogFields)
	catalog := s.colls["catalog"]
	out := map[string]any{}
	// Limits from ConnectWise's CatalogItem model (identifier 75,
	// description 60, customerDescription 6000).
	if id, ok := v.str(in, "identifier", 75, true); ok {
		if catalog.findFold(catalog.recs, "identifier", strings.TrimSpace(id)) != nil {
			v.add("ObjectExists", "identifier", "Identifier already in use.")
		}
		out["identifier"] = id
	}
	if d, ok := v.str(in, "description", 60, true); ok {
		out["description"] = d
	}
	if d, ok := v.str(in, "customerDescription", 6000, true); ok {
		out["customerDescription"] = d
	}
	subs := s.colls["subcategories"]
	if sub := v.ref(in, "subcategory", true, "name", finder(subs, subs.recs, "name")); sub != nil {
		out["subcategory"] = idName(sub)
		out["category"] = sub.data["category"]
	}
	types := s.colls["productTypes"]
	typ := v.ref(in, "type", true, "name", finder(types, types.recs, "name"))
	if typ != nil {
		out["type"] = idName(typ)
	}
	if pc, ok := v.enum(in, "productClass", false, productClasses...); ok {
		out["productClass"] = pc
	} else if typ != nil {
		out["productClass"] = strings.ReplaceAll(typ.data["name"].(string), "-", "")
		if out["productClass"] != "Inventory" && out["productClass"] != "Service" {
			out["productClass"] = "NonInventory"
		}
	}
	for _, f := range []string{"inactiveFlag", "serializedFlag", "taxableFlag", "recurringFlag", "dropShipFlag", "specialOrderFlag"} {
		b, _ := v.boolean(in, f)
		out[f] = b
	}
	for _, f := range []string{"price", "cost", "recurringRevenue", "recurringCost"} {
		if n, ok := v.number(in, f); ok {
			out[f] = n
		} else if f == "price" || f == "cost" {
			out[f] = 0.0
		}
	}
	for _, f := range []string{"manufacturerPartNumber", "vendorSku", "notes", "integrationXRef", "priceAttribute", "recurringCycleType"} {
		if str, ok := v.str(in, f, 0, false); ok {
			out[f] = str
		}
	}
	for _, f := range []string{"unitOfMeasure", "manufacturer", "vendor", "recurringBillCycle"} {
		if raw, ok := in[f]; ok && raw != nil {
			m, isMap := raw.(map[string]any)
			if _, hasID := toInt(m["id"]); !isMap || !hasID {
				v.invalid(f, "%s must be a reference object such as {\"id\": 1}.", f)
				continue
			}
			out[f] = deepCopy(m)
		}
	}
	if cf, ok := in["customFields"].([]any); ok {
		out["customFields"] = deepCopy(cf)
	}
	if _, ok := out["unitOfMeasure"]; !ok {
		out["unitOfMeasure"] = map[string]any{"id": 1, "name": "Each"}
	}
	if v.failed() {
		return nil, v.err()
	}
	now := fmtTime(s.now())
	out["_info"] = map[string]any{"lastUpdated": now, "updatedBy": apiMemberIdentifier, "dateEntered": now, "enteredBy": apiMemberIdentifier}
	return out, nil
}
