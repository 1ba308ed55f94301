// Package ir is Slipway's intermediate representation: typed Go structs
// that every backend reads. A pipeline compiles to a DAG of steps; each step
// has a stable id, a kind, typed parameters, inputs and outputs, resources,
// retries, a timeout, the image and command that run it remotely, and a
// cache key. Backends never go back to CUE.
package ir

import (
	"github.com/slipway-ml/slipway/compiler/spec"
)

// Kind is what a step does.
type Kind string

// The step kinds.
const (
	KindFetch    Kind = "fetch"
	KindValidate Kind = "validate"
	KindFeatures Kind = "features"
	KindTrain    Kind = "train"
	KindEvaluate Kind = "evaluate"
	KindPackage  Kind = "package"
	KindDeploy   Kind = "deploy"
	KindMonitor  Kind = "monitor"
	KindRetrain  Kind = "retrain"
	KindCustom   Kind = "custom"
)

// Program is everything one CUE package compiles to.
type Program struct {
	// APIVersion is the IR format version.
	APIVersion string `json:"apiVersion"`
	// SlipwayVersion is the version of Slipway that compiled it.
	SlipwayVersion string `json:"slipwayVersion"`
	// Path is the package directory relative to the repository root,
	// slash-separated ("examples/churn"); remote targets use it to trigger
	// on changes and to run `slipway step` on the same package.
	Path string `json:"path"`
	// Pipelines sorted by name.
	Pipelines []*Pipeline `json:"pipelines"`
}

// Pipeline is one compiled pipeline.
type Pipeline struct {
	// Name of the pipeline.
	Name string `json:"name"`
	// SpecDigest is the sha256 of the pipeline's canonical spec JSON.
	SpecDigest string `json:"specDigest"`
	// Spec is the validated spec, defaults applied.
	Spec *spec.Pipeline `json:"spec"`
	// Steps in topological order; ties keep the order of the life cycle.
	Steps []*Step `json:"steps"`
	// Triggers say what starts a training run.
	Triggers Triggers `json:"triggers"`
}

// Triggers say what starts the pipeline.
type Triggers struct {
	// Schedule is the retraining cron schedule, or "".
	Schedule string `json:"schedule,omitempty"`
	// OnDrift retrains when monitoring reports drift.
	OnDrift bool `json:"onDrift"`
	// OnNewData retrains when a dataset's digest changes.
	OnNewData bool `json:"onNewData"`
	// Via is how drift starts the retraining run when OnDrift: github
	// (repository_dispatch), argo (the compiled Workflow submitted) or
	// local (slipway run); "" when not OnDrift.
	Via string `json:"via,omitempty"`
}

// Step is one node of the DAG.
type Step struct {
	// ID is "<pipeline>/<name>", stable across compilations.
	ID string `json:"id"`
	// Name is the step's name within its pipeline.
	Name string `json:"name"`
	// Kind is what the step does.
	Kind Kind `json:"kind"`
	// Environment is the deployment environment of deploy and monitor steps.
	Environment string `json:"environment,omitempty"`
	// Params are the kind's typed parameters (one of the *Params types).
	Params any `json:"params"`
	// Inputs are the artifacts the step reads, sorted by name.
	Inputs []Input `json:"inputs"`
	// Outputs are the names of the artifacts the step writes, sorted.
	Outputs []string `json:"outputs"`
	// DependsOn are the ids of the steps that must finish first, sorted.
	DependsOn []string `json:"dependsOn"`
	// Resources the step asks for.
	Resources Resources `json:"resources"`
	// Retries is how often a failed step is tried again.
	Retries int `json:"retries"`
	// TimeoutSeconds stops the step after this long.
	TimeoutSeconds int64 `json:"timeoutSeconds"`
	// Image is the container image that runs the step remotely.
	Image string `json:"image"`
	// Command runs the step in Image.
	Command []string `json:"command"`
	// Env are plain environment variables for the step.
	Env map[string]string `json:"env,omitempty"`
	// Secrets maps environment variables to secret names; never values.
	Secrets map[string]string `json:"secrets,omitempty"`
	// CacheKey is the sha256 of the canonical JSON of the step's kind,
	// parameters, input digests and Slipway's version.
	CacheKey string `json:"cacheKey"`
}

// Input is an artifact a step reads.
type Input struct {
	// Name is the artifact's name ("features", "dataset/customers").
	Name string `json:"name"`
	// From is the id of the producing step, or "" for an external input.
	From string `json:"from,omitempty"`
	// Digest identifies the input's content: a dataset's sha256, or for a
	// produced artifact a digest derived from its producer's cache key.
	Digest string `json:"digest"`
	// Pinned is false when the digest only names an unresolved source.
	Pinned bool `json:"pinned"`
}

// Resources a step asks for.
type Resources struct {
	// CPU is a Kubernetes CPU quantity.
	CPU string `json:"cpu"`
	// Memory is a Kubernetes memory quantity.
	Memory string `json:"memory"`
	// GPU is the GPU request, if any.
	GPU *spec.GPU `json:"gpu,omitempty"`
}

// FetchParams are the parameters of a fetch step.
type FetchParams struct {
	Dataset string `json:"dataset"`
	Source  string `json:"source"`
	SHA256  string `json:"sha256,omitempty"`
	Format  string `json:"format"`
}

// ValidateParams are the parameters of a validate step.
type ValidateParams struct {
	Dataset      string             `json:"dataset"`
	Format       string             `json:"format"`
	Columns      []*spec.Column     `json:"columns"`
	Expectations *spec.Expectations `json:"expectations,omitempty"`
	PII          []string           `json:"pii,omitempty"`
}

// FeaturesParams are the parameters of a features step.
type FeaturesParams struct {
	spec.Features
	Task  string     `json:"task"`
	Split spec.Split `json:"split"`
	Seed  int64      `json:"seed"`
	// Categorical is how categorical columns reach the model: "native"
	// integer codes (gbdt) or "onehot" columns.
	Categorical string `json:"categorical"`
}

// TrainParams are the parameters of a train step.
type TrainParams struct {
	Model           string                `json:"model"`
	Task            string                `json:"task"`
	Seed            int64                 `json:"seed"`
	Device          string                `json:"device"`
	CrossValidation *spec.CrossValidation `json:"crossValidation,omitempty"`
	ClassWeights    any                   `json:"classWeights,omitempty"`
	Logistic        *spec.Logistic        `json:"logistic,omitempty"`
	GBDT            *spec.GBDT            `json:"gbdt,omitempty"`
	MLP             *spec.MLP             `json:"mlp,omitempty"`
	Custom          *spec.Container       `json:"custom,omitempty"`
}

// EvaluateParams are the parameters of an evaluate step.
type EvaluateParams struct {
	Task     string       `json:"task"`
	Label    string       `json:"label"`
	Positive string       `json:"positive,omitempty"`
	Gates    []*spec.Gate `json:"gates"`
	// ChampionEnvironment is the environment whose champion gates compare
	// against, or "".
	ChampionEnvironment string `json:"championEnvironment,omitempty"`
}

// PackageParams are the parameters of a package step.
type PackageParams struct {
	spec.Artifact
}

// DeployParams are the parameters of a deploy step.
type DeployParams struct {
	spec.Environment
	// Release is the Helm release name.
	Release string `json:"release"`
	// Repository is the OCI repository of the model artifact, or "".
	Repository string `json:"repository,omitempty"`
	// Champion is the digest of the model serving in this environment now,
	// from slipway.lock, or "" before the first release.
	Champion string `json:"champion,omitempty"`
}

// MonitorParams are the parameters of a monitor step.
type MonitorParams struct {
	Environment string `json:"environment"`
	spec.Monitoring
}

// RetrainParams are the parameters of a retrain trigger step.
type RetrainParams struct {
	Triggers
}

// CustomParams are the parameters of a custom step.
type CustomParams struct {
	Image   string   `json:"image"`
	Command []string `json:"command"`
}
