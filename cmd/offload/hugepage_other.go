//go:build !linux && !offload_lambda

package main

// hugeHeap does nothing: transparent huge pages are Linux's.
func hugeHeap(int) {}
