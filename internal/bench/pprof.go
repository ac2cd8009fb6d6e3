package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// writeHeapProfile writes a pprof heap profile of this process to path ("" writes none). The
// swarm bench writes it while its viewers still run, when the memory is at its fullest.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC() // up-to-date statistics of what is live
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}

// StartCPUProfile starts a pprof CPU profile of this process written to path ("" profiles
// nothing); the returned function stops it and closes the file.
func StartCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}
