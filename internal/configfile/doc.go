// Package configfile re-reads a configuration file when it changes, and on SIGHUP, keeping the
// configuration in force when an edit is bad.
package configfile
