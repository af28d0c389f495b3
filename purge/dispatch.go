package purge

import (
	"context"
	"sync"
)

// Dispatch runs send for jobs 0..n-1 with at most concurrency in flight.
// Once ctx ends no job starts; each one left is handed to skip with the
// context's error instead. It returns when every job was sent or skipped.
// Providers use it to spread one Purge over many requests.
func Dispatch(ctx context.Context, n, concurrency int, send func(i int), skip func(i int, err error)) {
	if concurrency < 1 {
		concurrency = 1
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, n) {
		wg.Go(func() {
			for i := range next {
				send(i)
			}
		})
	}
	for i := range n {
		if ctx.Err() == nil {
			select {
			case next <- i:
				continue
			case <-ctx.Done():
			}
		}
		skip(i, ctx.Err())
	}
	close(next)
	wg.Wait()
}
