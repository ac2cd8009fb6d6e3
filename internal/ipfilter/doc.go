// Package ipfilter is AceStream's traffic filtration (--ip-filter-config): address and country
// groups, a black list, a white list, and per-group connection limits, decided when a connection
// is accepted, before anything is read from it.
package ipfilter
