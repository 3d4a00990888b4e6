package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/tetherhq/tether/internal/testenv/renewtest"
	"github.com/tetherhq/tether/sqlitestore"
)

// Renewal with theft detection on SQLite (issue 11.3).
func TestRenewal(t *testing.T) {
	renewtest.Run(t, open(t, filepath.Join(t.TempDir(), "tether.db"), sqlitestore.Options{}))
}
