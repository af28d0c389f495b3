package pipeline

import (
	"context"
	"fmt"

	"github.com/offload-dev/offload/event"
)

// replanDepth counts the replans in a context, to bound them.
type replanDepth struct{}

// maxReplans bounds how often one change is planned again after losing
// the race to the ledger: each loss means another writer recorded the
// object meanwhile.
const maxReplans = 3

// replan applies again, against the ledger as it is now, the purged
// changes whose ledger commit came back stale: another writer (a replica,
// a Lambda environment) recorded the object between this batch's read and
// its commit, and planned from a view without these changes. It may have
// skipped a put as unchanged against an older record, so this batch's
// purge, which may have run before that put, would be the last. Planned
// again, a change that writer's purge covers is skipped as stale or a
// duplicate; one that changed the object after its last purge is purged
// again, after the newer change, and recorded. A replan's failure fails
// the change, so its message is delivered again.
func (p *Pipeline) replan(ctx context.Context, res *Result, pl planView, lost []int, fail func(int, error)) {
	depth, _ := ctx.Value(replanDepth{}).(int)
	if len(lost) == 0 || depth >= maxReplans {
		return
	}
	changes := make([]event.Change, len(lost))
	for j, i := range lost {
		changes[j] = pl.decision(i).Change
		changes[j].Record = j
	}
	sub, err := p.Apply(context.WithValue(ctx, replanDepth{}, depth+1), changes)
	if err != nil {
		for _, i := range lost {
			fail(i, fmt.Errorf("plan again after another writer recorded the object: %w", err))
		}
		return
	}
	res.Mirrors = append(res.Mirrors, sub.Mirrors...)
	res.Purges = append(res.Purges, sub.Purges...)
	res.Committed += sub.Committed
	res.Receipts += sub.Receipts
	for j, c := range sub.Changes {
		if c.Status == StatusFailed {
			fail(lost[j], fmt.Errorf("planned again after another writer recorded the object: %s", c.Error))
		}
	}
}
