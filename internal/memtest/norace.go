//go:build !race

package memtest

// Race is true when built with the race detector, which multiplies memory.
const Race = false
