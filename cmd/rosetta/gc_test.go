package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// Not parallel: GOGC and the collector's setting are the process's.
func TestServeRunsTheCollectorAt200UnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	tuneGC()
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GOGC empty: collector at %d, want %d", got, serveGCPercent)
	}
	os.Unsetenv("GOGC")
	tuneGC()
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GOGC unset: collector at %d, want %d", got, serveGCPercent)
	}
	t.Setenv("GOGC", "150") // as if the runtime had read it at start
	debug.SetGCPercent(150)
	tuneGC()
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GOGC=150: collector at %d, want the environment's 150", got)
	}
}
