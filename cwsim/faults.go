package cwsim

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// raGrace lets requests that were already in flight when a 429 went out
// arrive without counting as Retry-After violations.
const raGrace = 100 * time.Millisecond

func roll(p float64) bool { return p > 0 && (p >= 1 || rand.Float64() < p) }

// noteRequest counts a request under its route key, and as a violation
// when it arrives inside an announced Retry-After window (after the grace
// period). One lock for both: it runs on every API request.
func (s *Server) noteRequest(route string, t time.Time) {
	s.statsMu.Lock()
	s.byRoute[route]++
	if t.Before(s.raEnd) && !t.Before(s.raStart.Add(raGrace)) {
		s.inside.Add(1)
	}
	s.statsMu.Unlock()
}

// openRetryWindow records a Retry-After announcement. A window that is
// still open is extended; its start (which the grace counts from) is kept.
func (s *Server) openRetryWindow(t time.Time, d time.Duration) {
	s.statsMu.Lock()
	if !t.Before(s.raEnd) {
		s.raStart = t
	}
	if end := t.Add(d); end.After(s.raEnd) {
		s.raEnd = end
	}
	s.statsMu.Unlock()
}

func (s *Server) serve500(w http.ResponseWriter) {
	s.s500.Add(1)
	writeRaw(w, http.StatusInternalServerError, "application/json; charset=utf-8", (&apiError{
		code: "UnexpectedError", message: "An unexpected error has occurred. Please contact your administrator."}).body())
}

func (s *Server) serve429(w http.ResponseWriter, f *Faults, t time.Time) {
	s.s429.Add(1)
	secs := int(f.RetryAfter / time.Second)
	s.openRetryWindow(t, f.RetryAfter)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	body := `{"error":"ConnectWiseAPI","message":"Too many requests. Please try again in ` + strconv.Itoa(secs) + ` seconds."}`
	writeRaw(w, http.StatusTooManyRequests, "application/json; charset=utf-8", []byte(body))
}

const loginPage = `<!DOCTYPE html>
<html><head><title>ConnectWise Manage - Login</title></head>
<body><form method="post" action="/login/login.aspx">
<h1>ConnectWise PSA</h1>
<label>Company <input name="CompanyName"></label>
<label>Username <input name="UserName"></label>
<label>Password <input type="password" name="Password"></label>
<button type="submit">Log In</button>
</form></body></html>
`

func serveHTML(w http.ResponseWriter) {
	writeRaw(w, http.StatusOK, "text/html; charset=utf-8", []byte(loginPage))
}

// loseResponse drops the connection without an answer, after the write
// was committed: the client sees a transport error.
func (s *Server) loseResponse(w http.ResponseWriter) {
	s.lost.Add(1)
	dropConn(w)
}

// dropConn closes the client's connection without a word.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// brokenAnswer answers a committed write 2xx with a body a client cannot
// use (the record's id zero, or the record cut short), when a fault says
// so. It reports whether it answered.
func (s *Server) brokenAnswer(w http.ResponseWriter, status int, body []byte) bool {
	f := s.faults.Load()
	switch {
	case roll(f.ZeroIDAnswer):
		body = []byte(`{"id":0}`)
	case roll(f.TruncatedAnswer):
		body = body[:len(body)/2]
	default:
		return false
	}
	s.broken.Add(1)
	writeRaw(w, status, "application/json; charset=utf-8", body)
	return true
}
