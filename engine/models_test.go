package engine

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// publishedModels is testdata/cwmodels.json: the published ConnectWise
// operations and models the engine's requests must stay within (trimmed
// by testdata/gen_cwmodels.go from the shared models file).
type publishedModels struct {
	Models map[string]struct {
		Fields []struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"fields"`
	} `json:"models"`
	Operations []struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Query   map[string]string `json:"query"`
		Body    string            `json:"body"`
		Returns string            `json:"returns"`
	} `json:"operations"`
}

var modelOf = regexp.MustCompile(`object\(([A-Za-z0-9_]+)\)`)

// fieldKind is the kind of a field of model ("" if it has none).
func (p *publishedModels) fieldKind(model, field string) (string, bool) {
	for _, f := range p.Models[model].Fields {
		if f.Name == field {
			return f.Kind, true
		}
	}
	return "", false
}

// checkPath walks a/b/c through model's fields.
func (p *publishedModels) checkPath(model, path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if model == "" {
			return false
		}
		kind, ok := p.fieldKind(model, seg)
		if !ok {
			return false
		}
		model = ""
		if m := modelOf.FindStringSubmatch(kind); m != nil {
			model = m[1]
		}
	}
	return true
}

type seenRequest struct {
	method, path string
	query        url.Values
	body         []byte
}

var (
	strLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\[[^\]]*\]`)
	condPath = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_/]*)\s*(?:=|!=|<=|>=|<|>|(?i:\s(?:not\s+)?(?:contains|like|in)\b))`)
)

// check reports what in req the published models do not have.
func (p *publishedModels) check(req seenRequest) []string {
	rel := req.path
	if i := strings.Index(rel, "apis/3.0/"); i >= 0 {
		rel = "/" + rel[i+len("apis/3.0/"):]
	} else {
		return nil // codebase discovery, outside the API
	}
	segs := strings.Split(rel, "/")
	for _, op := range p.Operations {
		if op.Method != req.method {
			continue
		}
		ps := strings.Split(op.Path, "/")
		if len(ps) != len(segs) {
			continue
		}
		match := true
		for i := range ps {
			if strings.HasPrefix(ps[i], "{") {
				if n, err := strconv.Atoi(segs[i]); err != nil || n <= 0 {
					match = false
				}
				continue
			}
			if ps[i] != segs[i] {
				match = false
			}
		}
		if !match {
			continue
		}
		var bad []string
		returns := ""
		if m := modelOf.FindStringSubmatch(op.Returns); m != nil {
			returns = m[1]
		}
		for name, vals := range req.query {
			if _, ok := op.Query[name]; !ok {
				bad = append(bad, "query parameter "+name)
				continue
			}
			for _, v := range vals {
				switch name {
				case "fields":
					for _, f := range strings.Split(v, ",") {
						if !p.checkPath(returns, f) {
							bad = append(bad, "fields "+f)
						}
					}
				case "conditions", "childConditions", "orderBy":
					for _, m := range condPath.FindAllStringSubmatch(strLit.ReplaceAllString(v, `""`), -1) {
						if !p.checkPath(returns, m[1]) {
							bad = append(bad, name+" "+m[1])
						}
					}
				}
			}
		}
		if len(req.body) > 0 {
			bad = append(bad, p.checkBody(op.Body, returns, req.body)...)
		}
		return bad
	}
	return []string{"no published operation"}
}

func (p *publishedModels) checkBody(kind, returns string, body []byte) []string {
	var bad []string
	if kind == "array(object(PatchOperation))" {
		var ops []struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(body, &ops); err != nil {
			return []string{"patch body: " + err.Error()}
		}
		for _, op := range ops {
			if !p.checkPath(returns, op.Path) {
				bad = append(bad, "patch path "+op.Path)
			}
		}
		return bad
	}
	m := modelOf.FindStringSubmatch(kind)
	var obj map[string]json.RawMessage
	if m == nil || json.Unmarshal(body, &obj) != nil {
		return []string{"body for " + kind}
	}
	for field, raw := range obj {
		fk, ok := p.fieldKind(m[1], field)
		if !ok {
			bad = append(bad, m[1]+"."+field)
			continue
		}
		// A reference object's own fields.
		if sub := modelOf.FindStringSubmatch(fk); sub != nil && strings.HasPrefix(fk, "object(") {
			var inner map[string]json.RawMessage
			if json.Unmarshal(raw, &inner) == nil {
				for f := range inner {
					if _, ok := p.fieldKind(sub[1], f); !ok {
						bad = append(bad, m[1]+"."+field+"/"+f)
					}
				}
			}
		}
	}
	return bad
}

// TestRequestsStayWithinPublishedModels: every request the engine sends
// while it creates, links, notes and closes is a published operation, with
// published query parameters, fields, condition paths and body fields.
// (cwsim refusing unknown body fields is the other half of this.)
func TestRequestsStayWithinPublishedModels(t *testing.T) {
	raw, err := os.ReadFile("testdata/cwmodels.json")
	if err != nil {
		t.Fatal(err)
	}
	var pm publishedModels
	if err := json.Unmarshal(raw, &pm); err != nil {
		t.Fatal(err)
	}
	// The check itself catches what it is for.
	for _, bad := range []seenRequest{
		{method: "POST", path: "/v1/apis/3.0/service/tickets", body: []byte(`{"summary":"s","configurations":[{"id":1}]}`)},
		{method: "POST", path: "/v1/apis/3.0/service/tickets", body: []byte(`{"summary":"s","contact":{"id":1,"email":"x"}}`)},
		{method: "GET", path: "/v1/apis/3.0/company/contacts", query: url.Values{"email": {"x"}}},
		{method: "GET", path: "/v1/apis/3.0/company/contacts", query: url.Values{"fields": {"id,emailAddress"}}},
		{method: "GET", path: "/v1/apis/3.0/company/contacts", query: url.Values{"childConditions": {`communicationItems/address = "x"`}}},
		{method: "PATCH", path: "/v1/apis/3.0/service/tickets/5", body: []byte(`[{"op":"replace","path":"configuration","value":1}]`)},
		{method: "POST", path: "/v1/apis/3.0/company/contacts/5/tickets"},
	} {
		if len(pm.check(bad)) == 0 {
			t.Fatalf("the check let through %s %s %v %s", bad.method, bad.path, bad.query, bad.body)
		}
	}

	var mu sync.Mutex
	var seen []seenRequest
	rec := func(req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		mu.Lock()
		seen = append(seen, seenRequest{method: req.Method, path: req.URL.Path, query: req.URL.Query(), body: b})
		mu.Unlock()
	}
	// A small directory cap sends the searches (childConditions) too.
	r := newRig(t, cwsim.Options{}, acmeTOML, func(o *Options) { o.FoldWindow, o.LinkDirectoryMax = time.Millisecond, 3 })
	r.seen.Store(&rec)

	r.submit(linkInc("p1", annEmail, "PC-7"))
	r.links("p1")
	r.submit(linkInc("p2", "Ann Smith", "KIOSK-1"))
	r.links("p2")
	again := linkInc("p3", annEmail, "PC-7")
	again.Key = "k-p1"
	r.submit(again)
	r.waitSettled(10*time.Second, "p3")
	done := linkInc("p4", annEmail, "PC-7")
	done.Key, done.Status = "k-p1", "resolved"
	r.submit(done)
	if got := r.waitSettled(10*time.Second, "p4")["p4"]; got.State != storage.StateClosed {
		t.Fatalf("p4: %+v", got)
	}
	r.halt()

	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]bool{}
	for _, req := range seen {
		kinds[req.method+" "+routeOf(req.path)] = true
		if req.query.Get("childConditions") != "" {
			kinds["childConditions"] = true
		}
		if bad := pm.check(req); len(bad) > 0 {
			t.Errorf("%s %s?%s: outside the published models: %v", req.method, req.path, req.query.Encode(), bad)
		}
	}
	for _, want := range []string{"GET company/contacts", "GET company/configurations", "POST service/tickets",
		"POST service/tickets/{id}/configurations", "POST service/tickets/{id}/notes", "PATCH service/tickets/{id}",
		"childConditions"} {
		if !kinds[want] {
			t.Errorf("the scenario sent no %s: %v", want, kinds)
		}
	}
}

var digits = regexp.MustCompile(`/[0-9]+(/|$)`)

// routeOf is a request path relative to apis/3.0 with ids as {id}.
func routeOf(p string) string {
	if i := strings.Index(p, "apis/3.0/"); i >= 0 {
		p = p[i+len("apis/3.0/"):]
	}
	for digits.MatchString("/" + p) {
		p = strings.TrimPrefix(digits.ReplaceAllString("/"+p, "/{id}$1"), "/")
	}
	return p
}
