package config

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// Redacted renders the effective configuration as TOML with every secret
// shown as Mask (or "" when unset), for `cwbridge config`-style printing and
// logs.
func (c *Config) Redacted() string {
	var b bytes.Buffer
	if c.File != "" {
		var name strings.Builder
		writeOneLine(&name, c.File)
		fmt.Fprintf(&b, "# effective configuration from %s (secrets masked)\n", name.String())
	} else {
		b.WriteString("# effective configuration (defaults; secrets masked)\n")
	}
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil { // cannot happen for these types
		fmt.Fprintf(&b, "# cannot render: %v\n", err)
	}
	return b.String()
}
