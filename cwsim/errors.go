package cwsim

import (
	"fmt"
	"net/http"
)

// apiError is a ConnectWise error answer:
// {"code": "...", "message": "...", "errors": [...] | null}.
type apiError struct {
	status  int
	code    string
	message string
	errors  []fieldError
}

type fieldError struct {
	code, message, resource, field string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func (e *apiError) body() []byte {
	b := []byte(`{"code":`)
	b = appendJSONString(b, e.code)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.message)
	b = append(b, `,"errors":`...)
	if len(e.errors) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, fe := range e.errors {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = appendJSONString(b, fe.code)
			b = append(b, `,"message":`...)
			b = appendJSONString(b, fe.message)
			b = append(b, `,"resource":`...)
			b = appendJSONString(b, fe.resource)
			b = append(b, `,"field":`...)
			b = appendJSONString(b, fe.field)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func errNotFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NotFound", message: msg}
}

func errRecordNotFound(c *collection, id int) *apiError {
	return errNotFound(fmt.Sprintf("%s %d not found", c.label, id))
}

// errBadRequest is a request-level 400 (bad paging parameter, bad JSON, ...).
func errBadRequest(code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: msg}
}

// errConditions mirrors ConnectWise's ApiFindCondition answer, e.g.
// "typeids is not a recognized name."
func errConditions(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ApiFindCondition", message: msg}
}

// validation collects field errors for one resource ("ticket", "serviceNote").
type validation struct {
	resource string
	errs     []fieldError
}

func (v *validation) add(code, field, format string, a ...any) {
	v.errs = append(v.errs, fieldError{code: code, message: fmt.Sprintf(format, a...), resource: v.resource, field: field})
}

func (v *validation) missing(field string) {
	v.add("MissingRequiredField", field, "%s is required.", field)
}

func (v *validation) invalid(field, format string, a ...any) {
	v.add("InvalidField", field, format, a...)
}

func (v *validation) failed() bool { return len(v.errs) > 0 }

func (v *validation) err() *apiError {
	if len(v.errs) == 0 {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, code: "InvalidObject",
		message: v.resource + " object is invalid", errors: v.errs}
}
