package config

import (
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

func TestBillingInterval(t *testing.T) {
	if c := mustParse(t, "[billing]\ninterval = \"15m\"\n"); c.Billing.Interval.Duration != 15*time.Minute {
		t.Errorf("interval = %v", c.Billing.Interval)
	}
	for _, bad := range []string{`"10s"`, `"48h"`, `"soon"`, `60`} {
		_, err := parse("cwbridge.toml", []byte("[billing]\ninterval = "+bad+"\n"), envMap(nil))
		if err == nil || !strings.Contains(err.Error(), "billing.interval") || !strings.Contains(err.Error(), "cwbridge.toml:2") {
			t.Errorf("interval %s: %v", bad, err)
		}
	}
}

// A product marked seat_based is stored so, and the wizard's catalog picks
// survive a restart with the same file.
func TestApplySeatBasedKeepsWizardPicks(t *testing.T) {
	s, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := mustParse(t, "[[products]]\nkey = \"users\"\ncw_identifier = \"SEC-USER\"\ndescription = \"Seat\"\nseat_based = true\n")
	if err := Apply(s, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := s.ProductMapping("users")
	if err != nil || !m.SeatBased || m.CreateNew == nil {
		t.Fatalf("mapping %+v, %v", m, err)
	}
	m.CreateNew.Subcategory = storage.Ref{ID: 7, Name: "Security Software"}
	if err := s.PutProductMapping("wizard", m); err != nil {
		t.Fatal(err)
	}
	if err := Apply(s, cfg); err != nil {
		t.Fatal(err)
	}
	if m, _ = s.ProductMapping("users"); m.CreateNew.Subcategory.ID != 7 || !m.SeatBased {
		t.Errorf("after re-apply: %+v", m.CreateNew)
	}
}

// ConnectWise's CatalogItem limits are checked when the file loads, not
// when the create fails.
func TestProductLimits(t *testing.T) {
	for key, val := range map[string]string{"cw_identifier": strings.Repeat("X", 76), "description": strings.Repeat("d", 61)} {
		text := "[[products]]\nkey = \"users\"\ncw_identifier = \"SEC-USER\"\n" + key + " = \"" + val + "\"\n"
		if key == "cw_identifier" {
			text = "[[products]]\nkey = \"users\"\ncw_identifier = \"" + val + "\"\n"
		}
		_, err := parse("cwbridge.toml", []byte(text), envMap(nil))
		if err == nil || !strings.Contains(err.Error(), "products[0]."+key) {
			t.Errorf("%s: %v", key, err)
		}
	}
	mustParse(t, "[[products]]\nkey = \"users\"\ncw_identifier = \""+strings.Repeat("X", 75)+"\"\ndescription = \""+strings.Repeat("d", 60)+"\"\n")
}
