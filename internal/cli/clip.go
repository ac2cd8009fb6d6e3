package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// runClip is `aceswarm clip FILE`: it writes the embedded 16 s test clip (MPEG-TS) to FILE, for a
// source to loop where nothing else feeds it (docker-compose.yml, docs/deploy.md).
func runClip(_ context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm clip")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: aceswarm clip FILE")
	}
	if err := os.WriteFile(fs.Arg(0), testclip.TS, 0o644); err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes)\n", fs.Arg(0), len(testclip.TS))
	return nil
}
