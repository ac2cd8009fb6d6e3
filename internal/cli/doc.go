// Package cli parses aceswarm's command line (AceStream's engine flags and the subcommands) and
// runs the chosen component. Exit codes: 0 ok, 1 runtime failure, 2 usage error.
package cli
