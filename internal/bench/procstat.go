package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The cost of a server process measured from outside, from Linux's /proc: CPU seconds (user +
// system) and peak resident memory.

// clockTicks is USER_HZ, which is 100 on every Linux platform Go supports.
const clockTicks = 100

// procCPU returns the CPU seconds process pid has used.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("--pid %d: %w", pid, err)
	}
	// the command name may hold spaces: the fields start after its closing parenthesis
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("--pid %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("--pid %d: bad /proc stat", pid)
	}
	return float64(utime+stime) / clockTicks, nil
}

// procPeakRSS returns the peak resident set size (VmHWM) of process pid in bytes.
func procPeakRSS(pid int) (int64, error) { return procStatus(pid, "VmHWM") }

// procRSS returns the resident set size (VmRSS) of process pid in bytes.
func procRSS(pid int) (int64, error) { return procStatus(pid, "VmRSS") }

// procStatus returns a kB field of /proc/pid/status in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("--pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("--pid %d: bad %s", pid, field)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("--pid %d: no %s", pid, field)
}
