package point

import (
	"fmt"
	"strconv"
)

// Category is the kind of data a point is, with DataKit's names. The zero
// Category, CategoryUnknown, is not a valid category for writing.
type Category uint8

// DataKit's categories. Their String forms are the names used in
// /v1/write/<category>.
const (
	CategoryUnknown Category = iota
	Metric                   // "metric"
	Logging                  // "logging"
	Object                   // "object"
	CustomObject             // "custom_object"
	KeyEvent                 // "keyevent"
	RUM                      // "rum"
	Network                  // "network"
	Tracing                  // "tracing"
	Security                 // "security"
	Profiling                // "profiling"
)

var categoryNames = [...]string{"unknown", "metric", "logging", "object", "custom_object", "keyevent", "rum", "network", "tracing", "security", "profiling"}

// Categories returns every valid category, in declaration order.
func Categories() []Category {
	return []Category{Metric, Logging, Object, CustomObject, KeyEvent, RUM, Network, Tracing, Security, Profiling}
}

// String returns the category's DataKit name, for example "custom_object".
func (c Category) String() string {
	if int(c) < len(categoryNames) {
		return categoryNames[c]
	}
	return "Category(" + strconv.Itoa(int(c)) + ")"
}

// IsValid reports whether c is one of DataKit's categories.
func (c Category) IsValid() bool { return c > CategoryUnknown && int(c) < len(categoryNames) }

// ParseCategory returns the category with the given DataKit name. The
// result of String parses back to the same Category; "unknown" and any other
// text is an error.
func ParseCategory(name string) (Category, error) {
	for i := 1; i < len(categoryNames); i++ {
		if categoryNames[i] == name {
			return Category(i), nil
		}
	}
	return CategoryUnknown, fmt.Errorf("point: unknown category %q", name)
}

// MarshalText implements encoding.TextMarshaler.
func (c Category) MarshalText() ([]byte, error) {
	if !c.IsValid() {
		return nil, fmt.Errorf("point: cannot marshal invalid category %d", c)
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseCategory.
func (c *Category) UnmarshalText(text []byte) error {
	v, err := ParseCategory(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
