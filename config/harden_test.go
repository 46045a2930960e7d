package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestShortIntakeTokenRefusedWithSuggestion(t *testing.T) {
	_, err := Parse(file, []byte("[intake]\nlisten = \"127.0.0.1:8088\"\ntoken = \"x\"\n"))
	checkErr(t, errCase{line: 3, key: "intake.token", msg: "is 1 characters; use at least 16"}, err)
	m := regexp.MustCompile(`generated ([0-9a-f]{32})\)`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("no generated token suggested: %v", err)
	}
	if c, err := Parse(file, []byte("[intake]\nlisten = \"127.0.0.1:8088\"\ntoken = \""+m[1]+"\"\n")); err != nil || c.Intake.Token.Reveal() != m[1] {
		t.Fatalf("the suggested token is refused: %v", err)
	}
	// From the environment: named, no line, the value not echoed.
	_, err = parse(file, []byte("[intake]\nlisten = \"127.0.0.1:8088\"\n"), envMap(map[string]string{EnvIntakeToken: "short-secret"}))
	if err == nil || !strings.Contains(err.Error(), "from environment variable CWBRIDGE_INTAKE_TOKEN: is 12 characters") || strings.Contains(err.Error(), "short-secret") {
		t.Fatalf("env: %v", err)
	}
}

func TestPlainHTTPOnTheNetwork(t *testing.T) {
	tok := "\ntoken = \"0123456789abcdef0123\"\n"
	for _, listen := range []string{":8088", "0.0.0.0:8088", "10.0.0.5:8088", "[::]:8088", "intake.example.com:8088"} {
		_, err := Parse(file, []byte("[intake]\nlisten = \""+listen+"\""+tok))
		checkErr(t, errCase{line: 2, key: "intake.listen", msg: "no TLS"}, err)
		c, err := Parse(file, []byte("[intake]\nlisten = \""+listen+"\"\nallow_plain_http = true"+tok))
		if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "in clear") {
			t.Fatalf("%s with allow_plain_http: %v %q", listen, err, c.Warnings)
		}
		c, err = Parse(file, []byte("[intake]\nlisten = \""+listen+"\"\ncert_file = \"c.pem\"\nkey_file = \"k.pem\""+tok))
		if err != nil || len(c.Warnings) != 0 || !c.Intake.TLS() {
			t.Fatalf("%s with TLS: %v %q", listen, err, c.Warnings)
		}
	}
	for _, listen := range []string{"127.0.0.1:8088", "[::1]:8088", "localhost:8088", "127.3.4.5:0"} {
		if c, err := Parse(file, []byte("[intake]\nlisten = \""+listen+"\""+tok)); err != nil || len(c.Warnings) != 0 {
			t.Fatalf("%s: %v %q", listen, err, c.Warnings)
		}
	}
	_, err := Parse(file, []byte("[intake]\nlisten = \"127.0.0.1:1\"\ncert_file = \"c.pem\""+tok))
	checkErr(t, errCase{line: 3, key: "intake.cert_file", msg: "needs intake.key_file"}, err)
}

func TestReadableConfigWithSecretsWarns(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secretText := "[connectwise]\nprivate_key = \"pk-value-xyz\"\n"
	p := write("world.toml", secretText, 0o644)
	c, err := load(p, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "connectwise.private_key") || !strings.Contains(c.Warnings[0], "other users") ||
		!strings.Contains(c.Warnings[0], "chmod 600 "+p) || strings.Contains(c.Warnings[0], "pk-value-xyz") {
		t.Fatalf("warnings %q", c.Warnings)
	}
	c, _ = load(write("group.toml", secretText, 0o640), envMap(nil))
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "its group") {
		t.Fatalf("group-readable: %q", c.Warnings)
	}
	for name, tc := range map[string]struct {
		text string
		mode os.FileMode
		env  map[string]string
	}{
		"private":    {secretText, 0o600, nil},
		"no secrets": {"[engine]\nworkers = 2\n", 0o644, nil},
		"env wins":   {secretText, 0o644, map[string]string{EnvPrivateKey: "from-env"}},
	} {
		c, err := load(write(name+".toml", tc.text, tc.mode), envMap(tc.env))
		if err != nil || len(c.Warnings) != 0 {
			t.Errorf("%s: %v %q", name, err, c.Warnings)
		}
	}
}

// A secret pasted into a field that is not secret is not echoed back.
func TestSecretPastedIntoSiteNotEchoed(t *testing.T) {
	const key = "Zq8vN3xL5pR7tY2w"
	for _, text := range []string{
		"[connectwise]\nsite = \"" + key + "!\"\n",
		"[connectwise]\nsite = \"" + key + "/x\"\n",
		"[connectwise]\nsite = \"https://me:" + key + "@na.myconnectwise.net\"\n",
		"[connectwise]\nsite = \"" + key + " \"\nprivate_key = \"" + key + " \"\n",
		"[connectwise]\nsite = \" " + key + "\"\n",
	} {
		_, err := Parse(file, []byte(text))
		if err == nil {
			t.Fatalf("accepted %q", text)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("error echoes the secret: %v", err)
		}
	}
	// A value that looks like a site is still quoted, to help.
	_, err := Parse(file, []byte("[connectwise]\nsite = \"ftp://na.myconnectwise.net\"\n"))
	if err == nil || !strings.Contains(err.Error(), `"ftp://na.myconnectwise.net"`) {
		t.Fatalf("%v", err)
	}
}

func TestMaxSession(t *testing.T) {
	for v, ok := range map[string]bool{"24h": true, "0s": true, "1m": true, "30s": false, "-1h": false, "forever": false} {
		c, err := Parse(file, []byte("[ssh]\nlisten = \"127.0.0.1:2222\"\nmax_session = \""+v+"\"\n"))
		if (err == nil) != ok {
			t.Errorf("max_session %q: %v", v, err)
		}
		if err == nil && v == "0s" && c.SSH.MaxSession.Duration != 0 {
			t.Errorf("0s is %v", c.SSH.MaxSession)
		}
	}
}

func TestActionsKeys(t *testing.T) {
	c := mustParse(t, "[actions]\ncommand = \"x\"\ntimeout = \"5m\"\nallowed_members = [\"jdoe\"]\npass_env = [\"AWS_PROFILE\"]\n")
	if c.Actions.Timeout.Minutes() != 5 || c.Actions.AllowedMembers[0] != "jdoe" || c.Actions.PassEnv[0] != "AWS_PROFILE" {
		t.Fatalf("%+v", c.Actions)
	}
	for _, tc := range []errCase{
		{text: "[actions]\ntimeout = \"0s\"\n", line: 2, key: "actions.timeout", msg: "between 1s and 1h0m0s, not 0s"},
		{text: "[actions]\ntimeout = 60\n", line: 2, key: "actions.timeout", msg: "must be a duration string"},
		{text: "[actions]\npass_env = [\"CWBRIDGE_PRIVATE_KEY\"]\n", line: 2, key: "actions.pass_env[0]", msg: "never passed"},
		{text: "[actions]\npass_env = [\"A B\"]\n", line: 2, key: "actions.pass_env[0]", msg: "not an environment variable name"},
		{text: "[actions]\nallowed_members = [\"\"]\n", line: 2, key: "actions.allowed_members[0]", msg: "required"},
		{text: "[actions]\nallowed_members = [1]\n", line: 2, key: "actions.allowed_members[0]", msg: "must be a string"},
		{text: "[actions]\nallowed_members = \"jdoe\"\n", line: 2, key: "actions.allowed_members", msg: "array of strings"},
	} {
		_, err := Parse(file, []byte(tc.text))
		checkErr(t, tc, err)
	}
}
