package config

import "github.com/cwbridge/cwbridge/internal/secret"

// Mask is what every printing path shows instead of a set secret.
const Mask = secret.Mask

// Secret is a configured credential (connectwise.private_key,
// intake.token): package secret's type, so the config, the store and the
// screens share one masking implementation. Only Reveal returns the value;
// to persist it, store Reveal() explicitly.
type Secret = secret.Secret
