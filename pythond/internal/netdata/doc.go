// Package netdata computes, from Netdata's plugins.d text protocol, the
// values the Netdata daemon would store, and gives them as points. It does
// not care where the text comes from: the stdout of any Netdata external
// plugin (python.d.plugin, charts.d.plugin, a user's own) or collectkit's
// own python.d runtime, which prints the same lines.
//
// # Use
//
// An [Engine] is fed one line at a time with [Engine.Feed], with the time
// the line was collected, or reads a whole stream with [Engine.Read]:
//
//	e := netdata.New(netdata.Options{Module: "example"})
//	err := e.Read(ctx, stdout, func(pts []point.Point) error {
//		return sink.Write(ctx, point.Batch{Category: point.Metric, Input: name, Points: pts})
//	})
//
// [Engine.FeedLines] feeds a block of lines collected at one time, such as
// one update a plugin wrote at once. Only END lines give points, one per
// chart and update. Points alias
// nothing the Engine keeps: their tag and field slices are new for each
// point and their strings never change, so a caller may keep them. Read
// reuses the slice it hands to emit once emit returns (the points in it
// stay valid). An Engine is not safe for concurrent use, and one Engine
// serves one plugin process: a restarted plugin defines its charts again
// and should get a new Engine.
//
// # The protocol
//
// Lines are words separated by spaces; a word may be quoted with ' or "
// (python.d quotes most of them) and then holds spaces. The commands:
//
//	CHART type.id name title units [family [context [charttype [priority [update_every [options [plugin [module]]]]]]]]
//	DIMENSION id [name [algorithm [multiplier [divisor [options]]]]]
//	CLABEL name value source, then CLABEL_COMMIT
//	BEGIN type.id [microseconds], SET id = value ..., END
//	FLUSH, DISABLE, VARIABLE ...
//
// CHART defines or redefines a chart; DIMENSION and CLABEL_COMMIT apply to
// the chart of the last CHART line. A redefined chart keeps its dimensions
// and their last values where the ids match; DIMENSION lines update them
// (a changed algorithm forgets the last value) and add new ones, which is
// how dynamic charts grow. The CHART option "obsolete" stops a chart from
// giving points until a CHART line without it comes; the DIMENSION option
// "obsolete" removes the dimension. A zero multiplier or divisor counts as
// 1 and an unknown algorithm as absolute, as in Netdata.
//
// SET values are signed 64-bit integers; an empty value ("SET id =") is
// "not collected". FLUSH drops the open update. DISABLE makes Feed and
// Read return [ErrDisabled]. VARIABLE lines are accepted and ignored:
// they feed Netdata's alerts, not stored values. Empty lines (python.d's
// keep-alive) are skipped, and so, with a debug log record, are the
// commands of newer Netdata versions that carry no chart values:
// FUNCTION* (a FUNCTION_RESULT_BEGIN ... FUNCTION_RESULT_END block is
// skipped whole), CONFIG, HOST*, DYNCFG* and a few more.
//
// # Bad lines and limits
//
// A bad line gives a [*LineError] with its line number, its command and a
// cause wrapping one of the package sentinels (ErrSyntax, ErrBadValue,
// ErrUnknownChart, ...); the Engine goes on with the next line. A failed
// BEGIN drops its SET and END lines without more errors. Options bound
// what hostile output can make the Engine keep: the length of a line,
// the number of charts, of dimensions over all charts and of labels per
// chart; lines beyond a limit are errors (ErrLineTooLong,
// ErrTooManyCharts, ...). At the chart or dimension limit an obsolete
// chart is forgotten first, if there is one, to make room: plugins whose
// charts come and go (containers, disks) obsolete old ones for good.
//
// # Values
//
// At each END, for each dimension with a SET in this update, with mul and
// div its multiplier and divisor:
//
//   - absolute: collected × mul / div.
//   - incremental: (collected − last) × mul / div per second, over the
//     BEGIN microseconds when they are > 0 and the dimension was collected
//     in the chart's previous update, else over the time between the two
//     collections' times. The first collection gives no value. A value
//     lower than the last is a wrap of a 32-bit counter (when the last
//     value fits in 32 bits) or else of a 63-bit one, if the increase that
//     implies is less than half the counter's range; otherwise it is a
//     reset and gives no value, and the next update counts from the new
//     value. Netdata stores 0 for a reset with a reset flag a point cannot
//     carry; a 0 would read as a real zero rate, so there is no value, as
//     for a first collection. A decrease involving a negative value is a
//     reset.
//   - percentage-of-absolute-row: 100 × collected / the sum of the
//     collected values of the chart's dimensions updated in this update,
//     whatever their algorithm; 0 when the sum is 0. mul and div are not
//     applied.
//   - percentage-of-incremental-row: 100 × (collected − last) / the sum of
//     (collected − last) over the chart's dimensions updated in this update
//     that have a last value; 0 when that sum is 0, no value for a first
//     collection or a reset. mul and div are not applied.
//
// Hidden dimensions are computed and given like the others. Netdata then
// interpolates values to whole seconds; this package does not: each point
// is one update as collected, stamped with its collection time.
//
// # Points
//
// One point per chart per END that has at least one value:
//
//   - Name: the chart's context; when it has none, "<module>.<id>", id
//     being the chart id without its type.
//   - Time: the now given with the BEGIN line (for Read, when it read it).
//   - Tags, in this order, each left out when empty: job, chart (the full
//     type.id), family, module, then the chart's labels in the order they
//     were first committed, except those whose name starts with "_"
//     (Netdata's internal ones: python.d sends _collect_job). module is the
//     CHART line's module parameter, else Options.Module, else the type.
//     job is the chart type without its "<module>_" prefix: python.d names
//     chart types "<module>_<name>" with name the job's name (its name:
//     override, else its key, runs of spaces as _), or just "<module>" for
//     a job named like the module, whose job is then the module. A type
//     without that prefix is the job as it is. (python.d's _collect_job
//     label holds the job's key, not its name, so it is not used.)
//   - Fields: one float per dimension with a value, in dimension order,
//     named by the dimension's name, or by its id with
//     Options.DimensionIDs. The point's category (metric) is for the
//     caller's batch to say.
package netdata
