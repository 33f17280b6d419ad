package web

import (
	"container/list"
	"sync"
)

// lru is a size-bounded least-recently-used cache of immutable values
// (content-addressed package files, assembled pages, verified package
// digests). Because what it holds never changes, a replica's cache can
// never disagree with another's.
type lru[V any] struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
	sizer func(V) int64
}

type lruEntry[V any] struct {
	key string
	val V
	n   int64
}

func newLRU[V any](max int64, sizer func(V) int64) *lru[V] {
	return &lru[V]{max: max, ll: list.New(), items: map[string]*list.Element{}, sizer: sizer}
}

func (c *lru[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruEntry[V]).val, true
	}
	var zero V
	return zero, false
}

func (c *lru[V]) Add(key string, v V) {
	n := c.sizer(v)
	if n > c.max/8 {
		return // too big to be worth keeping
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.items[key] = c.ll.PushFront(&lruEntry[V]{key: key, val: v, n: n})
	c.size += n
	for c.size > c.max && c.ll.Len() > 0 {
		e := c.ll.Back()
		ent := e.Value.(*lruEntry[V])
		c.ll.Remove(e)
		delete(c.items, ent.key)
		c.size -= ent.n
	}
}
