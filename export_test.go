package tether

// Internals for the external tests.

// SignToken returns the cookie value of tok, signed as m signs.
func SignToken(m *Manager, tok []byte) string { return m.signer.sign(tok) }

// AnonTokenTag is the first byte of a token minted for an anonymous record.
const AnonTokenTag = anonTokenTag
