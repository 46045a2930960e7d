package config

import (
	"bufio"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const examplePath = "../config.example.toml"

func readExample(t testing.TB) []byte {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatalf("read example: %v", err)
	}
	return data
}

// schemaKeys lists every key path Config can hold, with "[0]" for arrays of
// tables: "connectwise.site", "routes[0].board", ...
func schemaKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for _, f := range tomlFields(t) {
		k := f.name
		if prefix != "" {
			k = prefix + "." + k
		}
		switch f.typ.Kind() {
		case reflect.Struct:
			keys = append(keys, schemaKeys(f.typ, k)...)
		case reflect.Slice:
			if f.typ.Elem().Kind() == reflect.String {
				keys = append(keys, k)
				continue
			}
			keys = append(keys, schemaKeys(f.typ.Elem(), k+"[0]")...)
		default:
			keys = append(keys, k)
		}
	}
	return keys
}

// The example documents exactly the keys the code knows, each with a
// comment, and its sections show the defaults the code uses.
func TestExampleFile(t *testing.T) {
	data := readExample(t)
	c, err := parse("config.example.toml", data, envMap(nil))
	if err != nil {
		t.Fatalf("example does not load: %v", err)
	}

	// Decoded plainly too: no key the struct does not have.
	var plain Config
	md, err := toml.Decode(string(data), &plain)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Errorf("example has unknown keys %v", und)
	}

	// Every key the code knows is in the example.
	keys := schemaKeys(configType, "")
	if len(keys) < 30 {
		t.Fatalf("schemaKeys found only %d keys", len(keys))
	}
	for _, k := range keys {
		if !c.IsSet(k) {
			t.Errorf("example does not document %s", k)
		}
	}

	// The single-valued sections hold exactly the defaults.
	d := Default()
	if len(c.Actions.AllowedMembers)+len(c.Actions.PassEnv) == 0 { // [] in the file, nil by default
		c.Actions.AllowedMembers, c.Actions.PassEnv = nil, nil
	}
	if c.ConnectWise != d.ConnectWise || c.Intake != d.Intake || c.SSH != d.SSH || c.Engine != d.Engine || !reflect.DeepEqual(c.Actions, d.Actions) || c.Retention != d.Retention {
		t.Errorf("example values differ from Default():\nexample %+v %+v %+v %+v %+v %+v\ndefault %+v %+v %+v %+v %+v %+v",
			c.ConnectWise, c.Intake, c.SSH, c.Engine, c.Actions, c.Retention, d.ConnectWise, d.Intake, d.SSH, d.Engine, d.Actions, d.Retention)
	}
	if len(c.Routes) == 0 || len(c.Products) == 0 || len(c.Workspaces) == 0 {
		t.Error("example shows no routes, products or workspaces")
	}

	// Each key line has a one-line comment saying its default (or that it
	// is required), and holds no real-looking secret.
	keyLine := regexp.MustCompile(`^\s*([a-z_]+)\s*=\s*(.*?)\s*#\s*(.*)$`)
	anyKey := regexp.MustCompile(`^\s*[a-z_]+\s*=`)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !anyKey.MatchString(line) {
			continue
		}
		m := keyLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %d has no comment: %s", n, line)
			continue
		}
		if !strings.Contains(m[3], "default") && !strings.Contains(m[3], "required") {
			t.Errorf("line %d: comment gives no default: %s", n, line)
		}
		if (m[1] == "private_key" || m[1] == "token") && m[2] != `""` {
			t.Errorf("line %d: the example holds a secret value: %s", n, line)
		}
	}
}

// The documented default in each comment matches the value on the line, so
// the example's "default X" texts cannot drift from the code either.
func TestExampleCommentsMatchDefaults(t *testing.T) {
	data := readExample(t)
	re := regexp.MustCompile(`^\s*([a-z_]+)\s*=\s*(.*?)\s*#.*; default (\S+)`)
	inArrays := false
	checked := 0
	for n, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "[[") {
			inArrays = true
		}
		m := re.FindStringSubmatch(line)
		if m == nil || inArrays {
			continue
		}
		checked++
		if m[2] != m[3] {
			t.Errorf("line %d: value %s but comment says default %s", n+1, m[2], m[3])
		}
	}
	if checked < 15 {
		t.Errorf("only %d lines checked", checked)
	}
}
