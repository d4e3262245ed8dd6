// Package constraint applies DataKit's data constraints to points: the
// rules every point must obey before it is stored, and what to do with a
// point that breaks them.
//
// # A guided tour
//
// [Normalize] checks one point of a given [point.Category] and, by default,
// fixes it the way DataKit does, returning what it changed as
// [point.Warning]s with DataKit's warning names:
//
//	p := point.Point{Name: "nginx", Fields: []point.Field{{Key: "http.status", Value: point.IntValue(200)}}}
//	warns, err := constraint.Normalize(&p, point.Logging, constraint.Options{})
//	// p: nginx http_status=200i,status="info"; warns: dot_in_key, add_required_kv
//
// A host that normalizes many points builds a [Normalizer] once with [New]
// and calls [Normalizer.Normalize], or, better, puts [Normalizer.Sink] in
// front of its own [point.Sink] so that every input (the HTTP write API,
// Python collectors, Pushgateway and InfluxDB clients) is guarded by the
// same rules.
//
// [Options] hold the [Limits] (zero fields mean DataKit's defaults, negative
// ones mean unlimited) and an [Action] per [Rule]: [Fix] (the default),
// [Reject] (the point is refused with a [*RejectError], which matches
// [ErrRejected]) or [Ignore] (the rule is not checked). The zero Options are
// DataKit's behaviour plus the rules collectkit adds.
//
// Normalize changes *p in place: it may replace p.Name and the p.Tags and
// p.Fields slices, but it never writes into the original slices' backing
// arrays nor into the bytes of any string (strings may alias a decoder's
// buffer). So a shallow copy of a point that must not change can be
// normalized safely, which is what the Sink middleware does. A rejected
// point is left as it was. A point that breaks no checked rule is not
// touched, costs no allocation, and gives nil warnings. The output of
// Normalize is a fixed point: normalizing it again gives no warnings and no
// change.
//
// A caller that owns the arrays behind a point's Tags and Fields, such as
// the points a protocol.Decoder has just returned, can use
// [Normalizer.NormalizeOwned] instead: it gives exactly the same point and
// warnings, but compacts the point's own slices instead of copying them and
// appends the warnings to a slice the caller reuses. The fixes most points
// need (a metric point's string field, a nil or non-finite field) then
// cost no allocation; warning messages are constants where nothing in them
// varies.
//
// A whole batch the caller owns goes through [Normalizer.NormalizeBatch],
// which normalizes it in place, drops the points rejected or left without
// fields, and records warnings and rejections in a reusable [Result];
// the key a category requires (a logging point's status, an object's
// name) is added in storage the Result keeps and reuses, so adding it
// costs no allocation per point either. [Normalizer.Deliver] then applies the
// options (OnWarnings, WritePartial, Logger) and says whether the batch is
// to be written. The Sink middleware, httpapi's write routes and pythond's
// reports all take these two steps, so a batch gets the same warnings,
// rejections and answer on each.
//
// Checking a compliant point reads each of its strings once and allocates
// nothing; what each rule does for each category is worked out once, in New.
//
// # Concurrency
//
// A Normalizer is immutable after New and safe for concurrent use by any
// number of goroutines; so is the Sink it returns, provided the next sink
// and Options.OnWarnings are. A Point is a plain value: do not normalize one
// point from two goroutines at once.
//
// # The rules
//
// Rules 1 to 8 are the numbered rules of DataKit's "data structure
// constraints"; the others are DataKit's per-category rules and rules
// collectkit adds. Lengths are in bytes. "DataKit" describes what DataKit's
// checker actually does, which is not always what its documents say.
//
//	rule               collectkit (Fix)                                DataKit
//	1 key_conflict     key both a tag and a field: field dropped        both dropped, warned key_name_conflict
//	                   [key_name_conflict]
//	2 duplicate_key    first of a repeated tag or field key kept,       [dup,dup,x]: both dropped; [dup,x,dup]: the
//	                   later ones dropped [key_name_conflict]           last kept; results differ with its pool on
//	3 max_tags         over 256 tags: the tags with the largest keys    trailing tags dropped in slice order,
//	                   dropped, the others kept in their order          warned exceed_max_fields (a copy-paste bug)
//	                   [exceed_max_tags]
//	4 max_fields       over 1024 fields: largest keys dropped           trailing fields dropped in slice order
//	                   [exceed_max_fields]
//	5 key_len          key over 256: cut at a UTF-8 boundary; a key     cut at a byte (may split a rune);
//	                   that then collides: first kept                   a collision drops the tag
//	                   [exceed_max_tag_key_len, exceed_max_field_key_len]
//	6 tag_value_len    tag value over 1024: cut at a UTF-8 boundary     cut at a byte
//	                   [exceed_max_tag_value_len]
//	7 field_value_len  string over 32 MiB: cut at a UTF-8 boundary;     cut at a byte
//	                   bytes value: cut at the byte
//	                   [exceed_max_field_value_len]
//	8 dot_in_key       '.' in a key of any non-metric category:         only logging and object
//	                   replaced by '_' [dot_in_key]                     (tags warned invalid_tag_key)
//	measurement        empty name: "__default"; over 1024: cut at a     same; cut at a byte
//	                   UTF-8 boundary [invalid_measurement]
//	string_field       metric: string and bytes fields dropped          same
//	                   [invalid_field_value_type]
//	logging_status     logging without status (tag or field): field     same (its documents say "unknown")
//	                   status="info" added [add_required_kv]
//	object_name        object and custom_object without name (tag or    object only; name added as a field
//	                   field): tag name="default" added [add_required_kv]
//	non_finite         NaN, ±Inf float fields dropped [non_finite_float] NaN kept (the point later vanishes in
//	                                                                    encoding); ±Inf turned into MaxUint64/MinInt64
//	utf8               invalid UTF-8 in the name, a key, a tag value or  not checked
//	                   a string field: replaced by U+FFFD
//	                   [invalid_utf8_string]; bytes fields are not text
//	nil_field          field with no value (JSON null): dropped         kept with a warning; encoders skip it
//	                   [nil_field]
//	empty_key          empty tag or field key: dropped [disabled_key]   dropped, warned tag_disabled
//	no_field           point with no fields: dropped by the Sink        not checked
//	                   middleware [no_field]; Normalize itself only
//	                   rejects it when the action is Reject
//	unsafe_chars       what line protocol cannot carry: in the name,    keys and tag values only:
//	                   keys and tag values a control character (below   '\n' becomes a space, trailing '\'
//	                   0x20, or DEL) becomes a space, trailing '\'      stripped [invalid_tag_key for tag keys,
//	                   are stripped (a key left empty is dropped        found_new_line_or_tail_espace for tag
//	                   [disabled_key], a name left empty is             values and field keys]; other control
//	                   "__default"); a name's leading '#' becomes '_';  characters, a leading '#' and bytes
//	                   a bytes field that is not UTF-8 is repaired      are not checked
//	                   with U+FFFD and cut at a UTF-8 boundary
//	                   [invalid_measurement, invalid_tag_key,
//	                   found_new_line_or_tail_espace for tag values
//	                   and field keys, invalid_utf8_string for bytes]
//
// The fixes are applied in this order, which makes the output a fixed
// point: the name (UTF-8, length, unsafe characters, then empty); each tag
// in order (empty key, key UTF-8, dots, key length, unsafe characters,
// then duplicate, then value UTF-8, length and unsafe characters); each
// field in order (the same key steps, then nil, non-finite and metric
// string values, then duplicate, then value UTF-8 (bytes: unsafe
// characters) and length);
// the required key of the category; the tag count; tag/field conflicts;
// the field count. The required key ("status", "name") is never the one a
// count limit drops, and positive limits too small to hold what the
// Normalizer adds ("__default", "status", "default", "info") are raised to
// that size ([Limits.Validate] reports them).
//
// # Choices
//
// The logging status is added as a field, as DataKit's checker does, so a
// point fixed here stores the same as one fixed by DataKit and what reads
// DataKit's logs finds status where it expects it; a status tag is accepted
// as well. The object name is
// added as a tag, as DataKit's documents describe objects (and unlike
// DataKit's checker, which adds a field); a name field is accepted, so
// DataKit's own output passes unchanged. custom_object gets the object rule
// too, as DataKit's documents say it should.
//
// Every point the zero Options accept can be written as line protocol by
// protocol.LineEncoder (a property test in package protocol checks it on
// decoded and generated points), except for what no Normalizer rule is
// about: a point with no fields (which the Sink middleware drops) and a
// time beyond the int64 nanoseconds the decoders never produce. DataKit's
// checker only rewrites newlines and trailing backslashes in keys and tag
// values; unsafe_chars goes further because a sink that writes line
// protocol and fails halfway through a batch has stored part of it.
//
// Not reproduced from DataKit's checker: its disabled keys (source and date
// on logging, class and date on objects, which it drops), its conversion
// of uint64 fields for InfluxDB 1.x, and its ±Inf conversions. Hosts that
// need these can do them in a Sink of their own.
package constraint
