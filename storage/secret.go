package storage

import "github.com/cwbridge/cwbridge/internal/secret"

// Secret is the one credential type of cwbridge (see package secret); the
// aliases keep storage's API self-contained.
type Secret = secret.Secret

// Mask is what every printing path shows instead of a secret's value.
const Mask = secret.Mask

// NewSecret wraps a value.
func NewSecret(v string) Secret { return secret.New(v) }
