package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeV1Fixture writes the v1 layout by hand: outbox items directly in
// outbox/ with a "dead" flag, no meta/outbox_pending, no cw/company_ids.
func writeV1Fixture(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "settings", "products", "workspaces", "routes", "incidents", "keys", "outbox", "feed", "notes", "usage", "audit", "cw"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("meta")).Put([]byte("schema_version"), itob(1)); err != nil {
			return err
		}
		cw := tx.Bucket([]byte("cw"))
		companies, _ := cw.CreateBucket([]byte("companies"))
		if _, err := cw.CreateBucket([]byte("lookups")); err != nil {
			return err
		}
		for _, c := range []string{
			`{"id":7,"identifier":"ACME","name":"Acme Corp"}`,
			`{"id":9,"identifier":"Globex","name":"Globex","deleted":true}`,
		} {
			var co Company
			_ = json.Unmarshal([]byte(c), &co)
			if err := companies.Put(itob(uint64(co.ID)), []byte(c)); err != nil {
				return err
			}
		}
		out := tx.Bucket([]byte("outbox"))
		items := []string{
			`{"kind":"incident","ref":"inc-1","attempts":0}`,
			`{"kind":"incident","ref":"inc-2","attempts":5,"last_error":"CW 500","dead":true}`,
			`{"kind":"incident","ref":"inc-3","attempts":1,"last_error":"timeout"}`,
			`{"kind":"incident", this is not json`,
		}
		for i, v := range items {
			if err := out.Put(itob(uint64(i+4)), []byte(v)); err != nil {
				return err
			}
		}
		if err := out.SetSequence(7); err != nil {
			return err
		}
		return tx.Bucket([]byte("incidents")).Put([]byte("inc-1"), []byte(`{"id":"inc-1","type":"threat","company":"acme","title":"t","state":"queued"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateV1(t *testing.T) {
	dir := t.TempDir()
	writeV1Fixture(t, dir)
	s := openT(t, dir, Options{})

	// Version bumped; outbox/ holds only the two sub-buckets now.
	err := s.View(func(tx *Tx) error {
		if v := btoi(mustBucket(t, tx.tx, bktMeta).Get(keySchemaVersion)); v != SchemaVersion {
			t.Errorf("schema_version = %d", v)
		}
		return mustBucket(t, tx.tx, bktOutbox).ForEach(func(k, v []byte) error {
			if v != nil {
				t.Errorf("flat v1 outbox key %x left behind", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	// Counter rebuilt: inc-1, inc-3 and the unreadable record are pending.
	if got := s.QueueLen(); got != 3 {
		t.Fatalf("QueueLen = %d, want 3", got)
	}
	due, err := s.PeekDue(time.Now(), 10)
	wantCorrupt(t, err, "outbox/pending", "7")
	if len(due) != 2 || due[0].Ref != "inc-1" || due[0].Seq != 4 || due[1].Ref != "inc-3" || due[1].Seq != 6 || due[1].LastError != "timeout" {
		t.Fatalf("pending after migration: %+v", due)
	}
	failed, err := s.FailedItems()
	if err != nil || len(failed) != 1 || failed[0].Ref != "inc-2" || failed[0].Seq != 5 || failed[0].LastError != "CW 500" || failed[0].FailedAt.IsZero() {
		t.Fatalf("failed after migration: %+v %v", failed, err)
	}
	// The unreadable one can be moved aside with its bytes kept.
	if err := s.MoveToFailed(7, "unreadable after migration"); err != nil {
		t.Fatal(err)
	}
	if failed, _ := s.FailedItems(); len(failed) != 2 || !strings.Contains(failed[1].Raw, "this is not json") {
		t.Fatalf("moved corrupt item: %+v", failed)
	}

	// Sequence continues after v1's.
	if seq, err := s.Enqueue(OutboxIncident, "inc-9"); err != nil || seq != 8 {
		t.Fatalf("next seq = %d, %v; want 8", seq, err)
	}
	// Identifier index built.
	if c, err := s.CompanyByIdentifier("acme"); err != nil || c.ID != 7 {
		t.Fatalf("CompanyByIdentifier after migration: %+v %v", c, err)
	}
	if c, err := s.CompanyByIdentifier("GLOBEX"); err != nil || c.ID != 9 || !c.Deleted {
		t.Fatalf("CompanyByIdentifier after migration: %+v %v", c, err)
	}
	// Untouched data still there.
	if inc, err := s.Incident("inc-1"); err != nil || inc.Company != "acme" {
		t.Fatalf("incident after migration: %+v %v", inc, err)
	}

	// Reopening a migrated file is a no-op.
	s.Close()
	s = openT(t, dir, Options{})
	if got := s.QueueLen(); got != 3 {
		t.Fatalf("QueueLen after second open = %d, want 3", got)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	s.Close()
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put(keySchemaVersion, itob(SchemaVersion+1))
	})
	if s, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpenRefusesForeignFile(t *testing.T) {
	dir := t.TempDir()
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("something_else"))
		return err
	})
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("opened a bbolt file that is not ours")
	}
}

func TestCorruptCounterIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	for _, ref := range []string{"a", "b"} {
		if _, err := s.Enqueue(OutboxIncident, ref); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put(keyOutboxPending, []byte("garbage"))
	})
	s = openT(t, dir, Options{})
	if s.QueueLen() != 2 {
		t.Fatalf("QueueLen %d after rebuilding, want 2", s.QueueLen())
	}
}

// TestEveryMigrationHasATest holds the rule that each migration is proven
// by a test of its own, named TestMigrateV<from>, on a file of that version.
func TestEveryMigrationHasATest(t *testing.T) {
	names := map[string]bool{}
	files, _ := filepath.Glob("*_test.go")
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				names[fd.Name.Name] = true
			}
		}
	}
	for _, m := range migrations {
		if want := fmt.Sprintf("TestMigrateV%d", m.from); !names[want] {
			t.Errorf("migration v%d→v%d (%s) has no %s", m.from, m.from+1, m.name, want)
		}
	}
	if last := migrations[len(migrations)-1]; last.from+1 != SchemaVersion {
		t.Errorf("the last migration ends at v%d, SchemaVersion is %d", last.from+1, SchemaVersion)
	}
}

// TestOpenCurrentWritesNothing: opening a current file commits no
// transaction (no fsync, no change of the file's transaction id).
func TestOpenCurrentWritesNothing(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	s.Close()
	txid := func() int {
		db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var id int
		_ = db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	s = openT(t, dir, Options{})
	if got := s.Stats().WriteTxs; got != 0 {
		t.Errorf("open ran %d write transactions", got)
	}
	s.Close()
	if after := txid(); after != before {
		t.Fatalf("reopening a current file committed: txid %d → %d", before, after)
	}
}

// writeV2Fixture makes a v2 file: today's layout less what v3 added (the
// ticket_keys index, the failed counter, keys on incident outbox items).
func writeV2Fixture(t *testing.T, dir string) {
	t.Helper()
	s := openT(t, dir, Options{})
	if _, _, err := s.EnqueueIncidents(context.Background(), []Incident{
		{ID: "inc-1", Company: "acme", Type: "threat", Title: "Malware"},
		{ID: "inc-2", Company: "acme", Type: "threat", Title: "Other", Key: "given"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveToFailed(2, "CW 500"); err != nil {
		t.Fatal(err)
	}
	for key, ticket := range map[string]int{"acme|threat|Malware": 41, "closed-one": 7} {
		if err := s.BeginTicketCreate(IncidentKey{Key: key, Workspace: "acme"}); err != nil {
			t.Fatal(err)
		}
		if err := s.TicketCreated(key, ticket); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("ticket_keys")); err != nil {
			return err
		}
		meta := tx.Bucket([]byte("meta"))
		if err := meta.Delete(keyOutboxFailed); err != nil {
			return err
		}
		if err := meta.Put(keySchemaVersion, itob(2)); err != nil {
			return err
		}
		for _, name := range []string{"pending", "failed"} {
			b := tx.Bucket([]byte("outbox")).Bucket([]byte(name))
			var ks, vs [][]byte
			_ = b.ForEach(func(k, v []byte) error {
				var m map[string]any
				_ = json.Unmarshal(v, &m)
				delete(m, "key")
				nv, _ := json.Marshal(m)
				ks, vs = append(ks, bytes.Clone(k)), append(vs, nv)
				return nil
			})
			for i := range ks {
				if err := b.Put(ks[i], vs[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func TestMigrateV2(t *testing.T) {
	dir := t.TempDir()
	writeV2Fixture(t, dir)
	s := openT(t, dir, Options{})
	if got := s.FailedLen(); got != 1 {
		t.Errorf("FailedLen = %d, want 1 (counted by the migration)", got)
	}
	// v2→v3→v4: indexed, then scoped by workspace.
	for ticket, want := range map[int]string{41: "acme|threat|Malware", 7: "acme|closed-one"} {
		if k, err := s.IncidentKeyByTicket(ticket); err != nil || k.Key != want {
			t.Errorf("key of ticket %d = %q, %v; want %q", ticket, k.Key, err, want)
		}
	}
	due, err := s.PeekDue(time.Now(), 10)
	if err != nil || len(due) != 1 || due[0].Key != "acme|threat|Malware" {
		t.Fatalf("pending after migration: %+v %v", due, err)
	}
	failed, err := s.FailedItems()
	if err != nil || len(failed) != 1 || failed[0].Key != "acme|given" {
		t.Fatalf("failed after migration: %+v %v", failed, err)
	}
}

// writeV3Fixture makes a v3 file: keys named as sent, not scoped by
// workspace, two tenants sharing one ("shared", made by acme, which globex
// also sent), with index entries and outbox items naming them.
func writeV3Fixture(t *testing.T, dir string) {
	t.Helper()
	s := openT(t, dir, Options{})
	if _, _, err := s.EnqueueIncidents(context.Background(), []Incident{
		{ID: "g1", Company: "globex", Type: "threat", Title: "x", Key: "shared"},
		{ID: "a2", Company: "acme", Type: "threat", Title: "x", Key: "shared"},
	}); err != nil {
		t.Fatal(err)
	}
	err := s.Update(func(tx *Tx) error {
		for _, k := range []IncidentKey{
			{Key: "shared", Workspace: "acme", State: KeyOpen, TicketID: 50},
			{Key: "acme|threat|Derived", Workspace: "acme", State: KeyOpen, TicketID: 51},
		} {
			if err := tx.PutIncidentKey(k); err != nil {
				return err
			}
		}
		_, err := tx.EnqueueAt(OutboxFlush, "shared", time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		// v3 items carried the key as sent.
		b := tx.Bucket([]byte("outbox")).Bucket([]byte("pending"))
		var ks, vs [][]byte
		_ = b.ForEach(func(k, v []byte) error {
			var it OutboxItem
			_ = json.Unmarshal(v, &it)
			if it.Kind == OutboxIncident {
				it.Key = "shared"
			}
			nv, _ := json.Marshal(it)
			ks, vs = append(ks, bytes.Clone(k)), append(vs, nv)
			return nil
		})
		for i := range ks {
			if err := b.Put(ks[i], vs[i]); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put(keySchemaVersion, itob(3))
	})
}

func TestMigrateV3(t *testing.T) {
	dir := t.TempDir()
	writeV3Fixture(t, dir)
	s := openT(t, dir, Options{})
	if _, err := s.IncidentKey("shared"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the unscoped key is still there: %v", err)
	}
	k, err := s.IncidentKey("acme|shared")
	if err != nil || k.TicketID != 50 || k.Key != "acme|shared" || k.State != KeyOpen {
		t.Fatalf("scoped key: %+v %v", k, err)
	}
	if k, err := s.IncidentKey("acme|threat|Derived"); err != nil || k.TicketID != 51 {
		t.Fatalf("a default key is scoped already and stays: %+v %v", k, err)
	}
	for ticket, want := range map[int]string{50: "acme|shared", 51: "acme|threat|Derived"} {
		if k, err := s.IncidentKeyByTicket(ticket); err != nil || k.Key != want {
			t.Errorf("ticket %d → %q %v, want %q", ticket, k.Key, err, want)
		}
	}
	due, err := s.PeekDue(time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range due {
		if it.Kind == OutboxFlush {
			got["flush"] = it.Ref
		} else {
			got[it.Ref] = it.Key
		}
	}
	// globex's incident no longer lands on acme's ticket.
	want := map[string]string{"g1": "globex|shared", "a2": "acme|shared", "flush": "acme|shared"}
	if !maps.Equal(got, want) {
		t.Fatalf("outbox after migration: %v, want %v", got, want)
	}
}

// TestMigrateV3Collisions: scoping never merges two keys nor leaves the
// file unopenable. A key whose scoped name is held by a key that stays
// keeps its old name; a name freed by a key that moves is free for
// another, in whatever order the keys sort.
func TestMigrateV3Collisions(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	if err := s.Update(func(tx *Tx) error {
		for _, k := range []IncidentKey{
			{Key: "x", Workspace: "acme", State: KeyOpen, TicketID: 1},
			{Key: "acme|x", Workspace: "acme", State: KeyOpen, TicketID: 2},
			{Key: "y", Workspace: "z", State: KeyOpen, TicketID: 3},
			{Key: "z|y", Workspace: "b", State: KeyOpen, TicketID: 4},
		} {
			if err := tx.PutIncidentKey(k); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, filepath.Join(dir, FileName), func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put(keySchemaVersion, itob(3))
	})
	s = openT(t, dir, Options{})
	for key, ticket := range map[string]int{"x": 1, "acme|x": 2, "z|y": 3, "b|z|y": 4} {
		if k, err := s.IncidentKey(key); err != nil || k.TicketID != ticket {
			t.Errorf("key %q: %+v %v; want ticket %d", key, k, err, ticket)
		}
	}
	if _, err := s.IncidentKey("y"); !errors.Is(err, ErrNotFound) {
		t.Errorf("key y not moved: %v", err)
	}
}
