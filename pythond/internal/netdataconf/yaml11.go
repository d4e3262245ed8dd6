package netdataconf

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeYAML parses one YAML document into a [Value] with the YAML 1.1 plain
// scalar rules of PyYAML's SafeLoader, which python.d.plugin uses: yes/no/on/off
// are booleans, 010 is octal, 1:30 is 90, 1e3 is a string. Timestamps stay
// strings (JSON has no date). An empty document is nil.
func decodeYAML(file string, data []byte) (Value, int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, 0, &Error{File: file, Line: yamlErrLine(err), Err: fmt.Errorf("%w: %s", ErrSyntax, trimYAMLErr(err))}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, 0, nil
	}
	root := doc.Content[0]
	v, err := convert(file, root, 0)
	return v, root.Line, err
}

var lineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func trimYAMLErr(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return lineRE.ReplaceAllString(strings.TrimPrefix(s, "unmarshal errors:\n  "), "")
}

// maxDepth bounds nesting (and alias expansion) so a hostile file cannot
// exhaust the stack.
const maxDepth = 100

func convert(file string, n *yaml.Node, depth int) (Value, error) {
	if depth > maxDepth {
		return nil, &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: nested deeper than %d levels", ErrSyntax, maxDepth)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return convert(file, n.Alias, depth+1)
	case yaml.ScalarNode:
		return scalar(n), nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(file, c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return convertMap(file, n, depth)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(file, n.Content[0], depth+1)
	}
	return nil, &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: unexpected YAML node", ErrSyntax)}
}

func convertMap(file string, n *yaml.Node, depth int) (Map, error) {
	var merged, own Map
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" && k.Style&yaml.TaggedStyle == 0 {
			// "<<: *base" or "<<: [*a, *b]": keys of the merged
			// mappings come first; the first listed wins.
			srcs := []*yaml.Node{vn}
			if vn.Kind == yaml.SequenceNode {
				srcs = vn.Content
			}
			for _, s := range srcs {
				v, err := convert(file, s, depth+1)
				if err != nil {
					return nil, err
				}
				m, ok := v.(Map)
				if !ok {
					return nil, &Error{File: file, Line: s.Line, Key: "<<", Err: fmt.Errorf("%w: a merge key takes mappings", ErrNotMapping)}
				}
				for _, e := range m {
					if merged.index(e.Key) < 0 {
						merged = append(merged, e)
					}
				}
			}
			continue
		}
		v, err := convert(file, vn, depth+1)
		if err != nil {
			return nil, err
		}
		own.set(Entry{Key: keyText(k), Value: v, Line: k.Line})
	}
	for _, e := range own {
		merged.set(e)
	}
	if merged == nil {
		merged = Map{}
	}
	return merged, nil
}

func keyText(k *yaml.Node) string {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind == yaml.ScalarNode {
		return k.Value
	}
	return fmt.Sprint(k.Value)
}

var (
	boolRE  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	nullRE  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	intRE   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	floatRE = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
)

func scalar(n *yaml.Node) Value {
	s := n.Value
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return s
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			if boolRE.MatchString(s) {
				return boolValue(s)
			}
		case "!!int":
			if intRE.MatchString(s) {
				if v, ok := intValue(s); ok {
					return v
				}
			}
		case "!!float":
			if floatRE.MatchString(s) || intRE.MatchString(s) {
				if v, ok := floatValue(s); ok {
					return v
				}
			}
		}
		return s
	}
	switch {
	case nullRE.MatchString(s):
		return nil
	case boolRE.MatchString(s):
		return boolValue(s)
	case intRE.MatchString(s):
		if v, ok := intValue(s); ok {
			return v
		}
	case floatRE.MatchString(s):
		if v, ok := floatValue(s); ok {
			return v
		}
	}
	return s
}

func boolValue(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return true
	}
	return false
}

// intValue resolves a YAML 1.1 int; values beyond int64 keep their decimal
// spelling through big arithmetic only for plain decimals (Python ints are
// unbounded).
func intValue(s string) (Number, bool) {
	neg := false
	t := strings.ReplaceAll(s, "_", "")
	switch {
	case strings.HasPrefix(t, "-"):
		neg, t = true, t[1:]
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	}
	var u uint64
	var err error
	switch {
	case t == "0":
		u = 0
	case strings.HasPrefix(t, "0b"):
		u, err = strconv.ParseUint(t[2:], 2, 64)
	case strings.HasPrefix(t, "0x"):
		u, err = strconv.ParseUint(t[2:], 16, 64)
	case strings.Contains(t, ":"):
		for _, part := range strings.Split(t, ":") {
			d, perr := strconv.ParseUint(part, 10, 64)
			if perr != nil || u > (math.MaxUint64-d)/60 {
				return "", false
			}
			u = u*60 + d
		}
	case strings.HasPrefix(t, "0"):
		u, err = strconv.ParseUint(t[1:], 8, 64)
	default:
		if _, perr := strconv.ParseUint(t, 10, 64); perr != nil {
			// Too big for 64 bits: still an integer for Python.
			if neg {
				return Number("-" + strings.TrimLeft(t, "0")), true
			}
			return Number(t), true
		}
		u, err = strconv.ParseUint(t, 10, 64)
	}
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return "", false
		}
		return "", false
	}
	if neg {
		return Number("-" + strconv.FormatUint(u, 10)), true
	}
	return Number(strconv.FormatUint(u, 10)), true
}

func floatValue(s string) (Number, bool) {
	t := strings.ReplaceAll(s, "_", "")
	lower := strings.ToLower(t)
	switch {
	case strings.HasSuffix(lower, ".inf"):
		if strings.HasPrefix(lower, "-") {
			return "-1e999", true
		}
		return "1e999", true
	case lower == ".nan":
		return "", false // JSON has no NaN: the value stays a string
	}
	var f float64
	if strings.Contains(t, ":") {
		neg := strings.HasPrefix(t, "-")
		t = strings.TrimLeft(t, "+-")
		for _, part := range strings.Split(t, ":") {
			d, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return "", false
			}
			f = f*60 + d
		}
		if neg {
			f = -f
		}
	} else {
		if strings.HasSuffix(t, ".") {
			t += "0"
		}
		var err error
		if f, err = strconv.ParseFloat(t, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return "", false
		}
	}
	if math.IsInf(f, 0) {
		if f < 0 {
			return "-1e999", true
		}
		return "1e999", true
	}
	out := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(out, ".eEIN") {
		out += ".0"
	}
	return Number(out), true
}
