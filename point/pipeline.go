package point

import "context"

// Pipeline is the place a host runs DataKit-style Pipeline scripts: it is
// called for each point of a logging batch before the point is normalized
// and written, with the source that selects the script (the client's
// "source" when it named one, else the point's measurement, which is a
// logging point's source). It may change *p in place: parse a log line into
// fields, add or remove tags, set the time.
//
// keep false drops the point (DataKit's drop()). A non-nil error does not
// lose the point, as a failing DataKit script does not: the point is written
// as the pipeline left it and the error is reported as a warning of that
// point. A Pipeline is called concurrently and must not keep p after it
// returns.
type Pipeline func(ctx context.Context, source string, c Category, p *Point) (keep bool, err error)
