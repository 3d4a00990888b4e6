package pgstore

// The statements that must use an index, for the plan test.
const (
	ListUserSQL   = listUserSQL
	DeleteUserSQL = deleteUserSQL
	SweepSQL      = sweepSQL
)

// UpdateSQL is Update's statement, for the plan test of its Expect check.
const UpdateSQL = updateSQL
