package config

import (
	"testing"

	"github.com/cwbridge/cwbridge/storage"
)

// TestLinkSwitches: link_contact and link_configuration default on; a file
// that names one wins, one it leaves out keeps what the Alerts page stored.
func TestLinkSwitches(t *testing.T) {
	s, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.PutRoute("screen", storage.Route{AlertType: "threat", Enabled: true, ContactLinkOff: true, ConfigurationLinkOff: true}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("t.toml", []byte(`
[[routes]]
alert_type = "threat"
board = "Security"
link_configuration = true

[[routes]]
alert_type = "malware"
board = "Security"
link_contact = false
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Routes[1]; r.LinkContact || !r.LinkConfiguration {
		t.Fatalf("parsed malware route: %+v", r)
	}
	if err := Apply(s, cfg); err != nil {
		t.Fatal(err)
	}
	threat, err := s.Route("threat")
	if err != nil {
		t.Fatal(err)
	}
	if threat.LinksContact() || !threat.LinksConfiguration() {
		t.Fatalf("threat: contact %v configuration %v, want the stored off and the file's on", threat.LinksContact(), threat.LinksConfiguration())
	}
	malware, err := s.Route("malware")
	if err != nil {
		t.Fatal(err)
	}
	if malware.LinksContact() || !malware.LinksConfiguration() {
		t.Fatalf("malware: contact %v configuration %v, want off and the default on", malware.LinksContact(), malware.LinksConfiguration())
	}
}
