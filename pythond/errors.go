package pythond

import (
	"fmt"
	"strings"
	"time"
)

// ErrorKind says what went wrong with a collector.
type ErrorKind uint8

// The kinds of CollectorError.
const (
	KindUnknown   ErrorKind = iota // not a valid kind
	KindStart                      // the interpreter could not be started
	KindExit                       // the Python process exited; a restart follows
	KindDiscover                   // no collector found, or a directory could not be listed
	KindImport                     // a module failed to import (missing dependency, syntax error, ...)
	KindInit                       // a collector's constructor raised
	KindRun                        // a collector's run() raised
	KindTimeout                    // a run() went on longer than its timeout
	KindReport                     // a report was refused (bad points, sink error)
	KindLastError                  // the script called set_lasterror
	numKinds
)

var kindNames = [numKinds]string{"unknown", "start", "exit", "discover", "import", "init", "run", "timeout", "report", "lasterror"}

// String returns the kind's name, such as "import".
func (k ErrorKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}

// MarshalText returns the kind's name.
func (k ErrorKind) MarshalText() ([]byte, error) {
	if k >= numKinds {
		return nil, fmt.Errorf("pythond: invalid ErrorKind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses a kind's name.
func (k *ErrorKind) UnmarshalText(text []byte) error {
	for i, n := range kindNames {
		if n == string(text) {
			*k = ErrorKind(i)
			return nil
		}
	}
	return fmt.Errorf("pythond: unknown error kind %q", text)
}

// CollectorError is an error of one input or one of its collectors, as
// given to Options.OnError. A host shows it as the input's last error
// (DataKit's /v1/lasterror).
type CollectorError struct {
	// Name is the [[inputs.pythond]] entry's name.
	Name string `json:"name"`
	// Input is the DataKit input the error belongs to: the name passed to
	// set_lasterror or the report's "input", else Name.
	Input string `json:"input"`
	// Collector is the Python collector's name, when one is concerned.
	Collector string    `json:"collector"`
	Kind      ErrorKind `json:"kind"`
	Message   string    `json:"message"`
	// Traceback is the Python traceback (or, for KindTimeout, the stack of
	// the running collector), when there is one.
	Traceback string    `json:"traceback"`
	Time      time.Time `json:"time"`
}

// Error describes the error.
func (e CollectorError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pythond %s", e.Name)
	if e.Collector != "" {
		fmt.Fprintf(&b, " collector %s", e.Collector)
	}
	fmt.Fprintf(&b, ": %s: %s", e.Kind, e.Message)
	return b.String()
}
