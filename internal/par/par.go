// Package par runs independent calls with bounded concurrency.
package par

import "sync"

// Run runs every job, at most n at once, and returns when all are done. A
// single job runs on the caller's goroutine.
func Run(jobs []func(), n int) {
	if len(jobs) == 1 {
		jobs[0]()
		return
	}
	if n <= 0 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			j()
		})
	}
	wg.Wait()
}
