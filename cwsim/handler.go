package cwsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reqCtx carries what the pipeline learned about one API request.
type reqCtx struct {
	version string // negotiated Accept version, echoed in Content-Type
	ids     []int  // {id} segments of the route, in order
	route   *route
	reqID   string
}

// ServeHTTP runs the pipeline: faults (latency, 500, 429) are decided
// before any work, then codebase, auth, clientId, Accept, routing,
// Content-Type, security, and finally the handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	f := s.faults.Load()
	if f.HangUp {
		s.dropped.Add(1)
		dropConn(w)
		return
	}
	path := r.URL.Path
	if hasPrefixFold(path, "/login/companyinfo/") {
		if f.HTMLAnswer {
			serveHTML(w)
			return
		}
		s.companyInfo(w, r, path[len("/login/companyinfo/"):])
		return
	}
	s.requests.Add(1)
	reqID := s.nextRequestID()
	w.Header().Set("x-cw-request-id", reqID)
	rel, cbOK := s.splitAPIPath(path)
	rt, ids, h := matchRoute(rel, r.Method)
	s.noteRequest(routeKey(r.Method, rel, rt), arrival)

	if f.Latency > 0 {
		sleepCtx(r.Context(), f.Latency)
	}
	if f.HTMLAnswer {
		serveHTML(w)
		return
	}
	if f.SSLRequired {
		writeRaw(w, http.StatusBadRequest, "application/json; charset=utf-8",
			[]byte(`{"code":"Security","message":"SSL is required.","errors":null}`))
		return
	}
	if roll(f.Error500) {
		s.serve500(w)
		return
	}
	if roll(f.RateLimit) {
		s.serve429(w, f, arrival)
		return
	}

	rc := &reqCtx{ids: ids, route: rt, reqID: reqID}
	if !cbOK {
		s.writeError(w, rc, errNotFound("The requested resource was not found. Check the codebase in the URL (see /login/companyinfo)."))
		return
	}
	if e := s.checkAuth(r); e != nil {
		s.writeError(w, rc, e)
		return
	}
	if e := s.checkClientID(r); e != nil {
		s.writeError(w, rc, e)
		return
	}
	v, e := s.checkAccept(r)
	if e != nil {
		s.writeError(w, rc, e)
		return
	}
	rc.version = v
	if rt == nil {
		s.writeError(w, rc, errNotFound("No HTTP resource was found that matches the request URI '"+path+"'."))
		return
	}
	if h == nil {
		w.Header().Set("Allow", strings.Join(rt.allowed(), ", "))
		s.writeError(w, rc, &apiError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed",
			message: "The requested resource does not support http method '" + r.Method + "'."})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodDelete && r.Method != http.MethodHead {
		if e := checkContentType(r); e != nil {
			s.writeError(w, rc, e)
			return
		}
	}
	if e := s.authorize(rt.function, h.action); e != nil {
		s.writeError(w, rc, e)
		return
	}
	if e := h.fn(s, w, r, rc); e != nil {
		s.writeError(w, rc, e)
	}
}

// splitAPIPath strips "/{codebase}apis/3.0/"; ok is false when the
// codebase is not the current one (or the path is not under apis/3.0).
func (s *Server) splitAPIPath(p string) (rel string, ok bool) {
	p = strings.TrimPrefix(p, "/")
	i := indexFold(p, "apis/3.0/")
	if i < 0 {
		if hasSuffixFold(p, "apis/3.0") {
			return "", false
		}
		return p, false
	}
	cb := p[:i]
	rel = strings.Trim(p[i+len("apis/3.0/"):], "/")
	return rel, strings.EqualFold(cb, s.currentCodebase())
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func hasSuffixFold(s, suf string) bool {
	return len(s) >= len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf)
}

// routeKey names a request for Stats.ByRoute, ids replaced by {id}.
func routeKey(method, rel string, rt *route) string {
	if rt != nil {
		return method + " " + rt.key
	}
	segs := strings.Split(rel, "/")
	for i, sg := range segs {
		if _, err := strconv.Atoi(sg); err == nil {
			segs[i] = "{id}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

func (s *Server) nextRequestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(s.opts.Seed), uint16(n>>48), uint16(n>>36)&0xfff, uint16(n>>24)&0xfff, n&0xffffffffffff)
}

// ---- response writing ----

func writeRaw(w http.ResponseWriter, status int, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // client went away: nothing to do
}

func (s *Server) setHeaders(w http.ResponseWriter, rc *reqCtx) {
	h := w.Header()
	if rc.version != "" {
		h.Set("Content-Type", cwMediaType+"; version="+rc.version)
	} else {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("api-current-version", s.opts.Version)
	h.Set("x-cw-request-id", rc.reqID)
	h.Set("x-server-name", "cwsim")
}

func (s *Server) writeError(w http.ResponseWriter, rc *reqCtx, e *apiError) {
	s.setHeaders(w, rc)
	body := e.body()
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	w.Write(body) //nolint:errcheck
}

func (s *Server) writeJSON(w http.ResponseWriter, rc *reqCtx, status int, body []byte) {
	s.setHeaders(w, rc)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck
}

var partsPool = sync.Pool{New: func() any { s := make([][]byte, 0, 1024); return &s }}

// writeArray writes "[" + parts joined by "," + "]" without concatenating.
func (s *Server) writeArray(w http.ResponseWriter, rc *reqCtx, parts [][]byte) {
	s.setHeaders(w, rc)
	n := 2
	for _, p := range parts {
		n += len(p) + 1
	}
	if len(parts) > 0 {
		n--
	}
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	w.Write(openBracket) //nolint:errcheck
	for i, p := range parts {
		if i > 0 {
			w.Write(comma) //nolint:errcheck
		}
		w.Write(p) //nolint:errcheck
	}
	w.Write(closeBracket) //nolint:errcheck
}

var (
	openBracket  = []byte("[")
	closeBracket = []byte("]")
	comma        = []byte(",")
)

// companyInfo answers the unauthenticated codebase discovery call.
// For an unknown company id we answer 200 with null fields: ConnectWise's
// behaviour here is undocumented, and a null Codebase forces a client to
// check the body rather than trust any 200.
func (s *Server) companyInfo(w http.ResponseWriter, r *http.Request, company string) {
	company = strings.Trim(company, "/")
	if !strings.EqualFold(company, s.opts.CompanyID) {
		writeRaw(w, http.StatusOK, "application/json; charset=utf-8", []byte(
			`{"CompanyName":null,"Codebase":null,"VersionCode":null,"VersionNumber":null,"CompanyID":null,"IsCloud":null,"SiteUrl":null}`))
		return
	}
	b := []byte(`{"CompanyName":`)
	b = appendJSONString(b, "cwbridge Simulated MSP")
	b = append(b, `,"Codebase":`...)
	b = appendJSONString(b, s.currentCodebase())
	b = append(b, `,"VersionCode":`...)
	b = appendJSONString(b, "v"+s.opts.Version)
	b = append(b, `,"VersionNumber":`...)
	b = appendJSONString(b, "v4.6."+versionBuild(s.opts.Version))
	b = append(b, `,"CompanyID":`...)
	b = appendJSONString(b, s.opts.CompanyID)
	b = append(b, `,"IsCloud":"False","SiteUrl":`...)
	b = appendJSONString(b, r.Host)
	b = append(b, '}')
	writeRaw(w, http.StatusOK, "application/json; charset=utf-8", b)
}

func versionBuild(v string) string {
	y, m, _ := parseVersion(v)
	return strconv.Itoa(y%100*1000 + m*10 + 40000)
}
