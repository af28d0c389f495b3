package cache

import "context"

// NewContext loads every entry added to c, as Load does, and returns ctx
// carrying their values: Entry.From reads them, and sees the same value for
// as long as ctx lives, while the entries themselves go on being refreshed.
// When every value is fresh it reads them from memory; otherwise the due
// ones are fetched together, in as few calls as their sources allow. It
// fails with the errors of the entries that have no value to give.
//
// It is what lambdacache's handler calls before each invocation; an HTTP
// handler can call it per request the same way.
func (c *Cache) NewContext(ctx context.Context) (context.Context, error) {
	ens := c.entries()
	vals := make([]any, len(ens))
	now := c.offset(c.now()) // the exact time, which the hit path's clock catches up with
	for i, e := range ens {
		s := e.snap.Load()
		if s == nil || now >= s.exp {
			outs, _ := c.load(ctx, ens, loadDue, 0)
			if err := joinErrors(outs); err != nil {
				return nil, err
			}
			for i, o := range outs {
				vals[i] = o.val
			}
			return c.withValues(ctx, vals), nil
		}
		vals[i] = s.val
	}
	for _, e := range ens {
		e.hits.Add(1)
	}
	return c.withValues(ctx, vals), nil
}

type ctxKey struct{}

// values are the values one NewContext loaded, by entry id.
type values struct {
	c      *Cache
	vals   []any
	parent *values // another cache's values, when contexts nest
}

func (c *Cache) withValues(ctx context.Context, vals []any) context.Context {
	parent, _ := ctx.Value(ctxKey{}).(*values)
	return context.WithValue(ctx, ctxKey{}, &values{c: c, vals: vals, parent: parent})
}

func fromContext(ctx context.Context, e *entry) (any, bool) {
	v, _ := ctx.Value(ctxKey{}).(*values)
	for ; v != nil; v = v.parent {
		if v.c == e.c && e.id >= 0 && e.id < len(v.vals) {
			return v.vals[e.id], true
		}
	}
	return nil, false
}
