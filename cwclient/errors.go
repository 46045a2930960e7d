package cwclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies a failure by what the caller should do about it.
type Kind int

const (
	KindUnknown        Kind = iota
	KindConfig              // the client was given a bad site, key or option
	KindUnauthorized        // 401: keys, company ID or clientId wrong
	KindForbidden           // 403: the API member's security role lacks a permission
	KindNotFound            // 404
	KindValidation          // 400 with ConnectWise's field list
	KindBadRequest          // another 4xx that is not worth repeating
	KindConflict            // 409
	KindRateLimited         // 429
	KindServer              // 5xx
	KindNetwork             // no answer: DNS, refused, reset, timeout before sending
	KindWrongHost           // an HTML page, or "SSL is required": not the ConnectWise API
	KindBadResponse         // a 2xx whose body is not the JSON we asked for
	KindOutcomeUnknown      // a write was sent but its answer never came
)

var kindNames = [...]string{
	KindUnknown:        "error",
	KindConfig:         "bad configuration",
	KindUnauthorized:   "unauthorized",
	KindForbidden:      "forbidden",
	KindNotFound:       "not found",
	KindValidation:     "validation failed",
	KindBadRequest:     "bad request",
	KindConflict:       "conflict",
	KindRateLimited:    "rate limited",
	KindServer:         "server error",
	KindNetwork:        "network error",
	KindWrongHost:      "wrong host",
	KindBadResponse:    "bad response",
	KindOutcomeUnknown: "outcome unknown",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "error"
	}
	return kindNames[k]
}

// Sentinels for errors.Is: errors.Is(err, cwclient.ErrForbidden).
var (
	ErrConfig         = &Error{Kind: KindConfig}
	ErrUnauthorized   = &Error{Kind: KindUnauthorized}
	ErrForbidden      = &Error{Kind: KindForbidden}
	ErrNotFound       = &Error{Kind: KindNotFound}
	ErrValidation     = &Error{Kind: KindValidation}
	ErrBadRequest     = &Error{Kind: KindBadRequest}
	ErrConflict       = &Error{Kind: KindConflict}
	ErrRateLimited    = &Error{Kind: KindRateLimited}
	ErrServer         = &Error{Kind: KindServer}
	ErrNetwork        = &Error{Kind: KindNetwork}
	ErrWrongHost      = &Error{Kind: KindWrongHost}
	ErrBadResponse    = &Error{Kind: KindBadResponse}
	ErrOutcomeUnknown = &Error{Kind: KindOutcomeUnknown}
)

// FieldError is one entry of ConnectWise's "errors" array.
type FieldError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Resource string `json:"resource"`
	Field    string `json:"field"`
}

// Error is every failure the client returns. It never holds a secret: the
// request line has no credentials (they travel in headers only) and bodies
// we quote are ConnectWise's answers, not our requests.
type Error struct {
	Kind       Kind
	Method     string // "GET"
	Path       string // "service/tickets" (no query string)
	Status     int    // HTTP status, 0 when none arrived
	Code       string // ConnectWise "code" (or "error" in a 429 body)
	Message    string // ConnectWise "message", or our explanation
	Fields     []FieldError
	RetryAfter time.Duration // for KindRateLimited: how long calls are held back
	// RetryAfterAsked is what ConnectWise asked for when it was over the
	// client's cap (RetryAfter is then the cap); zero otherwise.
	RetryAfterAsked time.Duration
	Hint            string // what to do about it, in plain words
	Err             error  // underlying cause (network, JSON, context)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("connectwise: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Status != 0 || e.Code != "" {
		b.WriteString(" (")
		if e.Status != 0 {
			fmt.Fprintf(&b, "%d", e.Status)
			if e.Code != "" {
				b.WriteByte(' ')
			}
		}
		b.WriteString(e.Code)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		b.WriteByte(' ')
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Message)
	}
	if e.Kind == KindRateLimited && e.RetryAfterAsked > 0 {
		fmt.Fprintf(&b, " (retry after %s; ConnectWise asked for %s, over the cap)", e.RetryAfter, e.RetryAfterAsked)
	} else if e.Kind == KindRateLimited && e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil && e.Message == "" {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches by kind, so the sentinels above work with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Method == "" && t.Status == 0 && t.Err == nil
}

// KindOf returns the Kind of a client error, KindUnknown for anything else.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// errorBody covers both shapes ConnectWise answers with:
// {"code","message","errors":[...]} and the 429 {"error","message"}.
type errorBody struct {
	Code    string       `json:"code"`
	Error   string       `json:"error"`
	Message string       `json:"message"`
	Errors  []FieldError `json:"errors"`
}

// maxQuoted bounds how much of an unexpected body we put into an error.
const maxQuoted = 200

// parseErrorBody fills e from a non-2xx answer. Unparseable bodies are
// quoted, shortened, so the user sees what the server really said.
func (e *Error) parseErrorBody(contentType string, body []byte) {
	trimmed := bytes.TrimSpace(body)
	if looksHTML(contentType, trimmed) {
		e.webPage()
		return
	}
	var eb errorBody
	if len(trimmed) > 0 && json.Unmarshal(trimmed, &eb) == nil {
		e.Code = eb.Code
		if e.Code == "" {
			e.Code = eb.Error
		}
		e.Message = eb.Message
		e.Fields = eb.Errors
	} else if len(trimmed) > 0 {
		e.Message = quote(trimmed)
	}
	if strings.EqualFold(e.Code, "Security") && strings.Contains(strings.ToLower(e.Message), "ssl is required") {
		e.Kind = KindWrongHost
		e.Hint = "cloud API hosts need the api- prefix (api-na.myconnectwise.net) and https"
	}
}

// webPage marks e as the answer of a web page: the site is not the API.
func (e *Error) webPage() {
	e.Kind = KindWrongHost
	e.Message = "the site answered with a web page, not the ConnectWise API"
	e.Hint = "check the site: use your ConnectWise login host (e.g. na.myconnectwise.net) or your on-premise server"
}

func looksHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	return len(body) > 0 && body[0] == '<'
}

func quote(b []byte) string {
	s := string(b)
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// kindForStatus maps an HTTP status to a Kind before the body is read.
func kindForStatus(status int, fields int) Kind {
	switch {
	case status == 400 && fields > 0:
		return KindValidation
	case status == 401:
		return KindUnauthorized
	case status == 403:
		return KindForbidden
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 429:
		return KindRateLimited
	case status >= 500:
		return KindServer
	case status >= 400:
		return KindBadRequest
	}
	return KindBadResponse
}

// hintFor adds plain advice for the kinds a technician can fix.
func hintFor(e *Error) string {
	switch e.Kind {
	case KindUnauthorized:
		if strings.Contains(strings.ToLower(e.Message), "clientid") || strings.Contains(strings.ToLower(e.Message), "client id") {
			return "the clientId is missing or not registered: use the GUID ConnectWise issued for this integration"
		}
		return "check the company ID and the API member's public and private keys"
	case KindForbidden:
		return "the API member's security role does not allow this; grant it in System > Security Roles"
	}
	return ""
}
