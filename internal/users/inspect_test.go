package users

import (
	"context"
	"os"
	"testing"

	"github.com/tetherhq/tether/passwords"
)

// Inspect summarises a directory without migrating it: a fresh location
// stays without tables, a populated one is counted, a newer schema is
// reported rather than refused.
func TestInspect(t *testing.T) {
	inspect := map[string]func(ctx context.Context, loc string) (Summary, error){
		"sqlite":   InspectSQLite,
		"postgres": InspectPostgres,
	}
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		loc := b.location(t)
		if b.name == "sqlite" {
			if err := os.WriteFile(loc, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // the second time shows the first changed nothing
			sum, err := inspect[b.name](ctx, loc)
			if err != nil || sum.Schema != 0 || sum.Latest != 2 {
				t.Fatalf("fresh: got %+v %v, want schema 0 of 2", sum, err)
			}
		}
		d := b.openAt(t, loc, passwords.NewHasherWith(fast, 1))
		mustAdd(t, d, "alice", "pw-alice-123", RoleUser)
		mustAdd(t, d, "root", "pw-root-123", RoleAdmin)
		mustAdd(t, d, "eve", "pw-eve-123", RoleUser)
		if err := d.SetDisabled(ctx, "eve", true); err != nil {
			t.Fatal(err)
		}
		sum, err := inspect[b.name](ctx, loc)
		if want := (Summary{Schema: 2, Latest: 2, Users: 3, Admins: 1, Disabled: 1}); err != nil || sum != want {
			t.Fatalf("populated: got %+v %v, want %+v", sum, err, want)
		}
		if err := b.exec(d, `INSERT INTO `+schemaTable+` (version) VALUES (99)`); err != nil {
			t.Fatal(err)
		}
		if sum, err = inspect[b.name](ctx, loc); err != nil || sum.Schema != 99 {
			t.Fatalf("newer schema: got %+v %v, want schema 99 reported", sum, err)
		}
	})
}
