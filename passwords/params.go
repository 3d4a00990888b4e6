package passwords

import "fmt"

// Params are Argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes (parallelism)
	SaltLen int    // bytes
	KeyLen  int    // bytes
}

// Default is OWASP's minimum recommended Argon2id configuration: 19 MiB,
// two passes, one lane, 16-byte salt, 32-byte key.
var Default = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Length limits on a new password, in bytes. The upper one bounds the work an
// attacker can make one request cost (Argon2id first hashes the password
// with BLAKE2b, which is linear in its length).
const (
	MinLength = 8
	MaxLength = 1024
)

// Limits on parameters, for new Hashers and for stored hashes alike, so that
// a corrupted or hostile row cannot make a login allocate unbounded memory or
// spin.
const (
	MaxMemory  = 1 << 20 // KiB: 1 GiB
	MaxTime    = 100
	MaxThreads = 64
	MinSaltLen = 8
	MaxSaltLen = 64
	MinKeyLen  = 16
	MaxKeyLen  = 128
	maxPHCLen  = 512
)

// valid reports what is wrong with p, or "" when it is within the limits.
func (p Params) valid() string {
	switch {
	case p.Threads < 1 || p.Threads > MaxThreads:
		return fmt.Sprintf("threads %d not in 1-%d", p.Threads, MaxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxMemory:
		return fmt.Sprintf("memory %d KiB not in 8×threads-%d", p.Memory, MaxMemory)
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Sprintf("time %d not in 1-%d", p.Time, MaxTime)
	case p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Sprintf("salt length %d not in %d-%d", p.SaltLen, MinSaltLen, MaxSaltLen)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Sprintf("key length %d not in %d-%d", p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	return ""
}
