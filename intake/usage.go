package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/cwbridge/cwbridge/storage"
)

// MaxUsageQuantity bounds POST /v1/usage quantities (the contract's
// 0–1,000,000): more is a mistake upstream, not a bill to send.
const MaxUsageQuantity = 1_000_000

// maxUsageBody is far more than the three fields need.
const maxUsageBody = 64 << 10

// usageRequest is POST /v1/usage.
type usageRequest struct {
	Company  string `json:"company"`
	Product  string `json:"product"`
	Quantity int    `json:"quantity"`
}

// fieldError is a 400 naming one field of a non-batch request.
type fieldError struct{ field, msg string }

func (s *Server) postUsage(w http.ResponseWriter, r *http.Request) {
	if mt, ok := mediaType(r.Header.Get("Content-Type")); !ok || mt != ContentTypeJSON {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be "+ContentTypeJSON)
		return
	}
	var buf bytes.Buffer
	if !s.readBody(w, r, min(s.o.MaxBodyBytes, maxUsageBody), &buf) {
		return
	}
	req, ferr := decodeUsage(buf.Bytes())
	if ferr == nil {
		ferr = s.checkUsage(req)
	}
	if ferr != nil {
		field := ferr.field
		msg := ferr.msg
		if field != "" {
			msg = "field " + strconv.Quote(field) + ": " + msg
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: msg, Field: &field})
		return
	}
	if _, err := s.o.Store.SetWantedUsage(req.Company, req.Product, req.Quantity); err != nil {
		if errors.Is(err, storage.ErrClosed) {
			w.Header().Set("Retry-After", retryAfter)
			writeError(w, http.StatusServiceUnavailable, "intake is shutting down; retry later")
			return
		}
		s.log.Error("intake: cannot store usage", "error", err)
		writeError(w, http.StatusInternalServerError, "cannot store the usage; retry later")
		return
	}
	writeJSON(w, http.StatusAccepted, req)
}

// checkUsage resolves the names against the store.
func (s *Server) checkUsage(req usageRequest) *fieldError {
	if _, err := s.o.Store.Workspace(req.Company); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return &fieldError{"company", "no workspace with key " + quoteShort(req.Company)}
		}
		return &fieldError{"company", "cannot read workspaces"}
	}
	m, err := s.o.Store.ProductMapping(req.Product)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return &fieldError{"product", "no product with key " + quoteShort(req.Product) + " (a [[products]] key)"}
		}
		return &fieldError{"product", "cannot read products"}
	}
	if m.SeatBased {
		return &fieldError{"product", "product " + quoteShort(req.Product) + " is seat-based: its quantity is each workspace's max_users"}
	}
	return nil
}

// decodeUsage parses the body strictly: exact field names, each once, the
// right JSON types, nothing after the object. encoding/json alone would fold
// case, let the last of two equal keys win and turn "42" into 42.
func decodeUsage(b []byte) (usageRequest, *fieldError) {
	var req usageRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return req, &fieldError{"", "body must be a JSON object {\"company\", \"product\", \"quantity\"}"}
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return req, &fieldError{"", "malformed JSON"}
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return req, &fieldError{shorten(name), "malformed JSON"}
		}
		if seen[name] {
			return req, &fieldError{shorten(name), "given twice"}
		}
		seen[name] = true
		switch name {
		case "company", "product":
			var v string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
				return req, &fieldError{name, "must be a string"}
			}
			if name == "company" {
				req.Company = v
			} else {
				req.Product = v
			}
		case "quantity":
			q, err := strconv.ParseInt(string(raw), 10, 64)
			switch {
			case err != nil && (len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9'))):
				return req, &fieldError{name, "must be a number"}
			case err != nil && !errors.Is(err, strconv.ErrRange):
				return req, &fieldError{name, "must be a whole number"}
			case q < 0 || (err != nil && raw[0] == '-'):
				return req, &fieldError{name, "must be 0 or more"}
			case q > MaxUsageQuantity || err != nil:
				return req, &fieldError{name, "must be at most " + strconv.Itoa(MaxUsageQuantity)}
			}
			req.Quantity = int(q)
		default:
			return req, &fieldError{shorten(name), "unknown field (fields: company, product, quantity)"}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return req, &fieldError{"", "malformed JSON"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, &fieldError{"", "unexpected text after the object"}
	}
	for _, f := range []string{"company", "product", "quantity"} {
		if !seen[f] {
			return req, &fieldError{f, "required"}
		}
	}
	if req.Company == "" {
		return req, &fieldError{"company", "required"}
	}
	if req.Product == "" {
		return req, &fieldError{"product", "required"}
	}
	return req, nil
}
