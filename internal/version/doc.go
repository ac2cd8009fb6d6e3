// Package version holds the product version.
package version
