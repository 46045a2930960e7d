package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const (
	privVal  = "Wxyzq-s3cr3t-4f9a"
	tokenVal = "Qvbnm-s3cr3t-77c1"
)

const numVal = "90817263540918273645" // a numeric secret someone forgot to quote

// leaks reports any piece (4 characters or more) of a secret found in s, or
// a hex spelling of one.
func leaks(s string) []string {
	var found []string
	for _, v := range []string{privVal, tokenVal, numVal} {
		for i := 0; i+4 <= len(v); i++ {
			if strings.Contains(s, v[i:i+4]) {
				found = append(found, v[i:i+4])
			}
		}
		if strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", v[:4])) {
			found = append(found, "hex of "+v[:4])
		}
	}
	return found
}

func secretConfig(t *testing.T) *Config {
	t.Helper()
	c, err := parse(file, []byte(`[connectwise]
site = "na.myconnectwise.net"
private_key = "`+privVal+`"
[intake]
listen = "127.0.0.1:8088"
`), envMap(map[string]string{EnvIntakeToken: tokenVal}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectWise.PrivateKey.Reveal() != privVal || c.Intake.Token.Reveal() != tokenVal {
		t.Fatal("Reveal does not return the values")
	}
	return c
}

func TestSecretMasking(t *testing.T) {
	c := secretConfig(t)
	s := c.ConnectWise.PrivateKey
	var outputs = map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%-20v", "%T %v"} {
		outputs["Secret "+verb] = fmt.Sprintf(verb, s)
		outputs["Config "+verb] = fmt.Sprintf(strings.Replace(verb, "%T ", "", 1), *c)
		outputs["*Config "+verb] = fmt.Sprintf(strings.Replace(verb, "%T ", "", 1), c)
		outputs["Intake "+verb] = fmt.Sprintf(strings.Replace(verb, "%T ", "", 1), c.Intake)
	}
	outputs["Sprint"] = fmt.Sprint(s, c, *c)
	outputs["Sprintln"] = fmt.Sprintln(s, c)
	outputs["String"] = s.String() + c.Intake.Token.String()
	outputs["GoString"] = s.GoString()
	outputs["Redacted"] = c.Redacted()

	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		l := slog.New(h(&b))
		l.Info("cfg", "key", s, "token", c.Intake.Token, "cfg", c, "val", *c, "cw", c.ConnectWise)
		l.Info("group", slog.Group("g", slog.Any("k", s)))
		outputs[name] = b.String()
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	j, _ = json.Marshal(map[string]any{"s": s, "in": c.Intake})
	outputs["json map"] = string(j)
	var tb bytes.Buffer
	if err := toml.NewEncoder(&tb).Encode(c); err != nil {
		t.Fatal(err)
	}
	outputs["toml"] = tb.String()
	mt, _ := s.MarshalText()
	outputs["MarshalText"] = string(mt)

	for name, out := range outputs {
		if l := leaks(out); len(l) > 0 {
			t.Errorf("%s leaks %q: %s", name, l, out)
		}
	}
	for _, name := range []string{"Secret %v", "Secret %s", "String", "json", "Redacted", "slog text", "slog json", "toml", "MarshalText", "Config %+v"} {
		if !strings.Contains(outputs[name], Mask) {
			t.Errorf("%s does not show the mask: %s", name, outputs[name])
		}
	}
	if got := outputs["Secret %#v"]; got != `secret.Secret("`+Mask+`")` {
		t.Errorf("%%#v = %s", got)
	}
	if got := outputs["Secret %q"]; got != fmt.Sprintf("%q", Mask) {
		t.Errorf("%%q = %s", got)
	}
	var empty Secret
	if got := fmt.Sprintf("%v|%s|%q", empty, empty, empty); got != `||""` || !empty.IsZero() || s.IsZero() {
		t.Errorf("empty secret prints %s", got)
	}
}

// No error text, whatever is wrong, shows a secret's value.
func TestSecretsNeverInErrors(t *testing.T) {
	for _, text := range []string{
		"[connectwise]\nprivate_key = " + privVal + "\n",
		"[connectwise]\nprivate_key = \"" + privVal + "\" " + privVal + "\n",
		"[connectwise]\nprivate_key = " + numVal + "\n",
		"[connectwise]\nprivate_key = 4f9a" + numVal + "\n",
		"[connectwise]\nprivate_key = -" + numVal + "\n",
		"[connectwise]\nprivate_key = " + numVal + ".5e99999\n",
		"[connectwise]\nprivate_key = 1979-13-4f9a\n",
		"[connectwise]\nprivate_key = [\"" + privVal + "\"]\n",
		"[connectwise]\nprivate_key = { v = \"" + privVal + "\" }\n",
		"[connectwise]\nprivate_key = 123\n",
		"[connectwise]\nprivate_key = \"" + privVal + "\\q\"\n",
		"[connectwise]\nprivate_key = \"" + privVal + "\n",
		"[connectwise]\nprivate_key = \"\"\"\n" + privVal + "\n\"\"\"\n",
		"[connectwise]\nprivate_key = \"" + privVal + "\\u0000\"\n",
		"[connectwise]\nprivate_key = \" " + privVal + "\"\n",
		"[connectwise]\nprivate_key = \"" + Mask + "\"\n",
		"connectwise = { private_key = " + privVal + " }\n",
		"connectwise.private_key = '" + privVal + "\n",
		"[intake]\ntoken = " + tokenVal + "\n",
		"[intake]\ntoken = \"" + tokenVal + "\" x\n",
		"[intake]\n\"token\" = " + tokenVal + "\n",
		"[intake]\nlisten = \"127.0.0.1:1\"\ntoken = '" + tokenVal + "\n'\n",
		"[intake]\ntoken = \"" + tokenVal + "\"\ntoken = \"" + tokenVal + "\"\n",
		"[intake]\ntoken = \"" + tokenVal + "\"\nTOKEN = \"" + tokenVal + "\"\n",
		"[intake]\ntoken = true\n",
		"[[workspaces]]\nkey = \"a\"\ncw_company = \"b\"\ntoken = \"" + tokenVal + "\"\n",
	} {
		_, err := Parse(file, []byte(text))
		if err == nil {
			t.Errorf("no error for %q", text)
			continue
		}
		if l := leaks(err.Error()); len(l) > 0 {
			t.Errorf("error for %q leaks %q: %v", text, l, err)
		}
		if e, ok := err.(*Error); !ok || e.Line == 0 || e.File != file {
			t.Errorf("error for %q has no file and line: %v", text, err)
		}
	}
	for _, v := range []string{tokenVal + "\n", " " + tokenVal, Mask} {
		_, err := parse(file, nil, envMap(map[string]string{EnvIntakeToken: v}))
		if err == nil || len(leaks(err.Error())) > 0 || !strings.Contains(err.Error(), EnvIntakeToken) {
			t.Errorf("env %q: %v", v, err)
		}
	}
}

func TestRedacted(t *testing.T) {
	c := secretConfig(t)
	r := c.Redacted()
	for _, want := range []string{"# effective configuration from " + file, "[connectwise]", `site = "na.myconnectwise.net"`,
		`private_key = "` + Mask + `"`, `token = "` + Mask + `"`, `api_version = "2025.8"`, "workers = 4", `reopen = "new"`} {
		if !strings.Contains(r, want) {
			t.Errorf("Redacted lacks %q:\n%s", want, r)
		}
	}
	// A masked secret fed back is refused, not taken as the key.
	if _, err := Parse(file, []byte(r)); err == nil || !strings.Contains(err.Error(), "display mask") {
		t.Errorf("re-parsing the masked form: %v", err)
	}
	// Without secrets the rendering is a config that parses to the same values.
	c.ConnectWise.PrivateKey, c.Intake.Token, c.Intake.Listen = Secret{}, Secret{}, ""
	c.Routes = []Route{{AlertType: "threat", Enabled: false, Board: "S"}}
	c.Workspaces = []Workspace{{Key: "k", CWCompany: "K", MaxUsers: 3}}
	back, err := Parse(file, []byte(c.Redacted()))
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, c.Redacted())
	}
	back.set, c.set = nil, nil
	if fmt.Sprintf("%#v", back) != fmt.Sprintf("%#v", c) {
		t.Errorf("round trip:\n%#v\n%#v", back, c)
	}
	if d := Default().Redacted(); !strings.HasPrefix(d, "# effective configuration (defaults") {
		t.Errorf("Default().Redacted() = %s", d)
	}
}
