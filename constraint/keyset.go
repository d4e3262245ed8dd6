package constraint

import "github.com/collectkit/collectkit/point"

// keySet finds a key among the kept tags or fields of a point, which only
// grow while a point is fixed. Up to smallSet keys it compares them one by
// one, without allocating; beyond, it keeps a map of the first n keys and
// adds the rest on each lookup. Its zero value is ready to use, for one
// list.
type keySet struct {
	m map[string]struct{}
	n int
}

// hasTag reports whether key is the key of one of kept.
func (s *keySet) hasTag(kept []point.Tag, key string) bool {
	return hasKeyIn(s, kept, func(t *point.Tag) string { return t.Key }, key)
}

// hasField reports whether key is the key of one of kept.
func (s *keySet) hasField(kept []point.Field, key string) bool {
	return hasKeyIn(s, kept, func(f *point.Field) string { return f.Key }, key)
}

// hasKeyIn reports whether key is the key (as keyOf gives it) of one of
// kept, which only grows between calls on the same s.
func hasKeyIn[T any](s *keySet, kept []T, keyOf func(*T) string, key string) bool {
	if len(kept) <= smallSet {
		for i := range kept {
			if keyOf(&kept[i]) == key {
				return true
			}
		}
		return false
	}
	if s.m == nil {
		s.m = make(map[string]struct{}, 2*len(kept))
	}
	for ; s.n < len(kept); s.n++ {
		s.m[keyOf(&kept[s.n])] = struct{}{}
	}
	_, ok := s.m[key]
	return ok
}
