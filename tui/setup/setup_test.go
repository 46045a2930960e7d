package setup

import (
	"errors"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

func newPage(t *testing.T, st *storage.Store, o Options) (*Model, *tu.Driver, *tu.Backend) {
	t.Helper()
	be := &tu.Backend{}
	m := New(tu.Common(st, be), o)
	m.SetSize(100, 30)
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m)}
	d.Run(m.Init())
	return m, d, be
}

func screen(m *Model) string { return ansi.Strip(m.View()) }

func sim(t *testing.T) *cwsim.Server {
	t.Helper()
	s := cwsim.New(cwsim.Options{Companies: 5})
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestFirstRunOpensWizard(t *testing.T) {
	st := tu.Store(t)
	m, _, _ := newPage(t, st, Options{})
	if !m.InWizard() || m.wz.step != stepCredentials {
		t.Fatalf("first run: want the wizard at credentials, got %q", screen(m))
	}
	if !m.Capturing() {
		t.Error("credentials step must capture keys (q types a q)")
	}
}

func TestBadCredentialsShowErrorsAndSaveNothing(t *testing.T) {
	st := tu.Store(t)
	m, d, _ := newPage(t, st, Options{})
	d.Type("not a host/")
	d.Press("enter")                   // to company ID: site error now shows
	d.Press("enter", "enter", "enter") // empty company, public, private
	d.Type("not-a-guid")
	d.Press("enter") // submit: must stay
	s := screen(m)
	for _, want := range []string{"not a host name", "company ID is empty", "public key is empty", "private key is empty", "client ID is a GUID", "fix the fields marked ✗"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if m.wz.step != stepCredentials {
		t.Fatalf("advanced to %v with bad input", m.wz.step)
	}
	if _, err := st.Connection(); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("connection saved from bad input: %v", err)
	}
	if o, _ := st.Draft("test"); o.Step != "" {
		t.Errorf("onboarding progress saved from bad input: %+v", o.Step)
	}
	if m.wz.focus != fSite {
		t.Errorf("focus went to field %d, want the first bad one (site)", m.wz.focus)
	}
}

func TestPrivateKeyMaskedUnlessRevealed(t *testing.T) {
	st := tu.Store(t)
	m, d, _ := newPage(t, st, Options{})
	d.Press("down", "down", "down") // private key
	d.Type("s3cretKEY")
	if strings.Contains(screen(m), "s3cretKEY") {
		t.Fatal("private key visible while masked")
	}
	d.Press("ctrl+r")
	if !strings.Contains(screen(m), "s3cretKEY") {
		t.Fatal("ctrl+r did not reveal the key being typed")
	}
	d.Press("ctrl+r")
	if strings.Contains(screen(m), "s3cretKEY") {
		t.Fatal("ctrl+r again did not hide it")
	}
}

// TestWizardEndToEnd walks the whole wizard against an in-process
// simulator to a saved, verified setup.
func TestWizardEndToEnd(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	m, d, be := newPage(t, st, Options{})
	be.Catalog = []engine.CatalogOutcome{
		{Product: "devices", Identifier: "SEC-DEV", ItemID: 12, Outcome: "mapped"},
		{Product: "users", Identifier: "SEC-USER", Outcome: "failed", Error: "the API member's security role refused",
			Fix: "in ConnectWise open System > Security Roles, Procurement > Product Catalog: set Add Level to All"},
	}

	for _, v := range []string{cr.Site, cr.CompanyID, cr.PublicKey, cr.PrivateKey, cr.ClientID} {
		d.Type(v)
		d.Press("enter")
	}
	if m.wz.step != stepVerify {
		t.Fatalf("want verify step, screen:\n%s", screen(m))
	}
	if strings.Contains(screen(m), cr.PrivateKey) {
		t.Fatal("private key on the verify screen")
	}
	if !m.wz.verified() {
		t.Fatalf("verify did not pass:\n%s", screen(m))
	}
	if o, _ := st.Draft("test"); o.Step != "verify" || o.VerifiedAt.IsZero() {
		t.Fatalf("progress not kept after verify: step %q verified %v", o.Step, o.VerifiedAt)
	}
	if o, _ := st.Onboarding(); o.Step != "" {
		t.Fatalf("a draft went into the shared onboarding record: step %q", o.Step)
	}
	d.Press("enter")
	if m.wz.step != stepAgreement || !m.wz.agLoaded {
		t.Fatalf("want loaded agreement types, screen:\n%s", screen(m))
	}
	if !strings.Contains(screen(m), "Used when you create a workspace") {
		t.Error("agreement step lacks its note")
	}
	d.Press("enter") // the preselected (default) type
	if m.wz.step != stepProducts || m.wz.agType.ID == 0 {
		t.Fatalf("want products step with a type chosen, got step %v type %+v", m.wz.step, m.wz.agType)
	}
	// Map "devices" to an existing catalog item, keep "users" new.
	d.Press("down", "m", "enter")
	if m.wz.catPicker == nil {
		t.Fatalf("no catalog picker:\n%s", screen(m))
	}
	d.Press("enter")
	if p := m.wz.products[1]; !p.Existing || p.ExistingID == 0 {
		t.Fatalf("devices not mapped: %+v\n%s", p, screen(m))
	}
	// "users" stays new: its identifier and description, then the
	// subcategory and product type from ConnectWise's lists, each picker
	// opening on the sensible default.
	d.Press("up", "enter", "enter", "enter")
	if m.wz.kindPicker == nil || m.wz.kindFor != "subcategory" {
		t.Fatalf("no subcategory picker:\n%s", screen(m))
	}
	d.Press("enter")
	if m.wz.kindPicker == nil || m.wz.kindFor != "type" {
		t.Fatalf("no product type picker:\n%s", screen(m))
	}
	d.Press("enter")
	if p := m.wz.products[0]; p.Key != "users" || p.Subcategory.ID == 0 || p.Type.ID == 0 {
		t.Fatalf("users' subcategory and type not picked: %+v\n%s", p, screen(m))
	}
	d.Press("down", "down", "enter") // Continue
	if m.wz.step != stepSummary {
		t.Fatalf("want summary:\n%s", screen(m))
	}
	if strings.Contains(screen(m), cr.PrivateKey) || !strings.Contains(screen(m), storage.Mask) {
		t.Fatal("summary must mask the private key")
	}
	d.Press("enter")
	// Saved: each product's catalog item is made real, and what happened
	// to each shows (a failure with its fix) until enter.
	if be.Ensured != 1 {
		t.Fatalf("catalog items made real %d times, want 1", be.Ensured)
	}
	got := strings.Join(strings.Fields(screen(m)), " ")
	for _, want := range []string{"Saved. Catalog items in ConnectWise", "mapped SEC-DEV (#12)", "failed SEC-USER: the API member's security role refused",
		"Product Catalog: set Add Level to All", "enter: done"} {
		if !strings.Contains(got, want) {
			t.Errorf("after save the wizard lacks %q:\n%s", want, screen(m))
		}
	}
	d.Press("enter")
	if m.InWizard() {
		t.Fatalf("wizard still open after save:\n%s", screen(m))
	}
	conn, err := st.Connection()
	if err != nil || conn.Site != cr.Site || conn.PrivateKey.Reveal() != cr.PrivateKey || conn.ClientID != cr.ClientID {
		t.Fatalf("stored connection %v, %v", conn, err)
	}
	o, _ := st.Onboarding()
	if o.Step != "done" || o.VerifiedAt.IsZero() {
		t.Fatalf("onboarding %q verified %v", o.Step, o.VerifiedAt)
	}
	var drafts map[string]storage.Onboarding
	if err := st.View(func(t *storage.Tx) (err error) { drafts, err = t.Drafts(); return err }); err != nil || len(drafts) != 0 {
		t.Fatalf("drafts left after the setup was saved: %d, %v", len(drafts), err)
	}
	if ag, err := st.AgreementType(); err != nil || ag.ID == 0 {
		t.Fatalf("agreement type %+v %v", ag, err)
	}
	maps, _ := st.ProductMappings()
	if len(maps) != 2 || maps[0].Key != "devices" || maps[0].Existing == nil || maps[1].CreateNew == nil || maps[1].CreateNew.Identifier != "SEC-USER" ||
		maps[1].CreateNew.Subcategory.ID == 0 || maps[1].CreateNew.Type.ID == 0 {
		t.Fatalf("product mappings %+v", maps)
	}
	if be.Reconnects != 1 {
		t.Errorf("engine told to reconnect %d times, want 1", be.Reconnects)
	}
	if !strings.Contains(screen(m), "Setup complete") {
		t.Errorf("overview missing:\n%s", screen(m))
	}
}

// TestResumeAfterQuit: progress survives a new session; nothing final is
// saved before the summary.
func TestResumeAfterQuit(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	_, d, _ := newPage(t, st, Options{})
	for _, v := range []string{cr.Site, cr.CompanyID, cr.PublicKey, cr.PrivateKey, cr.ClientID} {
		d.Type(v)
		d.Press("enter")
	}
	d.Press("enter") // to agreement types; then "quit"
	if _, err := st.Connection(); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("connection saved before the summary: %v", err)
	}
	m2, _, _ := newPage(t, st, Options{})
	if !m2.InWizard() || m2.wz.step != stepAgreement || m2.wz.fields[fSite].Value() != cr.Site {
		t.Fatalf("did not resume at the agreement step:\n%s", screen(m2))
	}
	if !m2.wz.agLoaded {
		t.Fatal("resumed agreement step did not reload the types")
	}
}

func TestVerifyFailureExplainsAndGoesBack(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	m, d, _ := newPage(t, st, Options{})
	for _, v := range []string{cr.Site, cr.CompanyID, cr.PublicKey, "wrong-key", cr.ClientID} {
		d.Type(v)
		d.Press("enter")
	}
	sc := screen(m)
	if !strings.Contains(sc, "✗ Credentials accepted") || !strings.Contains(sc, "fix:") {
		t.Fatalf("want the failed credentials check with a fix:\n%s", sc)
	}
	d.Press("enter")
	if m.wz.step != stepVerify {
		t.Fatal("went past a failed verify")
	}
	d.Press("esc")
	if m.wz.step != stepCredentials {
		t.Fatal("esc did not go back to the credentials")
	}
	_ = common.PageSetup
}

func TestWizardStartsFromStoredConnection(t *testing.T) {
	st := tu.Store(t)
	// A config file put the connection in storage; the wizard never ran.
	if err := st.SetConnection("config", storage.Connection{Site: "eu.myconnectwise.net", CompanyID: "fromconfig",
		PublicKey: "pubcfg", PrivateKey: storage.NewSecret("privcfg"), ClientID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}); err != nil {
		t.Fatal(err)
	}
	prefill := storage.Connection{Site: "http://127.0.0.1:1", CompanyID: "demo"}
	m, _, _ := newPage(t, st, Options{Prefill: &prefill})
	s := screen(m)
	if !m.InWizard() || !strings.Contains(s, "eu.myconnectwise.net") || !strings.Contains(s, "fromconfig") {
		t.Fatalf("wizard should start from the stored connection:\n%s", s)
	}
	if strings.Contains(s, "privcfg") {
		t.Fatal("the private key is on screen")
	}
}

// The wizard's ConnectWise commands run beside Update: they take what they
// need up front instead of reading the fields the user may be typing into.
// The fields change before the commands run, so a command that reads them
// late sees the wrong site (and go test -race sees the race as well).
func TestWizardCommandsDoNotReadFields(t *testing.T) {
	var mu sync.Mutex
	var sites []string
	c := tu.Common(tu.Store(t), nil)
	c.NewClient = func(conn storage.Connection) (*cwclient.Client, error) {
		mu.Lock()
		sites = append(sites, conn.Site)
		mu.Unlock()
		return nil, errors.New("offline")
	}
	wz := newWizard(c)
	wz.load(storage.Onboarding{Draft: storage.Connection{Site: "before.example.com"}}, nil, storage.AgreementType{})
	cmds := []tea.Cmd{wz.loadAgreementTypes(), wz.openCatalog()}
	wz.fields[fSite].SetValue("after.example.com")
	done := make(chan tea.Msg, len(cmds))
	for _, cmd := range cmds {
		go func() { done <- cmd() }()
	}
	wz.fields[fSite].Update(tu.Key("x"))
	for range cmds {
		<-done
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sites) != len(cmds) {
		t.Fatalf("%d clients built, want %d", len(sites), len(cmds))
	}
	for _, s := range sites {
		if s != "before.example.com" {
			t.Errorf("a command read the site field when it ran (%q), not when it was made", s)
		}
	}
}

// A re-run wizard never holds the stored private key in a field: the field
// starts empty (shown as set), ctrl+r reveals only what is typed, an
// untouched field keeps the stored key on save and typing replaces it.
func TestStoredKeyIsWriteOnly(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	if err := st.SetConnection("t", storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetOnboarding(storage.Onboarding{Step: "done"}); err != nil {
		t.Fatal(err)
	}
	m, d, _ := newPage(t, st, Options{})
	d.Press("w")
	if !m.InWizard() {
		t.Fatal("w did not open the wizard")
	}
	if got := m.wz.fields[fPrivate].Raw(); got != "" {
		t.Fatalf("the private key field holds %d characters of the stored key", len(got))
	}
	d.Press("down", "down", "down", "ctrl+r")
	if strings.Contains(screen(m), cr.PrivateKey) || !strings.Contains(screen(m), storage.Mask+" (stored)") {
		t.Fatalf("want the key shown as stored, never revealed:\n%s", screen(m))
	}
	d.Type("typed-now")
	if !strings.Contains(screen(m), "typed-now") {
		t.Fatalf("ctrl+r does not reveal what is typed:\n%s", screen(m))
	}
	if m.wz.draft().PrivateKey.Reveal() != "typed-now" {
		t.Fatal("typing does not replace the stored key")
	}
	for range len("typed-now") {
		d.Press("backspace")
	}
	d.Press("enter", "enter") // client ID, then submit: verifies with the stored key
	if !m.wz.verified() {
		t.Fatalf("the stored key was not used to verify:\n%s", screen(m))
	}
	d.Press("enter", "enter", "n", "enter") // agreement, products, summary, save
	if m.InWizard() {
		t.Fatalf("not saved:\n%s", screen(m))
	}
	conn, err := st.Connection()
	if err != nil || conn.PrivateKey.Reveal() != cr.PrivateKey {
		t.Fatalf("the untouched field did not keep the stored key: %v", err)
	}
}

// esc on the first step of a re-run wizard returns to the summary, and a
// re-run left midway changes nothing stored (setup stays finished).
func TestRerunWizardEscReturnsToSummary(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	tu.Connect(t, st, s)
	if err := st.SetOnboarding(storage.Onboarding{Step: "done"}); err != nil {
		t.Fatal(err)
	}
	m, d, _ := newPage(t, st, Options{})
	if m.InWizard() {
		t.Fatal("a finished setup opened the wizard")
	}
	d.Press("w")
	d.Press("enter", "enter", "enter", "enter", "enter") // submit: verify
	if m.wz.step != stepVerify {
		t.Fatalf("want verify:\n%s", screen(m))
	}
	if o, _ := st.Onboarding(); o.Step != "done" {
		t.Fatalf("a re-run marked the finished setup %q", o.Step)
	}
	d.Press("esc") // back to the credentials
	d.Press("3")   // typed into the site field
	d.Press("esc") // leaves the wizard
	if m.InWizard() || !strings.Contains(screen(m), "Setup complete") {
		t.Fatalf("esc on step 1 of a re-run did not return to the summary:\n%s", screen(m))
	}
	if conn, _ := st.Connection(); conn.Site != cr.Site {
		t.Fatalf("leaving the wizard changed the site to %q", conn.Site)
	}
	if o, _ := st.Onboarding(); o.Step != "done" {
		t.Fatalf("leaving the wizard left onboarding at %q", o.Step)
	}
}

// TestCatalogLimitsAreConnectWises: the wizard takes what ConnectWise's
// CatalogItem takes (identifier 75, description 60 characters), as the
// config file does.
func TestCatalogLimitsAreConnectWises(t *testing.T) {
	if err := validIdentifier(strings.Repeat("x", 40)); err != nil {
		t.Errorf("a 40-character identifier refused: %v", err)
	}
	if err := validIdentifier(strings.Repeat("x", 76)); err == nil {
		t.Error("a 76-character identifier accepted")
	}
	if err := validDescription(strings.Repeat("é", 60)); err != nil {
		t.Errorf("60 characters refused: %v", err)
	}
	if err := validDescription(strings.Repeat("x", 61)); err == nil {
		t.Error("a 61-character description accepted")
	}
}

// Progress an older version kept in the shared record still resumes for a
// technician with no draft of their own; their own draft wins over it.
func TestResumeSharedProgressOfOlderVersion(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	old := storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey, PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID}
	if err := st.SetOnboarding(storage.Onboarding{Step: "verify", Draft: old}); err != nil {
		t.Fatal(err)
	}
	m, _, _ := newPage(t, st, Options{})
	if !m.InWizard() || m.wz.step != stepVerify || m.wz.fields[fSite].Value() != cr.Site {
		t.Fatalf("the shared progress of an older version did not resume:\n%s", screen(m))
	}
	if err := st.SetDraft("test", storage.Onboarding{Step: "credentials", Draft: storage.Connection{Site: "mine.example.com"}}); err != nil {
		t.Fatal(err)
	}
	m, _, _ = newPage(t, st, Options{})
	if m.wz.step != stepCredentials || m.wz.fields[fSite].Value() != "mine.example.com" {
		t.Fatalf("the technician's own draft did not win:\n%s", screen(m))
	}
}

// TestSetupSavedMeanwhileIsNotOverwritten: another technician saves setup
// while this wizard is open; its save is refused naming them and what
// they changed, and a second save applies this wizard's values.
func TestSetupSavedMeanwhileIsNotOverwritten(t *testing.T) {
	s := sim(t)
	cr := s.Credentials()
	st := tu.Store(t)
	m, d, _ := newPage(t, st, Options{})
	for _, v := range []string{cr.Site, cr.CompanyID, cr.PublicKey, cr.PrivateKey, cr.ClientID} {
		d.Type(v)
		d.Press("enter")
	}
	d.Press("enter", "enter") // verified; the default agreement type
	if m.wz.step != stepProducts {
		t.Fatalf("want products:\n%s", screen(m))
	}
	d.Press("down", "down", "enter") // Continue
	if m.wz.step != stepSummary {
		t.Fatalf("want summary:\n%s", screen(m))
	}
	// Meanwhile another technician saves a different agreement type.
	if err := st.SetAgreementType("ssh:bob@desk", storage.AgreementType{ID: 99, Name: "Bob's choice"}); err != nil {
		t.Fatal(err)
	}
	d.Press("enter")
	if !m.InWizard() || !strings.Contains(strings.Join(strings.Fields(screen(m)), " "), "changed by ssh:bob@desk") {
		t.Fatalf("the save over Bob's did not say so:\n%s", screen(m))
	}
	if ag, _ := st.AgreementType(); ag.ID != 99 {
		t.Fatalf("Bob's agreement type was overwritten: %+v", ag)
	}
	if _, err := st.Connection(); err == nil {
		t.Fatal("the refused save stored the connection")
	}
	d.Press("enter") // again: applied deliberately
	if m.InWizard() {
		t.Fatalf("the second save did not go through:\n%s", screen(m))
	}
	if ag, _ := st.AgreementType(); ag.ID == 99 {
		t.Fatal("the deliberate save did not apply the wizard's agreement type")
	}
}
