// Package geotest writes small MaxMind country databases for tests (it links mmdbwriter, so only
// tests import it).
package geotest
