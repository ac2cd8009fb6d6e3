package bench

import (
	"fmt"
	"syscall"
)

// fdsPerViewer is the open files a viewer engine of the bench may hold beyond one per peer: its
// player, tracker, listening sockets and dials in flight.
const fdsPerViewer = 15

// raiseFileLimit makes room for the run's sockets: it raises this process's open-file limit to
// what the viewers need (a process may raise its soft limit to the hard one; root may raise both),
// and says so when it cannot.
func raiseFileLimit(viewers, peers int) error {
	need := uint64(viewers*(peers+fdsPerViewer) + 1000)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // not knowable here: go on
	}
	if lim.Cur >= need {
		return nil
	}
	want := syscall.Rlimit{Cur: need, Max: max(lim.Max, need)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return nil
	}
	if lim.Max >= need {
		lim.Cur = need
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
			return nil
		}
	}
	return fmt.Errorf("--viewers %d needs about %d open files; this process may open %d (raise `ulimit -n`, or lower --viewer-peers)", viewers, need, lim.Max)
}
