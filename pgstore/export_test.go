package pgstore

// The statements of the per-user index, for the plan test.
const (
	ListUserSQL   = listUserSQL
	DeleteUserSQL = deleteUserSQL
)
