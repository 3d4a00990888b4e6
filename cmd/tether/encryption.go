package main

import "github.com/tetherhq/tether/internal/config"

// doctorEncryption reports whether session values are stored encrypted
// (SESSION_ENCRYPTION_KEY), and with how many previous keys, never a key.
func doctorEncryption(r *report, cfg *config.Config) {
	if len(cfg.EncryptionKeys) == 0 {
		r.ok("session encryption: off; session values (IP, user agent…) and user IDs are stored in the clear; set SESSION_ENCRYPTION_KEY (`openssl rand -hex 32`) to encrypt them")
		return
	}
	r.ok("session encryption: on (AES-256-GCM); %d previous key(s) still decrypt", len(cfg.EncryptionKeys)-1)
}
