//go:build race

package e2e

// raceBuild builds the binary under test with the race detector when the tests run with it.
const raceBuild = true
