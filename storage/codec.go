package storage

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// decode unmarshals a stored value, turning any failure into a CorruptError
// that names the bucket and key.
func decode(p bucketPath, k, v []byte, out any) error {
	if err := json.Unmarshal(v, out); err != nil {
		return corrupt(p, k, fmt.Errorf("invalid JSON: %w", err))
	}
	return nil
}

// getJSON reads one record; a missing key wraps ErrNotFound.
func getJSON(tx *bolt.Tx, p bucketPath, k []byte, out any) error {
	b, err := getBucket(tx, p)
	if err != nil {
		return err
	}
	v := b.Get(k)
	if v == nil {
		return notFound(p, k)
	}
	return decode(p, k, v, out)
}

// putJSON writes one record.
func putJSON(tx *bolt.Tx, p bucketPath, k []byte, in any) error {
	if err := checkKey(p, k); err != nil {
		return err
	}
	b, err := getBucket(tx, p)
	if err != nil {
		return err
	}
	v, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("storage: encode %s/%s: %w", p, p.keyString(k), err)
	}
	return b.Put(k, v)
}

func checkKey(p bucketPath, k []byte) error {
	if len(k) == 0 {
		return invalid("empty key in %s", p)
	}
	if len(k) > bolt.MaxKeySize {
		return invalid("key of %d bytes in %s exceeds %d", len(k), p, bolt.MaxKeySize)
	}
	return nil
}

// listJSON decodes every value of a bucket with decodeOne. Undecodable
// records are skipped and reported together in the returned error, so one
// bad record does not hide the others: callers get the good ones and an
// error that errors.As finds a *CorruptError in.
func listJSON(tx *bolt.Tx, p bucketPath, decodeOne func(k, v []byte) error) error {
	b, err := getBucket(tx, p)
	if err != nil {
		return err
	}
	var bad []error
	err = b.ForEach(func(k, v []byte) error {
		if v == nil { // a sub-bucket
			return nil
		}
		if err := decodeOne(k, v); err != nil {
			var ce *CorruptError
			if errors.As(err, &ce) {
				bad = append(bad, err)
				return nil
			}
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(bad...)
}

func joinErrs(errs []error) error { return errors.Join(errs...) }

// viewGet runs fn in a View and hands back its result; with a partial list
// both the result and the error are returned.
func viewGet[T any](s *Store, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.View(func(t *Tx) error {
		var err error
		out, err = fn(t)
		return err
	})
	return out, err
}

// updateGet is viewGet for writes.
func updateGet[T any](s *Store, fn func(*Tx) (T, error)) (T, error) {
	var out T
	err := s.Update(func(t *Tx) error {
		var err error
		out, err = fn(t)
		return err
	})
	return out, err
}
