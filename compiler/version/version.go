// Package version holds Slipway's version and the versions it pins. The
// version is part of every step's cache key, so a new release retrains.
package version

// Version is the Slipway release. It is part of every cache key.
const Version = "0.1.0"

// CUE is the CUE evaluator version Slipway is built and tested with; go.mod
// pins the same module version, and a test checks the two agree.
const CUE = "v0.17.1"

// IRVersion is the version of the intermediate representation's JSON form.
const IRVersion = "slipway.dev/ir/v1"
