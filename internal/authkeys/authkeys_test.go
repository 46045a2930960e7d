package authkeys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func newPub(t testing.TB) gossh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func line(p gossh.PublicKey) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(p)))
}

func tcp(s string) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		panic(err)
	}
	return a
}

var now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func TestCommentsAndBlankLinesTheOpenSSHWay(t *testing.T) {
	a, b := newPub(t), newPub(t)
	data := "  # indented comment\n\t#tab comment\n   \n\r\n" + line(a) + " ann@laptop\r\n   " + line(b) + "\n#" + line(newPub(t)) + "\n"
	f := Parse("ak", []byte(data), time.UTC)
	if len(f.Errors) != 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	if len(f.Keys) != 2 || f.Keys[0].Line != 5 || f.Keys[0].Comment != "ann@laptop" || f.Keys[1].Line != 6 {
		t.Fatalf("keys: %+v", f.Keys)
	}
}

// A bad line is reported with its line number and skipped; the keys after
// it still get in.
func TestBadLineNeverLocksOutOthers(t *testing.T) {
	a, b := newPub(t), newPub(t)
	data := line(a) + "\nssh-ed25519 AAAA-not-base64 broken\nnonsense here\n" + line(b) + "\n"
	f := Parse("/etc/cwbridge/authorized_keys", []byte(data), time.UTC)
	if len(f.Errors) != 2 || f.Errors[0].Line != 2 || f.Errors[1].Line != 3 {
		t.Fatalf("errors: %v", f.Errors)
	}
	if !strings.HasPrefix(f.Errors[0].Error(), "/etc/cwbridge/authorized_keys:2: ") {
		t.Fatalf("error text: %v", f.Errors[0])
	}
	for _, k := range []gossh.PublicKey{a, b} {
		if _, _, ok := f.Authorize(k, tcp("127.0.0.1:5000"), now); !ok {
			t.Fatal("a good key was locked out")
		}
	}
}

func TestOptions(t *testing.T) {
	k := newPub(t)
	lan := tcp("10.1.2.3:40000")
	lo := tcp("127.0.0.1:40000")
	v6 := tcp("[2001:db8::7]:40000")
	for _, c := range []struct {
		opts   string
		remote net.Addr
		ok     bool
		why    string
	}{
		{``, lo, true, ""},
		{`from="10.9.9.9"`, lo, false, "from="},
		{`from="10.9.9.9"`, tcp("10.9.9.9:1"), true, ""},
		{`from="10.0.0.0/8"`, lan, true, ""},
		{`from="10.0.0.0/8,!10.1.2.3"`, lan, false, "from="},
		{`from="!10.1.2.3,10.*"`, lan, false, "from="},
		{`from="10.1.2.?"`, lan, true, ""},
		{`from="10.1.*"`, lo, false, "from="},
		{`from="2001:db8::/32"`, v6, true, ""},
		{`from="127.0.0.1"`, tcp("[::ffff:127.0.0.1]:22"), true, ""},
		{`expiry-time="20261201"`, lo, false, "expired"},
		{`expiry-time="20261202100001Z"`, lo, true, ""},
		{`expiry-time="202612020959Z"`, lo, false, "expired"},
		{`no-pty`, lo, false, "no-pty"},
		{`NO-PTY`, lo, false, "no-pty"},
		{`command="/bin/true"`, lo, false, "command="},
		{`restrict`, lo, true, ""},
		{`restrict,pty`, lo, true, ""},
		{`no-port-forwarding,no-agent-forwarding,no-X11-forwarding`, lo, true, ""},
		{`restrict,from="127.0.0.0/8",expiry-time="20300101"`, lo, true, ""},
	} {
		l := line(k)
		if c.opts != "" {
			l = c.opts + " " + l
		}
		f := Parse("ak", []byte(l+" tech\n"), time.UTC)
		if len(f.Errors) != 0 {
			t.Errorf("%s: %v", c.opts, f.Errors)
			continue
		}
		_, reasons, ok := f.Authorize(k, c.remote, now)
		if ok != c.ok || (!ok && (len(reasons) != 1 || !strings.Contains(reasons[0], c.why) || !strings.HasPrefix(reasons[0], "ak:1: "))) {
			t.Errorf("%s from %s: ok=%v reasons=%q, want ok=%v (%s)", c.opts, c.remote, ok, reasons, c.ok, c.why)
		}
	}
}

func TestBadOptionsSkipTheLine(t *testing.T) {
	k := line(newPub(t))
	for _, opts := range []string{
		`from=10.0.0.1`, `from=""`, `from="10.0.0.0/99"`, `from="[x"`, `expiry-time="tomorrow"`,
		`no-pty="x"`, `command`, `cert-authority`, `frobnicate`, `from="a",from="b"`,
	} {
		f := Parse("ak", []byte(opts+" "+k+"\n"), time.UTC)
		if len(f.Keys) != 0 || len(f.Errors) != 1 {
			t.Errorf("%s: keys %d errors %v", opts, len(f.Keys), f.Errors)
		}
	}
}

// sshd tries every line holding the key: a refusing line does not hide a
// later one that lets the key in.
func TestSameKeyOnTwoLines(t *testing.T) {
	k := newPub(t)
	f := Parse("ak", []byte(`from="10.9.9.9" `+line(k)+"\n"+line(k)+"\n"), time.UTC)
	if _, _, ok := f.Authorize(k, tcp("127.0.0.1:1"), now); !ok {
		t.Fatal("the unrestricted line was not tried")
	}
	if _, _, ok := f.Authorize(newPub(t), tcp("127.0.0.1:1"), now); ok {
		t.Fatal("an unlisted key got in")
	}
}

// The Reader picks up edits and logs each bad line once, at ERROR, with
// the file and line.
func TestReaderRereadsAndLogsOnce(t *testing.T) {
	a, b := newPub(t), newPub(t)
	path := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(path, []byte(line(a)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r, err := NewReader(path, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Allow(b, tcp("127.0.0.1:1")); ok {
		t.Fatal("b is not listed yet")
	}
	// An edit adds a bad line before b (size changes, so it is re-read).
	if err := os.WriteFile(path, []byte(line(a)+"\n  # ok comment\nbroken line\n"+line(b)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, ok := r.Allow(b, tcp("127.0.0.1:1")); !ok {
			t.Fatal("b locked out by the bad line before it")
		}
		if _, ok := r.Allow(a, tcp("127.0.0.1:1")); !ok {
			t.Fatal("a locked out")
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "file="+path+" line=3") {
		t.Fatalf("logs (%d errors):\n%s", n, logs.String())
	}
}

func TestReaderNeedsAUsableKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authorized_keys")
	os.WriteFile(path, []byte("# nobody\nbroken\n"), 0o600)
	if _, err := NewReader(path, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "no usable key") {
		t.Fatalf("err %v", err)
	}
	if _, err := NewReader(path+".missing", slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), path+".missing") {
		t.Fatalf("err %v", err)
	}
}

func FuzzParse(f *testing.F) {
	k := line(newPub(f))
	for _, s := range []string{
		k, "  # c\n" + k, `from="10.0.0.0/8,!10.1.*" ` + k, `expiry-time="20300101Z",restrict ` + k,
		`command="echo \"hi\"" ` + k, "\x00\xff", `from="` + k,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pf := Parse("ak", []byte(s), time.UTC)
		lines := strings.Count(s, "\n") + 1
		for _, e := range pf.Errors {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("error line %d of %d", e.Line, lines)
			}
		}
		for _, key := range pf.Keys {
			if key.PublicKey == nil || key.Line < 1 || key.Line > lines {
				t.Fatalf("bad key %+v", key)
			}
			_ = key.Refusal(tcp("127.0.0.1:1"), now)
			if _, _, ok := pf.Authorize(key.PublicKey, tcp("127.0.0.1:1"), now); ok != (key.Refusal(tcp("127.0.0.1:1"), now) == "") && len(pf.Keys) == 1 {
				t.Fatalf("Authorize and Refusal disagree for %q", s)
			}
		}
	})
}

// TestNameAndRole: the comment names the technician; the word role=viewer
// in it makes the key read-only; no comment falls back to the fingerprint.
func TestNameAndRole(t *testing.T) {
	a, b, c := newPub(t), newPub(t), newPub(t)
	data := line(a) + " ann@laptop\n" + line(b) + " bob@desk role=viewer\n" + line(c) + "\n"
	f := Parse("ak", []byte(data), time.UTC)
	if len(f.Keys) != 3 {
		t.Fatalf("keys: %+v %v", f.Keys, f.Errors)
	}
	for i, want := range []struct {
		name   string
		viewer bool
	}{{"ann@laptop", false}, {"bob@desk", true}, {gossh.FingerprintSHA256(c), false}} {
		if k := f.Keys[i]; k.Name() != want.name || k.Viewer() != want.viewer {
			t.Errorf("key %d: name %q viewer %v, want %q %v", i, k.Name(), k.Viewer(), want.name, want.viewer)
		}
	}
}
