// Package passwords hashes passwords with Argon2id (RFC 9106) and stores them
// as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are unpadded standard base64.
//
// # Parameters
//
// [Default] is m = 19456 KiB (19 MiB), t = 2 passes, p = 1 lane, a 16-byte
// salt from crypto/rand and a 32-byte key: the first of the equivalent
// minimum configurations for Argon2id in the OWASP Password Storage Cheat
// Sheet (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html,
// "Argon2id": m=19456 (19 MiB), t=2, p=1). On current hardware one hash
// takes tens of milliseconds (see BenchmarkHash). Stored hashes carry their
// own parameters, so hashes made with other parameters still verify;
// [Hasher.Verify] reports them as needing a rehash, so raising the parameters later upgrades
// every account at its next successful login.
//
// # Use
//
// Share one Hasher ([NewHasher]) per process. To create an account or
// change a password, store the string [Hasher.Hash] returns. To log in,
// look the user up and call [Hasher.Verify] with the stored string; when
// the user is unknown, call [Hasher.Dummy] instead and refuse, so that both
// answers take the same time. When Verify reports ok and needsRehash, hash
// the password again and store the new string: that is how accounts move to
// new parameters (see the Hasher.Verify example).
//
// # Threat model
//
//   - A stolen user table costs an attacker one Argon2id computation, with
//     19 MiB of memory, per guess and per account (unique salts).
//   - A login flood must not exhaust memory: each computation holds m KiB, so
//     a [Hasher] runs at most a fixed number at once (default
//     max(2, GOMAXPROCS)); memory is bounded by concurrency × m. Further
//     callers wait in line and give up when their context ends.
//   - A corrupted or hostile stored hash must not make a login allocate
//     unbounded memory or spin: [Parse] accepts only canonical strings within
//     fixed limits (m ≤ 1 GiB, t ≤ 100, p ≤ 64, salt 8-64 bytes, key 16-128
//     bytes, 512 characters in all).
//   - The answer's timing must not reveal whether a user exists: [Hasher.Dummy] spends
//     exactly one verification and always fails, for callers to use when
//     the user is unknown. It works with the parameters of the stored hashes
//     the Hasher verified most often recently ([Hasher.DummyParams]), so
//     after a change of parameters unknown users cost what the accounts
//     still on the old parameters cost, not what the new ones will. (The
//     accounts in the minority still answer at their own speed until their
//     rehash.)
//   - Keys are compared in constant time (crypto/subtle).
//   - Errors never contain a password or a hash.
//
// Passwords are compared as bytes: no Unicode normalisation is applied, so
// callers that accept non-ASCII passwords should normalise them first if
// they want visually equal passwords to match.
//
// # Concurrency
//
// A Hasher is safe for concurrent use by any number of goroutines; share one
// per process so its concurrency bound is global.
package passwords
