module github.com/tetherhq/tether/examples

go 1.26.0

require github.com/tetherhq/tether v0.0.0

replace github.com/tetherhq/tether => ../
