package constraint

import "github.com/collectkit/collectkit/point"

// The warning and rejection messages of the fixes. Messages are constants
// where the fix involves no number or rewritten key, so the common fixes
// build no string.

// msgNoFieldDropped is the warning of a point left with no fields.
const msgNoFieldDropped = "point has no fields; point dropped"

// Constant problems and messages of brokeMsg.
const (
	msgLoggingStatus     = "logging point has no status"
	msgLoggingStatusFull = msgLoggingStatus + `; field status="` + defaultLoggingStatus + `" added`
	msgNoName            = " point has no name"
	msgNoNameFix         = `; tag name="` + defaultObjectName + `" added`
	msgEmptyName         = "measurement name is empty"
	msgEmptyNameFull     = msgEmptyName + "; set to " + defaultMeasurement
	msgDupTag            = "duplicate tag key"
	msgDupTagFull        = msgDupTag + "; this tag dropped, the first one kept"
	msgDupField          = "duplicate field key"
	msgDupFieldFull      = msgDupField + "; this field dropped, the first one kept"
	msgNil               = "field has no value"
	msgNilFull           = msgNil + "; field dropped"
	msgConflict          = "key is both a tag and a field"
	msgConflictFull      = msgConflict + "; field dropped"
	msgStringField       = "metric field has a string value"
	msgStringFieldFull   = msgStringField + "; field dropped"
	msgBytesField        = "metric field has a bytes value"
	msgBytesFieldFull    = msgBytesField + "; field dropped"
	msgNaN               = "field value is NaN"
	msgNaNFull           = msgNaN + "; field dropped"
	msgPosInf            = "field value is +Inf"
	msgPosInfFull        = msgPosInf + "; field dropped"
	msgNegInf            = "field value is -Inf"
	msgNegInfFull        = msgNegInf + "; field dropped"
	msgBytesUTF8         = "bytes field is not valid UTF-8, which line protocol cannot carry"
	msgBytesUTF8Full     = msgBytesUTF8 + "; invalid bytes replaced with U+FFFD"
)

// noNameMessages are the problem and message of RuleObjectName by
// category.
// The two categories the rule applies to get constant messages, so the fix
// builds no string.
func noNameMessages(c point.Category) (problem, message string) {
	const (
		object       = "object" + msgNoName
		customObject = "custom_object" + msgNoName
	)
	switch c {
	case point.Object:
		return object, object + msgNoNameFix
	case point.CustomObject:
		return customObject, customObject + msgNoNameFix
	}
	return c.String() + msgNoName, c.String() + msgNoName + msgNoNameFix
}

func kind(tag bool) string {
	if tag {
		return "tag"
	}
	return "field"
}
