// Package constraint applies DataKit's data constraints to points.
package constraint
