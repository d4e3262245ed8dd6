package testbody

import (
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// WalkLineProtocol walks every measurement, tag, field and timestamp of a
// line-protocol body with line-protocol/v2's decoder, building nothing,
// and returns the number of lines: the floor that decoding benchmarks are
// measured against.
func WalkLineProtocol(body []byte, now time.Time) (int, error) {
	dec := lineprotocol.NewDecoderWithBytes(body)
	n := 0
	for dec.Next() {
		if _, err := dec.Measurement(); err != nil {
			return n, err
		}
		for {
			k, _, err := dec.NextTag()
			if err != nil {
				return n, err
			}
			if k == nil {
				break
			}
		}
		for {
			k, _, err := dec.NextField()
			if err != nil {
				return n, err
			}
			if k == nil {
				break
			}
		}
		if _, err := dec.Time(lineprotocol.Nanosecond, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
