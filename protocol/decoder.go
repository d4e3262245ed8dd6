package protocol

import "github.com/collectkit/collectkit/point"

// Decoder decodes line-protocol and JSON bodies into points. Its zero value
// is ready to use. A Decoder keeps its buffers (points, tags, fields, and an
// arena for unescaped strings) between calls, so reusing one Decoder for
// many bodies costs no allocation once the buffers have grown. A Decoder is
// not safe for concurrent use.
type Decoder struct {
	pts    []point.Point
	tags   []point.Tag
	fields []point.Field
	arena  []byte
}

// DecodeLineProtocol decodes an InfluxDB line-protocol body with DataKit's
// extensions.
//
// The returned points alias body and d's internal buffers; they are valid
// until the next Decode call on d, or until body is modified. Callers that
// keep points call point.Point.Clone.
func (d *Decoder) DecodeLineProtocol(body []byte, opts Options) ([]point.Point, error) {
	return nil, nil
}

// DecodeJSON decodes a DataKit JSON body.
//
// The returned points alias body and d's internal buffers, as for
// DecodeLineProtocol.
func (d *Decoder) DecodeJSON(body []byte, opts Options) ([]point.Point, []point.Warning, error) {
	return nil, nil, nil
}
