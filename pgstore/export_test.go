package pgstore

// The statements that must use an index, for the plan test.
const (
	ListUserSQL   = listUserSQL
	DeleteUserSQL = deleteUserSQL
	SweepSQL      = sweepSQL
)
