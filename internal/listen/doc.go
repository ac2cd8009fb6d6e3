// Package listen accepts connections the way a long-running server must: an error that passes
// (out of file descriptors, a connection aborted before it was accepted, a timeout) is waited
// out with a growing pause and never ends the listener.
package listen
