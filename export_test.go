package tether

// WithRenewalSecret returns the cookie value for the token of value (a
// verified cookie value of m) with renewal secret rs (nil: a version-1
// value), signed as m signs. Tests use it to present a secret the session
// never had; it panics on a value m does not verify.
func WithRenewalSecret(m *Manager, value string, rs []byte) string {
	tok, _, _, ok := m.signer.verify(value)
	if !ok {
		panic("WithRenewalSecret: not a cookie value of this Manager")
	}
	return m.signer.sign(tok, rs)
}
