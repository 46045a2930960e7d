package cwsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

const maxBody = 8 << 20

// readJSON decodes a request body (numbers normalised to int/float64).
func readJSON(r *http.Request) (any, *apiError) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errBadRequest("InvalidRequest", "The request body could not be read.")
	}
	if len(data) > maxBody {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestTooLarge", message: "The request body is too large."}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errBadRequest("InvalidObject", "The request body is not valid JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBadRequest("InvalidObject", "The request body has data after the JSON value.")
	}
	return normalize(v), nil
}

// readObject decodes a JSON object body for resource ("ticket", ...).
func readObject(r *http.Request, resource string) (map[string]any, *apiError) {
	v, e := readJSON(r)
	if e != nil {
		return nil, e
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errBadRequest("InvalidObject", resource+" object is invalid: the body must be a JSON object.")
	}
	return m, nil
}

// fieldSet is the set of top-level fields a resource accepts.
type fieldSet map[string]bool

func newFieldSet(names ...string) fieldSet {
	fs := fieldSet{}
	for _, n := range names {
		fs[n] = true
	}
	return fs
}

// rejectUnknown flags body fields the resource does not have. Field names
// are matched exactly (ConnectWise field names are camelCase).
func (v *validation) rejectUnknown(m map[string]any, fs fieldSet) {
	for k := range m {
		if !fs[k] {
			v.add("InvalidField", k, "%s is not a field of %s.", k, v.resource)
		}
	}
}

// str validates an optional/required string field; ok reports presence.
func (v *validation) str(m map[string]any, field string, max int, required bool) (string, bool) {
	raw, present := m[field]
	if !present || raw == nil {
		if required {
			v.missing(field)
		}
		return "", false
	}
	s, isStr := raw.(string)
	if !isStr {
		v.invalid(field, "%s must be a string.", field)
		return "", false
	}
	if required && strings.TrimSpace(s) == "" {
		v.missing(field)
		return "", false
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		v.invalid(field, "%s may not exceed %d characters.", field, max)
		return "", false
	}
	return s, true
}

// enum validates a string enum (case-insensitive, as ConnectWise's
// serializer parses enums) and returns the canonical spelling.
func (v *validation) enum(m map[string]any, field string, required bool, allowed ...string) (string, bool) {
	s, ok := v.str(m, field, 0, required)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a, true
		}
	}
	v.invalid(field, "%s must be one of %s.", field, strings.Join(allowed, ", "))
	return "", false
}

func (v *validation) boolean(m map[string]any, field string) (bool, bool) {
	raw, present := m[field]
	if !present || raw == nil {
		return false, false
	}
	b, ok := raw.(bool)
	if !ok {
		v.invalid(field, "%s must be true or false.", field)
		return false, false
	}
	return b, true
}

func (v *validation) number(m map[string]any, field string) (float64, bool) {
	raw, present := m[field]
	if !present || raw == nil {
		return 0, false
	}
	f, ok := toFloat(raw)
	if !ok {
		v.invalid(field, "%s must be a number.", field)
		return 0, false
	}
	return f, true
}

// date validates an ISO 8601 date-time field and returns it normalised to UTC.
func (v *validation) date(m map[string]any, field string) (string, bool) {
	s, ok := v.str(m, field, 0, false)
	if !ok {
		return "", false
	}
	t, ok := parseTime(s)
	if !ok {
		v.invalid(field, "%s must be a date-time such as 2026-01-02T03:04:05Z.", field)
		return "", false
	}
	return fmtTime(t), true
}

// ref resolves a reference object: {"id": N} or {altKey: "..."}. find
// gets the id (0 when absent) and the alternate key; it returns nil when
// nothing matches. A bare string or number is rejected, as ConnectWise does.
func (v *validation) ref(m map[string]any, field string, required bool, altKey string, find func(id int, alt string) *record) *record {
	raw, present := m[field]
	if !present || raw == nil {
		if required {
			v.missing(field)
		}
		return nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		v.invalid(field, "%s must be a reference object such as {\"id\": 1}.", field)
		return nil
	}
	if idRaw, has := obj["id"]; has && idRaw != nil {
		id, ok := toInt(idRaw)
		if !ok {
			v.invalid(field, "%s/id must be an integer.", field)
			return nil
		}
		rec := find(id, "")
		if rec == nil {
			v.invalid(field, "%s with id %d was not found.", field, id)
		}
		return rec
	}
	if altKey != "" {
		if altRaw, has := obj[altKey]; has && altRaw != nil {
			alt, ok := altRaw.(string)
			if !ok || alt == "" {
				v.invalid(field, "%s/%s must be a non-empty string.", field, altKey)
				return nil
			}
			rec := find(0, alt)
			if rec == nil {
				v.invalid(field, "%s %q was not found.", field, alt)
			}
			return rec
		}
		v.add("MissingRequiredField", field, "%s requires id or %s.", field, altKey)
		return nil
	}
	v.add("MissingRequiredField", field, "%s requires id.", field)
	return nil
}

// finder builds a ref lookup over recs by id or a case-insensitive key.
func finder(c *collection, recs []*record, key string) func(int, string) *record {
	return func(id int, alt string) *record {
		if id != 0 {
			for _, r := range recs {
				if r.id == id {
					return r
				}
			}
			return nil
		}
		return c.findFold(recs, key, alt)
	}
}

// ---- PATCH ----

type patchOp struct {
	op, path string
	value    any
	hasValue bool
}

// readPatch decodes a JSON-Patch-like array: [{"op","path","value"}].
func readPatch(r *http.Request, resource string) ([]patchOp, *apiError) {
	v, e := readJSON(r)
	if e != nil {
		return nil, e
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errBadRequest("InvalidObject", "A PATCH body must be a JSON array of operations: [{\"op\":\"replace\",\"path\":\"summary\",\"value\":\"...\"}].")
	}
	val := &validation{resource: resource}
	var ops []patchOp
	for _, item := range arr {
		m, ok := item.(map[string]any)
		if !ok {
			val.invalid("op", "each patch operation must be an object with op, path and value.")
			continue
		}
		op, _ := m["op"].(string)
		path, _ := m["path"].(string)
		p := patchOp{op: strings.ToLower(op), path: strings.TrimPrefix(path, "/")}
		p.value, p.hasValue = m["value"]
		switch p.op {
		case "add", "replace", "remove":
		default:
			val.invalid("op", "op %q is not supported; use add, replace or remove.", op)
			continue
		}
		if p.path == "" {
			val.missing("path")
			continue
		}
		if p.op != "remove" && !p.hasValue {
			val.add("MissingRequiredField", p.path, "value is required for op %s.", p.op)
			continue
		}
		ops = append(ops, p)
	}
	if len(arr) == 0 {
		val.invalid("op", "the patch has no operations.")
	}
	if val.failed() {
		return nil, val.err()
	}
	return ops, nil
}

// applyPatch applies ops to the editable view of a record. Only fields in
// allowed may be patched. A nested path under a reference field (e.g.
// "company/identifier") is accepted and ignored: ConnectWise documents this
// as a "false 200", and a client must replace the whole reference instead.
func applyPatch(view map[string]any, ops []patchOp, allowed fieldSet, refs fieldSet, v *validation) map[string]bool {
	touched := map[string]bool{}
	for _, p := range ops {
		root, rest, nested := strings.Cut(p.path, "/")
		if !allowed[root] {
			v.invalid(root, "%s cannot be patched.", p.path)
			continue
		}
		if nested && rest != "" {
			if !refs[root] {
				v.invalid(root, "%s is not an object.", root)
			}
			continue // false 200
		}
		touched[root] = true
		if p.op == "remove" {
			delete(view, root)
			continue
		}
		view[root] = p.value
	}
	return touched
}
