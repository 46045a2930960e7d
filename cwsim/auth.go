package cwsim

import (
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

const cwMediaType = "application/vnd.connectwise.com+json"

// checkAuth enforces Basic base64("companyId+publicKey:privateKey"). The
// company id is matched case-insensitively (ConnectWise logins are); the keys
// exactly.
func (s *Server) checkAuth(r *http.Request) *apiError {
	unauth := &apiError{status: http.StatusUnauthorized, code: "Unauthorized", message: "UserNotAuthenticated"}
	h := r.Header.Get("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return unauth
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
	if err != nil {
		return unauth
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return unauth
	}
	company, pub, ok := strings.Cut(user, "+")
	if !ok || !strings.EqualFold(company, s.opts.CompanyID) {
		return unauth
	}
	if subtle.ConstantTimeCompare([]byte(pub), []byte(s.opts.PublicKey)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.PrivateKey)) != 1 {
		return unauth
	}
	return nil
}

// checkClientID requires the integration's clientId header (any case).
func (s *Server) checkClientID(r *http.Request) *apiError {
	v := r.Header.Get("clientId") // canonicalised lookup: header names are case-insensitive
	if v == "" {
		return &apiError{status: http.StatusUnauthorized, code: "Unauthorized",
			message: "clientId header is missing. A clientId is required for all API calls; see developer.connectwise.com/ClientID."}
	}
	if !strings.EqualFold(strings.TrimSpace(v), s.opts.ClientID) {
		return &apiError{status: http.StatusUnauthorized, code: "Unauthorized", message: "clientId is invalid."}
	}
	return nil
}

// checkAccept requires the ConnectWise media type with a version between
// 2019.1 and the server version as the first media type, and returns it.
func (s *Server) checkAccept(r *http.Request) (string, *apiError) {
	bad := func(detail string) *apiError {
		return &apiError{status: http.StatusBadRequest, code: "InvalidVersion",
			message: "The requested API version is not supported (" + detail + "). Send Accept: " + cwMediaType +
				"; version=YYYY.N with a version from 2019.1 to " + s.opts.Version + "."}
	}
	h := strings.Join(r.Header.Values("Accept"), ",")
	first, _, _ := strings.Cut(h, ",")
	first = strings.TrimSpace(first)
	if first == "" {
		return "", bad("no Accept header")
	}
	mt, params, err := mime.ParseMediaType(first)
	if err != nil || mt != cwMediaType {
		return "", bad("the first media type is not " + cwMediaType)
	}
	v, ok := params["version"]
	if !ok {
		return "", bad("no version")
	}
	y, m, ok := parseVersion(v)
	if !ok {
		return "", bad("malformed version " + strconv.Quote(v))
	}
	sy, sm, _ := parseVersion(s.opts.Version)
	if y < 2019 || (y == sy && m > sm) || y > sy {
		return "", bad("version " + v)
	}
	return v, nil
}

// parseVersion parses "YYYY.N".
func parseVersion(v string) (int, int, bool) {
	ys, ms, ok := strings.Cut(v, ".")
	if !ok || len(ys) != 4 || ms == "" || len(ms) > 2 {
		return 0, 0, false
	}
	y, err1 := strconv.Atoi(ys)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || m < 1 || ms[0] == '+' || ms[0] == '-' {
		return 0, 0, false
	}
	return y, m, true
}

// checkContentType: writes must send JSON (ConnectWise answers 415 otherwise).
func checkContentType(r *http.Request) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "UnsupportedMediaType",
			message: "The request entity's media type '" + r.Header.Get("Content-Type") + "' is not supported for this resource; use application/json."}
	}
	return nil
}
