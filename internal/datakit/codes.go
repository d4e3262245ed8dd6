package datakit

// DataKit's own error codes.
const (
	CodeBadRequest           = "datakit.badRequest"
	CodeInvalidCategory      = "datakit.invalidCategory"
	CodeEmptyBody            = "datakit.emptyBody"
	CodeNoPoints             = "datakit.noPoints"
	CodeInvalidLinePoint     = "datakit.invalidLinePoint"
	CodeInvalidJSONPoint     = "datakit.invalidJsonPoint"
	CodeDecodeBodyFailed     = "datakit.decodeBodyFailed"
	CodeInvalidPrecision     = "datakit.invalidPrecision"
	CodePointGotWarning      = "datakit.pointGotWarning"
	CodeReachMaxAPILimit     = "datakit.reachMaxAPILimit"
	CodePublicAccessDisabled = "datakit.publicAccessDisabled"
	CodeInvalidToken         = "datakit.invalidToken"
	CodeHTTPReadError        = "datakit.HTTPReadError"
	CodeInputOrErrContentNil = "datakit.inputOrErrcontentCanNotBeNil"
	CodeInvalidClass         = "datakit.invalidClass"
)

// Codes for conditions DataKit has no code for, because it lacks the
// feature, spelled the way DataKit spells its own.
const (
	CodeBodyTooLarge     = "datakit.bodyTooLarge"     // a body or report over its size or point limit
	CodePointRejected    = "datakit.pointRejected"    // a point broke a rule set to Reject
	CodeSinkBusy         = "datakit.sinkBusy"         // the host's sink is busy; retry later
	CodeSinkFailed       = "datakit.sinkFailed"       // the host's sink failed to store the points
	CodeNotImplemented   = "datakit.notImplemented"   // a route DataKit has and collectkit does not
	CodeNotFound         = "datakit.notFound"         // no such route
	CodeMethodNotAllowed = "datakit.methodNotAllowed" // the route does not take the method
	CodeInternal         = "datakit.internalError"    // a failure of the server itself
	CodeRequestCanceled  = "datakit.requestCanceled"  // the request ended before it was answered
	CodeReportAborted    = "datakit.reportAborted"    // a script could not encode all its points
	CodeHostPanic        = "datakit.hostPanic"        // a host callback panicked on the batch
)
