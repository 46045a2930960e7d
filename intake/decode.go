package intake

import (
	"bytes"
	"encoding/json"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/storage"
)

// Media types POST /v1/incidents takes.
const (
	ContentTypeJSON   = "application/json"     // one object or an array of objects
	ContentTypeNDJSON = "application/x-ndjson" // one object per line
)

// mediaType returns the bare media type if the intake takes it. A charset
// parameter is allowed when it says UTF-8 (the only encoding JSON has).
func mediaType(contentType string) (string, bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != ContentTypeJSON && mt != ContentTypeNDJSON) {
		return "", false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "", false
	}
	return mt, true
}

// Decode parses and validates a POST /v1/incidents body. On success every
// incident has its defaults applied (severity, status, key) and passes the
// contract's rules, except that whether its type is known (built in or
// routed) is the server's check: Decode only requires a well-formed type.
// The first bad item stops decoding; nothing partial is returned with it.
//
// The parser is hand-written rather than encoding/json so that it is strict
// where encoding/json is lenient: field names match exactly (no case
// folding), a repeated field is an error, invalid UTF-8 is refused instead of
// replaced, and every error names the item and the field.
func Decode(contentType string, body []byte) ([]storage.Incident, *ItemError) {
	mt, ok := mediaType(contentType)
	if !ok {
		return nil, &ItemError{Index: -1, Field: "", Msg: "Content-Type must be " + ContentTypeJSON + " or " + ContentTypeNDJSON}
	}
	var (
		incs []storage.Incident
		err  *ItemError
	)
	if mt == ContentTypeNDJSON {
		incs, err = decodeNDJSON(body)
	} else {
		incs, err = decodeJSON(body)
	}
	if err != nil {
		return nil, err
	}
	if len(incs) == 0 {
		return nil, &ItemError{Index: 0, Msg: "no incidents in the body"}
	}
	return incs, nil
}

func decodeNDJSON(body []byte) ([]storage.Incident, *ItemError) {
	// Capacity from the line count, capped: a body of blank lines must not
	// allocate a slot per newline.
	incs := make([]storage.Incident, 0, min(bytes.Count(body, []byte{'\n'})+1, 1024))
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		p := parser{b: line, idx: len(incs)}
		p.ws()
		if p.i == len(p.b) {
			continue // blank line
		}
		inc, err := p.item()
		if err != nil {
			return nil, err
		}
		if p.ws(); p.i != len(p.b) {
			return nil, p.syntax("", "unexpected text after the object (one object per line)")
		}
		incs = append(incs, inc)
	}
	return incs, nil
}

func decodeJSON(body []byte) ([]storage.Incident, *ItemError) {
	p := parser{b: body}
	p.ws()
	switch p.peek() {
	case '{':
		inc, err := p.item()
		if err != nil {
			return nil, err
		}
		if p.ws(); p.i != len(p.b) {
			return nil, p.syntax("", "unexpected text after the object (send an array, or NDJSON as "+ContentTypeNDJSON+")")
		}
		return []storage.Incident{inc}, nil
	case '[':
	default:
		return nil, p.syntax("", "body must be a JSON object or an array of objects")
	}
	p.i++
	var incs []storage.Incident
	p.ws()
	if p.peek() == ']' {
		p.i++
	} else {
		for {
			p.idx = len(incs)
			p.ws()
			inc, err := p.item()
			if err != nil {
				return nil, err
			}
			incs = append(incs, inc)
			p.ws()
			c := p.peek()
			p.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return nil, p.syntax("", "expected ',' or ']' after the object")
			}
		}
	}
	if p.ws(); p.i != len(p.b) {
		p.idx = len(incs)
		return nil, p.syntax("", "unexpected text after the array")
	}
	return incs, nil
}

// field numbers an incident's JSON fields, for the seen-set.
type field uint8

const (
	fID field = iota
	fType
	fCompany
	fTitle
	fSeverity
	fKey
	fStatus
	fDescription
	fUser
	fDevice
	fDomain
	fSourceIP
	fReasons
	fOccurredAt
	numFields
)

var fieldNames = [numFields]string{"id", "type", "company", "title", "severity", "key", "status",
	"description", "user", "device", "domain", "source_ip", "reasons", "occurred_at"}

func lookupField(name string) (field, bool) {
	for i, n := range fieldNames {
		if n == name {
			return field(i), true
		}
	}
	return 0, false
}

// parser reads one flat incident object at a time from b.
type parser struct {
	b   []byte
	i   int
	idx int // item index, for errors
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) syntax(field, msg string) *ItemError {
	return &ItemError{Index: p.idx, Field: field, Msg: "malformed JSON: " + msg}
}

func (p *parser) fieldErr(f field, msg string) *ItemError {
	return &ItemError{Index: p.idx, Field: fieldNames[f], Msg: msg}
}

// item parses one object and validates it.
func (p *parser) item() (storage.Incident, *ItemError) {
	var inc storage.Incident
	if p.peek() != '{' {
		return inc, &ItemError{Index: p.idx, Msg: "an incident must be a JSON object"}
	}
	p.i++
	var seen [numFields]bool
	p.ws()
	if p.peek() == '}' {
		p.i++
		return inc, validate(&inc, p.idx)
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return inc, p.syntax("", "expected a field name in double quotes")
		}
		name, msg := p.str()
		if msg != "" {
			return inc, p.syntax("", "field name: "+msg)
		}
		f, ok := lookupField(name)
		if !ok {
			return inc, &ItemError{Index: p.idx, Field: shorten(name), Msg: unknownFieldMsg(name)}
		}
		if seen[f] {
			return inc, p.fieldErr(f, "given twice")
		}
		seen[f] = true
		p.ws()
		if p.peek() != ':' {
			return inc, p.syntax(fieldNames[f], "expected ':' after the field name")
		}
		p.i++
		p.ws()
		if err := p.value(&inc, f); err != nil {
			return inc, err
		}
		p.ws()
		c := p.peek()
		p.i++
		if c == '}' {
			break
		}
		if c != ',' {
			return inc, p.syntax(fieldNames[f], "expected ',' or '}' after the value")
		}
	}
	return inc, validate(&inc, p.idx)
}

// value parses the value of field f into inc. null counts as absent.
func (p *parser) value(inc *storage.Incident, f field) *ItemError {
	if p.literal("null") {
		return nil
	}
	if f == fReasons {
		return p.reasons(inc)
	}
	if p.peek() != '"' {
		return p.typeErr(f, "a string")
	}
	s, msg := p.str()
	if msg != "" {
		return p.fieldErr(f, msg)
	}
	switch f {
	case fID:
		inc.ID = s
	case fType:
		inc.Type = s
	case fCompany:
		inc.Company = s
	case fTitle:
		inc.Title = s
	case fSeverity:
		inc.Severity = s
	case fKey:
		inc.Key = s
	case fStatus:
		inc.Status = s
	case fDescription:
		inc.Description = s
	case fUser:
		inc.User = s
	case fDevice:
		inc.Device = s
	case fDomain:
		inc.Domain = s
	case fSourceIP:
		inc.SourceIP = s
	case fOccurredAt:
		t, msg := parseTime(s)
		if msg != "" {
			return p.fieldErr(f, msg)
		}
		inc.OccurredAt = t
	}
	return nil
}

func (p *parser) reasons(inc *storage.Incident) *ItemError {
	if p.peek() != '[' {
		return p.typeErr(fReasons, "an array of strings")
	}
	p.i++
	p.ws()
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for n := 0; ; n++ {
		p.ws()
		if n >= MaxReasons {
			return p.fieldErr(fReasons, "at most "+strconv.Itoa(MaxReasons)+" reasons")
		}
		if p.peek() != '"' {
			if p.kind() == "" {
				return p.syntax("reasons", "expected a string in the array")
			}
			return p.fieldErr(fReasons, "reason "+strconv.Itoa(n)+" must be a string, not "+p.kind())
		}
		s, msg := p.str()
		if msg != "" {
			return p.fieldErr(fReasons, "reason "+strconv.Itoa(n)+": "+msg)
		}
		inc.Reasons = append(inc.Reasons, s)
		p.ws()
		c := p.peek()
		p.i++
		if c == ']' {
			return nil
		}
		if c != ',' {
			return p.syntax("reasons", "expected ',' or ']' in the array")
		}
	}
}

// kind names the JSON type of the value at p.i, for "must be a string, not
// a number" messages.
func (p *parser) kind() string {
	switch c := p.peek(); {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	case c == '"':
		return "a string"
	default:
		return "" // not the start of any JSON value
	}
}

// typeErr reports a value of the wrong JSON type, or malformed JSON where a
// value should start.
func (p *parser) typeErr(f field, want string) *ItemError {
	k := p.kind()
	if k == "" {
		return p.syntax(fieldNames[f], "expected a value")
	}
	return p.fieldErr(f, "must be "+want+", not "+k)
}

func (p *parser) literal(lit string) bool {
	if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return true
	}
	return false
}

// str reads the JSON string at p.i (which is '"'). Strings without escapes
// are converted directly; the rare escaped one goes through encoding/json,
// which knows every escape and surrogate rule.
func (p *parser) str() (string, string) {
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start : p.i+1]
			p.i++
			inner := raw[1 : len(raw)-1]
			if !utf8.Valid(inner) {
				return "", "not valid UTF-8"
			}
			if !escaped {
				return string(inner), ""
			}
			if loneSurrogate(inner) {
				// encoding/json would quietly make it U+FFFD; it is no
				// more text than invalid UTF-8 is.
				return "", "not valid UTF-8 (a lone surrogate escape)"
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", "invalid escape in string"
			}
			return s, ""
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", "control character in string (escape it)"
		default:
			p.i++
		}
	}
	return "", "unterminated string"
}

// loneSurrogate reports a \uD800–\uDFFF escape that is not a high
// surrogate followed at once by a low one.
func loneSurrogate(b []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		if !ok {
			i++ // another escape: skip its letter (it may be a backslash)
			continue
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true // a low surrogate with no high one before it
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := hex(i + 6)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// unknownFieldMsg refuses a field, suggesting the one probably meant, so a
// typo never silently drops data.
func unknownFieldMsg(name string) string {
	if best := config.Suggest(name, fieldNames[:]); best != "" {
		return "unknown field (did you mean " + strconv.Quote(best) + "?)"
	}
	return "unknown field (fields: " + strings.Join(fieldNames[:], ", ") + ")"
}

func shorten(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		return string([]rune(s)[:max]) + "…"
	}
	return s
}
