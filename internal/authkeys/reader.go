package authkeys

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Reader serves logins from an authorized_keys file that may change while
// cwbridge runs: the file is parsed again when its size or modification
// time changes, and only then are its bad lines logged (at ERROR, naming
// file and line), so a flood of logins does not flood the log.
type Reader struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	stamp [2]int64 // size, mtime; zero: not read yet
	file  File
	err   error
}

// NewReader reads path once; the error is for a file that cannot be read
// or lists no usable key (nobody could log in).
func NewReader(path string, log *slog.Logger, now func() time.Time) (*Reader, error) {
	if now == nil {
		now = time.Now
	}
	r := &Reader{path: path, log: log, now: now}
	f, err := r.current()
	if err != nil {
		return nil, err
	}
	if len(f.Keys) == 0 {
		return nil, fmt.Errorf("[ssh] authorized_keys %s lists no usable key: nobody could log in", path)
	}
	return r, nil
}

// current returns the parsed file, re-reading it when it changed. When it
// cannot be read any more, the last good version keeps serving (and the
// error is logged once).
func (r *Reader) current() (File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, err := os.Stat(r.path)
	if err == nil {
		stamp := [2]int64{fi.Size(), fi.ModTime().UnixNano()}
		if stamp == r.stamp && r.err == nil {
			return r.file, nil
		}
		var data []byte
		if data, err = os.ReadFile(r.path); err == nil {
			r.stamp, r.err = stamp, nil
			r.file = Parse(r.path, data, time.Local)
			for _, e := range r.file.Errors {
				r.log.Error("authorized_keys: line skipped", "file", e.File, "line", e.Line, "err", e.Err)
			}
			return r.file, nil
		}
	}
	err = fmt.Errorf("[ssh] authorized_keys %s: %w (only the keys listed there get in)", r.path, err)
	if r.err == nil {
		r.log.Error("authorized_keys cannot be read; the last version read stays in use", "file", r.path, "err", err)
	}
	r.err = err
	if r.stamp == [2]int64{} {
		return File{}, err
	}
	return r.file, nil
}

// Allow is the SSH public-key check: the key must be listed and its
// options must let it in from remote now. A listed key refused by its
// options is logged with the reason.
func (r *Reader) Allow(pub gossh.PublicKey, remote net.Addr) (Key, bool) {
	f, err := r.current()
	if err != nil {
		return Key{}, false
	}
	k, reasons, ok := f.Authorize(pub, remote, r.now())
	for _, why := range reasons {
		r.log.Warn("ssh login refused", "key", gossh.FingerprintSHA256(pub), "remote", remote.String(), "reason", why)
	}
	return k, ok
}
