// Package engine composes a node: source, support, startup or viewer engine.
package engine
