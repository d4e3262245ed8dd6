package collectd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// DefaultTypesDB is where Debian's package collectd-core installs collectd's
// types.db.
const DefaultTypesDB = "/usr/share/collectd/types.db"

// DSType is a data source type; the values are the binary protocol's codes.
type DSType uint8

// The data source types of types.db and of the binary protocol.
const (
	Counter  DSType = 0
	Gauge    DSType = 1
	Derive   DSType = 2
	Absolute DSType = 3
)

var dsTypeNames = [...]string{"counter", "gauge", "derive", "absolute"}

// String returns "counter", "gauge", "derive" or "absolute" (the names
// collectd's Python module uses), or "dstype(N)" for another value.
func (t DSType) String() string {
	if int(t) < len(dsTypeNames) {
		return dsTypeNames[t]
	}
	return "dstype(" + strconv.Itoa(int(t)) + ")"
}

// IsValid reports whether t is one of the four data source types.
func (t DSType) IsValid() bool { return int(t) < len(dsTypeNames) }

// ParseDSType parses a data source type name, case-insensitively: "GAUGE"
// as types.db writes it, "gauge" as the Python module does.
func ParseDSType(s string) (DSType, error) {
	for i, n := range dsTypeNames {
		if strings.EqualFold(s, n) {
			return DSType(i), nil
		}
	}
	return 0, fmt.Errorf("collectd: unknown data source type %q (want GAUGE, DERIVE, COUNTER or ABSOLUTE)", s)
}

// MarshalText returns the type's String form; an invalid type is an error.
func (t DSType) MarshalText() ([]byte, error) {
	if !t.IsValid() {
		return nil, fmt.Errorf("collectd: invalid data source type %d", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText parses text as ParseDSType does.
func (t *DSType) UnmarshalText(text []byte) error {
	v, err := ParseDSType(string(text))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// DataSource is one data source of a data set, as types.db writes it.
type DataSource struct {
	Name     string
	Type     DSType
	Min, Max float64 // NaN where types.db says U
}

// DataSet is one line of types.db: a type name and its data sources in
// order.
type DataSet struct {
	Type    string
	Sources []DataSource
}

// TypesDB holds data sets by type name, as collectd's types.db files define
// them. The zero value is empty and ready to use; a nil *TypesDB is empty
// (and Add on it panics, as on a nil map). A TypesDB is safe for concurrent
// reads; Add must not run concurrently with anything else.
type TypesDB struct {
	sets map[string]DataSet
}

// Add adds ds, replacing a data set of the same type, as a later types.db
// line does in collectd.
func (db *TypesDB) Add(ds DataSet) {
	if db.sets == nil {
		db.sets = make(map[string]DataSet)
	}
	db.sets[ds.Type] = ds
}

// DataSet returns the data set of type typ. The returned Sources slice is
// shared with db: do not modify it.
func (db *TypesDB) DataSet(typ string) (DataSet, bool) {
	if db == nil {
		return DataSet{}, false
	}
	ds, ok := db.sets[typ]
	return ds, ok
}

// Len returns the number of data sets.
func (db *TypesDB) Len() int {
	if db == nil {
		return 0
	}
	return len(db.sets)
}

// Types returns the type names, sorted.
func (db *TypesDB) Types() []string {
	if db == nil {
		return nil
	}
	ts := make([]string, 0, len(db.sets))
	for t := range db.sets {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// TypesDBError is a syntax error in a types.db file.
type TypesDBError struct {
	File string // as given to ParseTypesDB
	Line int    // 1-based
	Err  error
}

// Error formats e as "collectd: file:line: cause".
func (e *TypesDBError) Error() string {
	return fmt.Sprintf("collectd: %s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *TypesDBError) Unwrap() error { return e.Err }

// ErrNoTypesDB is matched (errors.Is) by LoadTypesDB's error when none of
// its files could be read.
var ErrNoTypesDB = errors.New("collectd: no types.db could be read")

// maxTypesDBLine bounds one line of a types.db file.
const maxTypesDBLine = 1 << 20

// ParseTypesDB parses one types.db file read from r; file names it in
// errors. Each line is a type name followed by data sources
// "name:TYPE:min:max" separated by blanks and/or commas; min and max are
// numbers or U; '#' starts a comment. A type defined twice keeps the later
// definition. The first syntax error stops parsing and is returned as a
// *TypesDBError.
func ParseTypesDB(r io.Reader, file string) (*TypesDB, error) {
	db := &TypesDB{}
	if err := db.parse(r, file); err != nil {
		return nil, err
	}
	return db, nil
}

func (db *TypesDB) parse(r io.Reader, file string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxTypesDBLine)
	line := 0
	for sc.Scan() {
		line++
		ds, ok, err := parseTypesLine(sc.Bytes())
		if err != nil {
			return &TypesDBError{File: file, Line: line, Err: err}
		}
		if ok {
			db.Add(ds)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes", maxTypesDBLine)
		}
		return &TypesDBError{File: file, Line: line + 1, Err: err}
	}
	return nil
}

func isTypesSep(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '\r' }

func parseTypesLine(b []byte) (DataSet, bool, error) {
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		b = b[:i]
	}
	words := strings.FieldsFunc(string(b), isTypesSep)
	if len(words) == 0 {
		return DataSet{}, false, nil
	}
	ds := DataSet{Type: words[0]}
	if strings.ContainsRune(ds.Type, ':') {
		return DataSet{}, false, fmt.Errorf("type name %q contains ':' (want a type name, then data sources name:TYPE:min:max)", ds.Type)
	}
	if len(words) == 1 {
		return DataSet{}, false, fmt.Errorf("type %q has no data sources (want name:TYPE:min:max after the type name)", ds.Type)
	}
	ds.Sources = make([]DataSource, 0, len(words)-1)
	seen := make(map[string]struct{}, len(words)-1)
	for i, w := range words[1:] {
		src, err := parseDataSource(w)
		if err != nil {
			return DataSet{}, false, fmt.Errorf("type %q, data source %d %q: %w", ds.Type, i+1, w, err)
		}
		if _, dup := seen[src.Name]; dup {
			return DataSet{}, false, fmt.Errorf("type %q: data source %q defined twice", ds.Type, src.Name)
		}
		seen[src.Name] = struct{}{}
		ds.Sources = append(ds.Sources, src)
	}
	return ds, true, nil
}

func parseDataSource(w string) (DataSource, error) {
	parts := strings.Split(w, ":")
	if len(parts) != 4 {
		return DataSource{}, fmt.Errorf("want name:TYPE:min:max, got %d colon-separated parts", len(parts))
	}
	if parts[0] == "" {
		return DataSource{}, errors.New("empty data source name")
	}
	t, err := ParseDSType(parts[1])
	if err != nil {
		return DataSource{}, fmt.Errorf("type %q: want GAUGE, DERIVE, COUNTER or ABSOLUTE", parts[1])
	}
	lo, err := parseBound(parts[2])
	if err != nil {
		return DataSource{}, fmt.Errorf("min: %w", err)
	}
	hi, err := parseBound(parts[3])
	if err != nil {
		return DataSource{}, fmt.Errorf("max: %w", err)
	}
	return DataSource{Name: parts[0], Type: t, Min: lo, Max: hi}, nil
}

func parseBound(s string) (float64, error) {
	if s == "U" {
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a number nor U", s)
	}
	return f, nil
}

// LoadTypesDB reads the given types.db files in order into one TypesDB; a
// type defined in a later file replaces the earlier definition, as collectd
// does. With no files it reads DefaultTypesDB. A syntax error is returned
// as a *TypesDBError naming file and line. A file that cannot be read is an
// error; when none can be read the error matches ErrNoTypesDB and says which
// option sets the files and which Debian package ships collectd's own.
func LoadTypesDB(files ...string) (*TypesDB, error) {
	if len(files) == 0 {
		files = []string{DefaultTypesDB}
	}
	db := &TypesDB{}
	var readErrs []error
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			readErrs = append(readErrs, err)
			continue
		}
		err = db.parse(fh, f)
		fh.Close()
		if err != nil {
			var te *TypesDBError
			if errors.As(err, &te) && !isReadError(te.Err) {
				return nil, err
			}
			readErrs = append(readErrs, err)
		}
	}
	if len(readErrs) == len(files) {
		return nil, fmt.Errorf("%w (%w): set collectd's TypesDB option (types_db in TOML) to a readable file; Debian's package collectd-core installs %s",
			ErrNoTypesDB, errors.Join(readErrs...), DefaultTypesDB)
	}
	if len(readErrs) > 0 {
		return nil, fmt.Errorf("collectd: reading types.db: %w", errors.Join(readErrs...))
	}
	return db, nil
}

// isReadError tells an I/O error (a directory given as a file, say) from a
// syntax error.
func isReadError(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe)
}
