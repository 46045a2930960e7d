package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const secretValue = "sk-VERY-SECRET-1234"

func assertMasked(t *testing.T, what, out string) {
	t.Helper()
	// No part of the value may show: not the whole, not the last four.
	for _, frag := range []string{secretValue, "1234", "SECRET", "sk-"} {
		if strings.Contains(out, frag) {
			t.Errorf("%s leaks %q: %s", what, frag, out)
		}
	}
}

func TestSecretMasksEveryPrintingPath(t *testing.T) {
	s := NewSecret(secretValue)
	c := Connection{Site: "na.example", PrivateKey: s}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%T"} {
		assertMasked(t, "Secret "+verb, fmt.Sprintf(verb, s))
		assertMasked(t, "Connection "+verb, fmt.Sprintf(verb, c))
		assertMasked(t, "*Connection "+verb, fmt.Sprintf(verb, &c))
	}
	if got := fmt.Sprint(s); got != Mask {
		t.Fatalf("Sprint = %q, want the mask", got)
	}
	assertMasked(t, "String", s.String())
	assertMasked(t, "GoString", s.GoString())
	assertMasked(t, "Println", fmt.Sprintln(s, c, []Secret{s}, map[string]Secret{"k": s}))

	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	assertMasked(t, "JSON", string(j))
	if !strings.Contains(string(j), `"private_key":"`+Mask+`"`) {
		t.Fatalf("JSON %s lacks the mask", j)
	}
	txt, _ := s.MarshalText()
	assertMasked(t, "MarshalText", string(txt))

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("settings", "key", s, "conn", c, slog.Any("ptr", &s))
	}
	assertMasked(t, "slog", buf.String())
	if !strings.Contains(buf.String(), Mask) {
		t.Fatalf("slog output lacks the mask: %s", buf.String())
	}

	if s.Reveal() != secretValue {
		t.Fatal("Reveal lost the value")
	}
	if !s.Equal(NewSecret(secretValue)) || s.Equal(NewSecret("other")) {
		t.Fatal("Equal")
	}
}

func TestSecretEmptyAndUnmarshal(t *testing.T) {
	var zero Secret
	if zero.String() != "" || !zero.IsZero() {
		t.Fatalf("zero secret prints %q", zero.String())
	}
	var s Secret
	if err := json.Unmarshal([]byte(`"abc"`), &s); err != nil || s.Reveal() != "abc" {
		t.Fatalf("UnmarshalJSON: %v %q", err, s.Reveal())
	}
	// A display form round-tripped back must not replace the real value.
	if err := json.Unmarshal([]byte(`"`+Mask+`"`), &s); err == nil {
		t.Fatal("took the mask as a value")
	}
	if s.Reveal() != "abc" {
		t.Fatal("failed unmarshal changed the value")
	}
	if err := s.UnmarshalText([]byte("from-toml")); err != nil || s.Reveal() != "from-toml" {
		t.Fatalf("UnmarshalText: %v", err)
	}
}

func TestSettingsKeepSecretsAndMaskAudit(t *testing.T) {
	s := newT(t)
	c := Connection{Site: "na.example", CompanyID: "acme", PublicKey: "pub", PrivateKey: NewSecret(secretValue), ClientID: "cid", APIVersion: "2025.8", FallbackCompany: "Catchall"}
	if err := s.SetConnection("alice", c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Connection()
	if err != nil || got != c {
		t.Fatalf("Connection() = %v, %v", got, err)
	}
	if err := s.SetIntakeToken("alice", NewSecret("tok-"+secretValue)); err != nil {
		t.Fatal(err)
	}
	c.PrivateKey = NewSecret(secretValue + "-rotated")
	if err := s.SetConnection("bob", c); err != nil {
		t.Fatal(err)
	}
	// Same value again: no write, no audit line.
	if err := s.SetConnection("bob", c); err != nil {
		t.Fatal(err)
	}
	tok, err := s.IntakeToken()
	if err != nil || tok.Reveal() != "tok-"+secretValue {
		t.Fatalf("IntakeToken = %v", err)
	}
	o := Onboarding{Step: "credentials", Draft: Connection{Site: "x", PrivateKey: NewSecret(secretValue)}, Values: map[string]string{"client_id": "half"}}
	if err := s.SetOnboarding(o); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Onboarding(); err != nil || got.Draft.PrivateKey.Reveal() != secretValue || got.Values["client_id"] != "half" {
		t.Fatalf("Onboarding = %+v, %v", got, err)
	}

	log, err := s.AuditLog(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("audit has %d entries, want 3: %+v", len(log), log)
	}
	for _, e := range log {
		j, _ := json.Marshal(e)
		assertMasked(t, "audit entry", string(j)+fmt.Sprintf("%+v", e))
	}
	rot := log[0] // newest first
	if rot.Actor != "bob" || rot.Subject != "settings/connectwise" || rot.Action != "set" ||
		len(rot.Changed) != 1 || rot.Changed[0] != "private_key" || !strings.Contains(rot.Before, Mask) {
		t.Fatalf("rotation audit entry: %+v", rot)
	}
	if log[2].Before != "" || log[2].Actor != "alice" || len(log[2].Changed) != 7 {
		t.Fatalf("first audit entry: %+v", log[2])
	}
}
