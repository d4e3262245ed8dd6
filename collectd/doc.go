// Package collectd reads what collectd produces, so that an agent built on
// collectkit can take the place of a collectd server: its types.db files,
// its value lists and notifications, the JSON that its write_http plugin
// posts, and the binary protocol that its network plugin sends over UDP.
// Everything ends in points (package point).
//
// # Types and value lists
//
// collectd describes each type of value list in types.db: "if_octets" has
// two data sources, rx and tx, both DERIVE. [ParseTypesDB] reads one file,
// [LoadTypesDB] several, later definitions replacing earlier ones as in
// collectd; with no file it reads [DefaultTypesDB], which Debian ships in
// the package collectd-core. A [ValueList] is one dispatch: an identifier
// (host, plugin, plugin instance, type, type instance), a time, an
// interval and one [Value] per data source. A [Notification] is a message
// with a [Severity] and the same identifier.
//
// # Points
//
// [AppendPoints] maps value lists to points of category metric: the
// measurement is the plugin, the identifier's other parts are the tags
// host, plugin_instance, type and type_instance (empty ones omitted), and
// each data source is a field named as types.db names it: gauge as float,
// derive as int, counter and absolute as uint. A NaN gauge is collectd's
// "unknown" and gives no field. [NotificationPoint] maps a notification to
// a keyevent point with DataKit's df_status, df_message, df_title and
// df_source fields.
//
// # write_http
//
// [DecodeJSON] decodes the bodies of collectd's write_http plugin with
// Format "JSON". They name their data sources, so the mapping needs no
// TypesDB: AppendPoints(dst, nil, vls...).
//
// # The network protocol
//
// [DecodePacket] decodes one UDP datagram of collectd's network plugin,
// including signed and encrypted data. [DecodeOptions] set the receiver's
// [SecurityLevel] (None, Sign, Encrypt, as the plugin's option of that
// name) and the [Passwords] to verify and decrypt with; [AuthFile] reads
// them from a file in the format of the plugin's AuthFile option and
// follows its changes. [AppendPacket] writes packets as collectd does, for
// tests, benchmarks and senders.
//
// [Server] listens on UDP, decodes each packet, maps it with its TypesDB
// and hands the points to a point.Sink in batches: value lists as metric,
// notifications as keyevent. Its Run(ctx) returns when ctx is done.
//
// # Concurrency and ownership
//
// The decoders and mapping functions are safe for concurrent use; their
// results alias nothing of their input. A TypesDB may be read
// concurrently once built. A Server is started once; its fields are not
// changed while it runs.
package collectd
