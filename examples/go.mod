module github.com/tetherhq/tether/examples

go 1.26.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/tetherhq/tether v0.0.0
)

replace github.com/tetherhq/tether => ../
