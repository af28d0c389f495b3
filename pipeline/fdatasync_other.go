//go:build !linux

package pipeline

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
