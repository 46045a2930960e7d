package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
)

// GenerateToken returns a fresh random intake token (32 hex digits, 128
// bits), as suggested in the error for a token that is too short.
func GenerateToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// maskSecrets replaces the configured secrets' values, wherever a message
// quotes them (a private key pasted into site, say), with Mask.
func maskSecrets(err error, c *Config) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	for _, s := range []Secret{c.ConnectWise.PrivateKey, c.Intake.Token} {
		if v := s.Reveal(); len(v) >= 4 && strings.Contains(e.Msg, v) {
			e.Msg = strings.ReplaceAll(e.Msg, v, Mask)
		}
	}
	return err
}
