package config

import (
	"fmt"
	"regexp"
	"strings"
)

// BuiltinAlertTypes are the alert types every cwbridge knows. Routes may
// define more.
var BuiltinAlertTypes = []string{
	"threat",
	"malware",
	"phishing",
	"dns_block",
	"data_loss",
	"anomalous_login",
	"policy_violation",
}

var alertTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// IsBuiltinAlertType reports whether name is one of BuiltinAlertTypes.
func IsBuiltinAlertType(name string) bool {
	for _, b := range BuiltinAlertTypes {
		if b == name {
			return true
		}
	}
	return false
}

// ValidAlertType checks a name a route may use: a built-in type, or a new
// type that is well formed (^[a-z][a-z0-9_]{0,63}$) and not a likely typo of
// a built-in one (within edit distance 2 of it).
func ValidAlertType(name string) error {
	if IsBuiltinAlertType(name) {
		return nil
	}
	if !alertTypeRE.MatchString(name) {
		return fmt.Errorf("unknown alert type %q: an alert type is lower-case letters, digits and _ (starting with a letter, at most 64)", name)
	}
	if best := Suggest(name, BuiltinAlertTypes); best != "" {
		return fmt.Errorf("unknown alert type %q (did you mean %q?)", name, best)
	}
	return nil
}

// Suggest returns the candidate a mistyped name most likely meant: the
// first closest one within edit distance 2 of name (case ignored on name;
// candidates are lower case), or "". The config checker, ValidAlertType and
// the intake's unknown-field errors share it.
func Suggest(name string, candidates []string) string {
	name = strings.ToLower(name)
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c, bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes; the names
// Suggest offers are ASCII), or limit when it is at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
