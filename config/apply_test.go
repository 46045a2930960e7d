package config

import (
	"strings"
	"testing"

	"github.com/cwbridge/cwbridge/storage"
)

const applyTOML = `
[connectwise]
site = "na.myconnectwise.net"
public_key = "pub-from-file"
private_key = "priv-from-file"

[intake]
listen = "127.0.0.1:8088"
token = "tok-from-file-0123456789"

[[routes]]
alert_type = "malware"
board = "Security"
status = "New"
priority = "7"
closed_status = "Closed"

[[products]]
key = "users"
cw_identifier = "SEC-USER"
description = "Security seat"

[[workspaces]]
key = "acme"
cw_company = "ACME"
max_users = 50
`

func TestApplyConfigWinsOnlyForSetKeys(t *testing.T) {
	s, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// What the wizard stored earlier.
	if err := s.SetConnection("wizard", storage.Connection{Site: "eu.myconnectwise.net", CompanyID: "stored-co",
		PublicKey: "old-pub", PrivateKey: storage.NewSecret("old-priv"), ClientID: "stored-client", APIVersion: "2024.1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRoute("screen", storage.Route{AlertType: "malware", Enabled: true, Board: storage.Ref{Name: "Security", ID: 11},
		Subtype: storage.Ref{Name: "Malware", ID: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWorkspace("screen", storage.Workspace{Key: "acme", CWCompany: "ACME", CWCompanyID: 42}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("cwbridge.toml", []byte(applyTOML))
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(s, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := s.Connection()
	if err != nil {
		t.Fatal(err)
	}
	if c.Site != "na.myconnectwise.net" || c.PublicKey != "pub-from-file" || c.PrivateKey.Reveal() != "priv-from-file" {
		t.Errorf("set keys not applied: %+v", c)
	}
	if c.CompanyID != "stored-co" || c.ClientID != "stored-client" || c.APIVersion != "2024.1" {
		t.Errorf("unset keys overwritten: %+v", c)
	}
	if tok, _ := s.IntakeToken(); tok.Reveal() != "tok-from-file-0123456789" {
		t.Error("intake token not applied")
	}
	r, err := s.Route("malware")
	if err != nil {
		t.Fatal(err)
	}
	if r.Board != (storage.Ref{Name: "Security", ID: 11}) || r.Priority != (storage.Ref{ID: 7}) || r.Status.Name != "New" || r.Subtype.ID != 5 {
		t.Errorf("route: %+v", r)
	}
	w, _ := s.Workspace("acme")
	if w.CWCompanyID != 42 || w.MaxUsers != 50 {
		t.Errorf("workspace: %+v", w)
	}
	m, _ := s.ProductMapping("users")
	if m.CreateNew == nil || m.CreateNew.Identifier != "SEC-USER" {
		t.Errorf("product: %+v", m)
	}
	before, _ := s.AuditLog(1000)
	if err := Apply(s, cfg); err != nil {
		t.Fatal(err)
	}
	after, _ := s.AuditLog(1000)
	if len(after) != len(before) {
		t.Errorf("re-applying the same config wrote %d audit entries", len(after)-len(before))
	}
	for _, e := range after {
		for _, v := range []string{e.Before, e.After} {
			if containsAny(v, "priv-from-file", "tok-from-file-0123456789", "old-priv") {
				t.Errorf("audit entry shows a secret: %+v", e)
			}
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
