// Package spec holds the Go form of a validated Slipway spec: the structs
// that the CUE schema's definitions decode into. Field names and JSON tags
// follow the schema exactly; defaults have been applied by CUE. It is plain
// data with no dependencies, so runners use its types without CUE.
package spec

// Spec is one CUE package: the pipelines it declares.
type Spec struct {
	// Pipelines by name.
	Pipelines map[string]*Pipeline `json:"pipelines"`
}

// Pipeline is one model's whole life.
type Pipeline struct {
	Name        string                 `json:"name"`
	Description string                 `json:"description,omitempty"`
	Owner       string                 `json:"owner,omitempty"`
	Labels      map[string]string      `json:"labels,omitempty"`
	Image       string                 `json:"image"`
	Datasets    map[string]*Dataset    `json:"datasets"`
	Features    Features               `json:"features"`
	Training    Training               `json:"training"`
	Gates       map[string]*Gate       `json:"gates"`
	Artifact    *Artifact              `json:"artifact,omitempty"`
	Deploy      *Deploy                `json:"deploy,omitempty"`
	Monitoring  *Monitoring            `json:"monitoring,omitempty"`
	Steps       map[string]*CustomStep `json:"steps"`
}

// Dataset is one source of rows.
type Dataset struct {
	Name         string             `json:"name"`
	Source       string             `json:"source"`
	SHA256       string             `json:"sha256,omitempty"`
	Format       string             `json:"format"`
	Columns      map[string]*Column `json:"columns"`
	Expectations *Expectations      `json:"expectations,omitempty"`
}

// Column is one typed column.
type Column struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Nullable    bool     `json:"nullable"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Unique      bool     `json:"unique"`
	PII         bool     `json:"pii"`
	Description string   `json:"description,omitempty"`
	Values      []string `json:"values,omitempty"`
	Layout      string   `json:"layout,omitempty"`
}

// Expectations are data checks.
type Expectations struct {
	MinRows         *int64             `json:"minRows,omitempty"`
	MaxRows         *int64             `json:"maxRows,omitempty"`
	MaxNullFraction map[string]float64 `json:"maxNullFraction,omitempty"`
	Unique          []string           `json:"unique,omitempty"`
	Ranges          map[string]Range   `json:"ranges,omitempty"`
}

// Range bounds values.
type Range struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// Features turns a dataset into model inputs.
type Features struct {
	Dataset    string                 `json:"dataset"`
	Label      string                 `json:"label"`
	Positive   string                 `json:"positive,omitempty"`
	Drop       []string               `json:"drop"`
	Transforms map[string][]Transform `json:"transforms"`
	PII        PII                    `json:"pii"`
}

// PII says what happens to personal data.
type PII struct {
	Action    string `json:"action"`
	KeySecret string `json:"keySecret,omitempty"`
}

// Transform is one feature transform.
type Transform struct {
	Op            string    `json:"op"`
	Strategy      string    `json:"strategy,omitempty"`
	Value         any       `json:"value,omitempty"`
	Min           *float64  `json:"min,omitempty"`
	Max           *float64  `json:"max,omitempty"`
	MaxCategories int       `json:"maxCategories,omitempty"`
	Unknown       string    `json:"unknown,omitempty"`
	Boundaries    []float64 `json:"boundaries,omitempty"`
	Buckets       int       `json:"buckets,omitempty"`
	Parts         []string  `json:"parts,omitempty"`
}

// Training chooses the model.
type Training struct {
	Model           string           `json:"model"`
	Task            string           `json:"task"`
	Seed            int64            `json:"seed"`
	Device          string           `json:"device"`
	Split           Split            `json:"split"`
	CrossValidation *CrossValidation `json:"crossValidation,omitempty"`
	ClassWeights    any              `json:"classWeights,omitempty"`
	Resources       Resources        `json:"resources"`
	Timeout         string           `json:"timeout"`
	Retries         int              `json:"retries"`
	Logistic        *Logistic        `json:"logistic,omitempty"`
	GBDT            *GBDT            `json:"gbdt,omitempty"`
	MLP             *MLP             `json:"mlp,omitempty"`
	Custom          *Container       `json:"custom,omitempty"`
}

// Split holds out rows.
type Split struct {
	Test       float64 `json:"test"`
	Validation float64 `json:"validation"`
	Stratified bool    `json:"stratified"`
	TimeColumn string  `json:"timeColumn,omitempty"`
}

// CrossValidation is k-fold cross-validation.
type CrossValidation struct {
	Folds      int  `json:"folds"`
	Stratified bool `json:"stratified"`
}

// Logistic is logistic regression.
type Logistic struct {
	C            float64 `json:"C"`
	L1Ratio      float64 `json:"l1Ratio"`
	Solver       string  `json:"solver"`
	MaxIter      int     `json:"maxIter"`
	Tol          float64 `json:"tol"`
	FitIntercept bool    `json:"fitIntercept"`
}

// GBDT is histogram gradient boosting.
type GBDT struct {
	Trees               int     `json:"trees"`
	LearningRate        float64 `json:"learningRate"`
	MaxDepth            int     `json:"maxDepth"`
	MaxLeaves           int     `json:"maxLeaves"`
	GrowPolicy          string  `json:"growPolicy"`
	MinChildWeight      float64 `json:"minChildWeight"`
	Lambda              float64 `json:"lambda"`
	Alpha               float64 `json:"alpha"`
	Gamma               float64 `json:"gamma"`
	Subsample           float64 `json:"subsample"`
	ColsampleByTree     float64 `json:"colsampleByTree"`
	MaxBin              int     `json:"maxBin"`
	Categorical         string  `json:"categorical"`
	MaxCatToOnehot      int     `json:"maxCatToOnehot"`
	EarlyStoppingRounds int     `json:"earlyStoppingRounds,omitempty"`
}

// MLP is a multi-layer perceptron.
type MLP struct {
	HiddenUnits         []int   `json:"hiddenUnits"`
	Activation          string  `json:"activation"`
	Dropout             float64 `json:"dropout"`
	L2                  float64 `json:"l2"`
	BatchSize           int     `json:"batchSize"`
	LearningRate        float64 `json:"learningRate"`
	Epochs              int     `json:"epochs"`
	EarlyStoppingRounds int     `json:"earlyStoppingRounds"`
}

// Resources a step asks for.
type Resources struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
	GPU    *GPU   `json:"gpu,omitempty"`
}

// GPU is a request for GPUs.
type GPU struct {
	Count        int               `json:"count"`
	Type         string            `json:"type"`
	RunnerLabels []string          `json:"runnerLabels,omitempty"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
}

// Toleration is a Kubernetes toleration.
type Toleration struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect,omitempty"`
}

// Container is a container that runs as a step.
type Container struct {
	Image   string            `json:"image"`
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Secrets map[string]string `json:"secrets,omitempty"`
}

// CustomStep is a container step wired in by its inputs and outputs.
type CustomStep struct {
	Container
	Name      string    `json:"name"`
	Inputs    []string  `json:"inputs"`
	Outputs   []string  `json:"outputs"`
	Resources Resources `json:"resources"`
	Timeout   string    `json:"timeout"`
	Retries   int       `json:"retries"`
}

// Gate is a condition a model must meet.
type Gate struct {
	Name          string   `json:"name"`
	Metric        string   `json:"metric"`
	Min           *float64 `json:"min,omitempty"`
	Max           *float64 `json:"max,omitempty"`
	MaxRegression *float64 `json:"maxRegression,omitempty"`
	Split         string   `json:"split"`
	Group         string   `json:"group,omitempty"`
}

// Artifact publishes the model.
type Artifact struct {
	Repository  string            `json:"repository"`
	Signing     *Signing          `json:"signing,omitempty"`
	Annotations map[string]string `json:"annotations"`
}

// Signing signs the model.
type Signing struct {
	Key            string `json:"key"`
	PasswordSecret string `json:"passwordSecret,omitempty"`
}

// Deploy releases the model.
type Deploy struct {
	Environments map[string]*Environment `json:"environments"`
	Delivery     *Delivery               `json:"delivery,omitempty"`
}

// Delivery is how rendered charts reach the cluster.
type Delivery struct {
	GitOps *GitOps `json:"gitops,omitempty"`
	Helm   *Helm   `json:"helm,omitempty"`
}

// Helm installs rendered charts with Helm's SDK.
type Helm struct {
	KubeContext string `json:"kubeContext,omitempty"`
	Atomic      bool   `json:"atomic"`
	Timeout     string `json:"timeout"`
}

// GitOps commits rendered charts to a GitOps repository.
type GitOps struct {
	Repository  string `json:"repository,omitempty"`
	Branch      string `json:"branch"`
	Path        string `json:"path"`
	TokenSecret string `json:"tokenSecret,omitempty"`
}

// Environment is one place the model runs.
type Environment struct {
	Name         string       `json:"name"`
	Production   bool         `json:"production"`
	PromoteAfter string       `json:"promoteAfter,omitempty"`
	Release      string       `json:"release,omitempty"`
	Namespace    string       `json:"namespace"`
	Replicas     int          `json:"replicas"`
	Resources    PodResources `json:"resources"`
	Autoscaling  *Autoscaling `json:"autoscaling,omitempty"`
	Rollout      Rollout      `json:"rollout"`
	Probes       Probes       `json:"probes"`
	Server       Server       `json:"server"`
	Approval     bool         `json:"approval"`
}

// PodResources are a serving pod's resources.
type PodResources struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// Autoscaling scales pods on CPU.
type Autoscaling struct {
	MinReplicas      int `json:"minReplicas"`
	MaxReplicas      int `json:"maxReplicas"`
	TargetCPUPercent int `json:"targetCPUPercent"`
}

// Rollout says how a new model replaces the old.
type Rollout struct {
	Strategy      string       `json:"strategy"`
	Steps         []CanaryStep `json:"steps,omitempty"`
	MirrorPercent int          `json:"mirrorPercent,omitempty"`
	Duration      string       `json:"duration,omitempty"`
}

// CanaryStep is one canary step.
type CanaryStep struct {
	Weight int    `json:"weight"`
	Pause  string `json:"pause"`
}

// Probes are health checks.
type Probes struct {
	ReadinessPath string `json:"readinessPath"`
	LivenessPath  string `json:"livenessPath"`
	InitialDelay  string `json:"initialDelay"`
}

// Server is the model server.
type Server struct {
	Kind  string `json:"kind"`
	Port  int    `json:"port"`
	Image string `json:"image,omitempty"`
}

// Monitoring watches the deployed model.
type Monitoring struct {
	SLO           *SLO              `json:"slo,omitempty"`
	Drift         *Drift            `json:"drift,omitempty"`
	ScoreShift    *ScoreShift       `json:"scoreShift,omitempty"`
	Alerts        map[string]*Alert `json:"alerts"`
	Retraining    *Retraining       `json:"retraining,omitempty"`
	Notifications []Notification    `json:"notifications"`
}

// ScoreShift alerts on a moving mean score.
type ScoreShift struct {
	Max      float64 `json:"max"`
	Window   string  `json:"window"`
	Baseline string  `json:"baseline"`
}

// SLO are serving objectives.
type SLO struct {
	LatencyP95 string  `json:"latencyP95"`
	ErrorRate  float64 `json:"errorRate"`
}

// Drift configures drift detection.
type Drift struct {
	Method    string                      `json:"method"`
	Window    string                      `json:"window"`
	Reference string                      `json:"reference"`
	Share     float64                     `json:"share"`
	Threshold float64                     `json:"threshold"`
	Features  map[string]FeatureThreshold `json:"features"`
}

// FeatureThreshold overrides a drift threshold.
type FeatureThreshold struct {
	Threshold float64 `json:"threshold"`
}

// Alert is a Prometheus alert rule.
type Alert struct {
	Expr     string `json:"expr"`
	For      string `json:"for"`
	Severity string `json:"severity"`
	Summary  string `json:"summary,omitempty"`
}

// Retraining says what starts training.
type Retraining struct {
	OnDrift   bool   `json:"onDrift"`
	Schedule  string `json:"schedule,omitempty"`
	OnNewData bool   `json:"onNewData"`
	Via       string `json:"via"`
	Cooldown  string `json:"cooldown"`
}

// Notification is an alert receiver.
type Notification struct {
	Channel string `json:"channel"`
	Secret  string `json:"secret"`
}
