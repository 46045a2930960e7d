package storage

// A wizard draft belongs to the technician who is typing it: drafts/<actor>
// holds their unfinished onboarding, so one technician leaving the wizard
// midway never decides where another one's wizard opens. The shared
// settings/onboarding record only says that setup is finished (step
// "done"), and it is written only when the wizard's summary is saved.
//
// A settings/onboarding record at any other step was written by a version
// that kept one shared draft; the setup page starts from it when a
// technician has no draft of their own, so an upgrade loses nothing.

// Draft returns actor's unfinished wizard; the zero value (Step "") if
// they have none.
func (t *Tx) Draft(actor string) (Onboarding, error) {
	var r onboardingRecord
	if err := getJSON(t.tx, bktDrafts, draftKey(actor), &r); err != nil && !isNotFound(err) {
		return Onboarding{}, err
	}
	return Onboarding{Step: r.Step, Draft: r.Draft.conn(), Values: r.Values, VerifiedAt: r.VerifiedAt}, nil
}

// SetDraft saves actor's wizard progress. Not audited and not published:
// it changes per step and no other session shows it.
func (t *Tx) SetDraft(actor string, o Onboarding) error {
	r := onboardingRecord{Step: o.Step, Draft: o.Draft.record(), Values: o.Values, VerifiedAt: o.VerifiedAt}
	return putJSON(t.tx, bktDrafts, draftKey(actor), r)
}

// Drafts returns every technician's unfinished wizard, by actor.
func (t *Tx) Drafts() (map[string]Onboarding, error) {
	out := map[string]Onboarding{}
	err := listJSON(t.tx, bktDrafts, func(k, v []byte) error {
		var r onboardingRecord
		if err := decode(bktDrafts, k, v, &r); err != nil {
			return err
		}
		out[string(k)] = Onboarding{Step: r.Step, Draft: r.Draft.conn(), Values: r.Values, VerifiedAt: r.VerifiedAt}
		return nil
	})
	return out, err
}

// ClearDrafts removes every draft: once setup is finished they are moot,
// and each holds a private key in clear.
func (t *Tx) ClearDrafts() error {
	b, err := getBucket(t.tx, bktDrafts)
	if err != nil {
		return err
	}
	var keys [][]byte
	if err := b.ForEach(func(k, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// draftKey is actor's key; the local default actor may be empty.
func draftKey(actor string) []byte {
	if actor == "" {
		return []byte("-")
	}
	return []byte(actor)
}

func (s *Store) Draft(actor string) (Onboarding, error) {
	return viewGet(s, func(t *Tx) (Onboarding, error) { return t.Draft(actor) })
}
func (s *Store) SetDraft(actor string, o Onboarding) error {
	return s.Update(func(t *Tx) error { return t.SetDraft(actor, o) })
}
