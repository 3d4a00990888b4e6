package tether_test

import (
	"testing"

	"github.com/tetherhq/tether/internal/testenv/encbench"
	"github.com/tetherhq/tether/memstore"
)

// BenchmarkEncryption is the middleware's hot paths with
// Config.EncryptionKeys off and on (see encbench.Run), on memstore: the
// figures are the CPU cost of encryption; a networked store adds one round
// trip to /views (redisstore's BenchmarkEncryption).
func BenchmarkEncryption(b *testing.B) {
	encbench.Run(b, memstore.New(), secretA)
}
