package cwsim

import (
	"math"
	"net/http"
)

var (
	additionEditable = []string{"product", "quantity", "lessIncluded", "unitPrice", "unitCost", "billCustomer",
		"effectiveDate", "cancelledDate", "taxableFlag", "serialNumber", "invoiceDescription", "purchaseItemFlag",
		"specialOrderFlag", "description", "uom"}
	additionReadOnly = []string{"id", "extPrice", "extCost", "margin", "prorateCost", "proratePrice",
		"extendedProrateCost", "extendedProratePrice", "prorateCurrentPeriodFlag", "sequenceNumber", "agreementId",
		"agreementStatus", "billedQuantity", "opportunity", "invoiceGrouping", "customFields", "_info"}
	additionPostFields  = newFieldSet(concat(additionEditable, additionReadOnly)...)
	additionPatchFields = newFieldSet(additionEditable...)
	additionRefFields   = newFieldSet("product")
	billCustomerValues  = []string{"Billable", "DoNotBill", "NoCharge"}
)

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// buildAddition validates an agreement addition (POST body, or PATCHed
// view when old is set). Caller holds the write lock.
func (s *Server) buildAddition(in map[string]any, agreement, old *record) (map[string]any, *apiError) {
	v := &validation{resource: "addition"}
	if old == nil {
		v.rejectUnknown(in, additionPostFields)
	}
	catalog := s.colls["catalog"]
	product := v.ref(in, "product", true, "identifier", finder(catalog, catalog.recs, "identifier"))
	out := map[string]any{"agreementId": agreement.id, "agreementStatus": agreement.data["agreementStatus"]}
	if product != nil {
		if inactive, _ := product.data["inactiveFlag"].(bool); inactive {
			v.invalid("product", "Product %s is inactive.", product.data["identifier"])
		}
		out["product"] = map[string]any{"id": product.id, "identifier": product.data["identifier"]}
	}
	if bc, ok := v.enum(in, "billCustomer", true, billCustomerValues...); ok {
		out["billCustomer"] = bc
	}
	num := func(field string, def float64) float64 {
		f, ok := v.number(in, field)
		if !ok {
			return def
		}
		if f < 0 {
			v.invalid(field, "%s may not be negative.", field)
		}
		return f
	}
	var price, cost float64
	desc, invDesc, taxable := "", "", false
	if product != nil {
		price, _ = toFloat(product.data["price"])
		cost, _ = toFloat(product.data["cost"])
		desc, _ = product.data["description"].(string)
		invDesc, _ = product.data["customerDescription"].(string)
		taxable, _ = product.data["taxableFlag"].(bool)
	}
	qty := num("quantity", 0)
	less := num("lessIncluded", 0)
	unitPrice := num("unitPrice", price)
	unitCost := num("unitCost", cost)
	out["quantity"], out["lessIncluded"], out["unitPrice"], out["unitCost"] = qty, less, unitPrice, unitCost
	out["extPrice"] = round2(qty * unitPrice)
	out["extCost"] = round2(qty * unitCost)
	out["margin"] = round2(qty*unitPrice - qty*unitCost)
	for _, f := range []string{"effectiveDate", "cancelledDate"} {
		if d, ok := v.date(in, f); ok {
			out[f] = d
		}
	}
	if d, ok := v.str(in, "description", 0, false); ok {
		desc = d
	}
	out["description"] = desc
	if d, ok := v.str(in, "invoiceDescription", 6000, false); ok {
		invDesc = d
	}
	out["invoiceDescription"] = invDesc
	if b, ok := v.boolean(in, "taxableFlag"); ok {
		taxable = b
	}
	out["taxableFlag"] = taxable
	for _, f := range []string{"purchaseItemFlag", "specialOrderFlag"} {
		b, _ := v.boolean(in, f)
		out[f] = b
	}
	if sn, ok := v.str(in, "serialNumber", 50, false); ok {
		out["serialNumber"] = sn
	}
	if u, ok := v.str(in, "uom", 30, false); ok {
		out["uom"] = u
	}
	if v.failed() {
		return nil, v.err()
	}
	now := fmtTime(s.now())
	info := map[string]any{"lastUpdated": now, "updatedBy": apiMemberIdentifier, "dateEntered": now, "enteredBy": apiMemberIdentifier}
	if old != nil {
		oi := old.data["_info"].(map[string]any)
		info["dateEntered"], info["enteredBy"] = oi["dateEntered"], oi["enteredBy"]
		out["sequenceNumber"] = old.data["sequenceNumber"]
	} else {
		out["sequenceNumber"] = len(s.colls["additions"].scope(agreement.id, true)) + 1
	}
	out["_info"] = info
	return out, nil
}

func (s *Server) handleAdditionPost(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	in, e := readObject(r, "addition")
	if e != nil {
		return e
	}
	return s.commit(w, r, rc, http.StatusCreated, func() (*record, *apiError) {
		agreements := s.colls["agreements"]
		ag := agreements.get(rc.ids[0])
		if ag == nil {
			return nil, errRecordNotFound(agreements, rc.ids[0])
		}
		data, e := s.buildAddition(in, ag, nil)
		if e != nil {
			return nil, e
		}
		return s.colls["additions"].insert(ag.id, data), nil
	})
}

func (s *Server) handleAdditionPatch(w http.ResponseWriter, r *http.Request, rc *reqCtx) *apiError {
	ops, e := readPatch(r, "addition")
	if e != nil {
		return e
	}
	return s.commit(w, r, rc, http.StatusOK, func() (*record, *apiError) {
		return s.patchAddition(rc.ids[0], rc.ids[1], ops)
	})
}

// patchAddition applies ops to one addition of an agreement (caller holds the write lock).
func (s *Server) patchAddition(agreementID, additionID int, ops []patchOp) (*record, *apiError) {
	agreements, additions := s.colls["agreements"], s.colls["additions"]
	ag := agreements.get(agreementID)
	if ag == nil {
		return nil, errRecordNotFound(agreements, agreementID)
	}
	old := additions.get(additionID)
	if old == nil || old.parent != ag.id {
		return nil, errRecordNotFound(additions, additionID)
	}
	view := map[string]any{}
	for _, f := range additionEditable {
		if x, ok := old.data[f]; ok {
			if m, isMap := x.(map[string]any); isMap {
				view[f] = map[string]any{"id": m["id"]}
			} else {
				view[f] = x
			}
		}
	}
	v := &validation{resource: "addition"}
	applyPatch(view, ops, additionPatchFields, additionRefFields, v)
	if v.failed() {
		return nil, v.err()
	}
	data, e := s.buildAddition(view, ag, old)
	if e != nil {
		return nil, e
	}
	return additions.replace(old, data), nil
}
