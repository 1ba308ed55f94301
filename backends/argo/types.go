package argo

// The minimal subset of the Argo Workflows and Kubernetes API types this
// backend renders. They are Slipway's own (the Argo Go module is not a
// dependency); field names and JSON tags follow argoproj.io/v1alpha1, and
// the tests validate every rendered object against Argo's JSON schema.
// Objects are marshalled through sigs.k8s.io/yaml, so map keys and struct
// fields come out sorted.

// object is a top-level Kubernetes object: WorkflowTemplate, Workflow or
// CronWorkflow.
type object struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       any        `json:"spec"`
}

type objectMeta struct {
	Name         string            `json:"name,omitempty"`
	GenerateName string            `json:"generateName,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// workflowSpec is io.argoproj.workflow.v1alpha1.WorkflowSpec.
type workflowSpec struct {
	Entrypoint          string               `json:"entrypoint,omitempty"`
	Arguments           *arguments           `json:"arguments,omitempty"`
	Templates           []template           `json:"templates,omitempty"`
	ServiceAccountName  string               `json:"serviceAccountName,omitempty"`
	PodGC               *podGC               `json:"podGC,omitempty"`
	TTLStrategy         *ttlStrategy         `json:"ttlStrategy,omitempty"`
	WorkflowMetadata    *workflowMetadata    `json:"workflowMetadata,omitempty"`
	WorkflowTemplateRef *workflowTemplateRef `json:"workflowTemplateRef,omitempty"`
}

// cronWorkflowSpec is io.argoproj.workflow.v1alpha1.CronWorkflowSpec.
type cronWorkflowSpec struct {
	Schedules                  []string      `json:"schedules"`
	Timezone                   string        `json:"timezone,omitempty"`
	ConcurrencyPolicy          string        `json:"concurrencyPolicy,omitempty"`
	StartingDeadlineSeconds    int64         `json:"startingDeadlineSeconds,omitempty"`
	SuccessfulJobsHistoryLimit int           `json:"successfulJobsHistoryLimit,omitempty"`
	FailedJobsHistoryLimit     int           `json:"failedJobsHistoryLimit,omitempty"`
	WorkflowMetadata           *objectMeta   `json:"workflowMetadata,omitempty"`
	WorkflowSpec               *workflowSpec `json:"workflowSpec"`
}

type workflowMetadata struct {
	Labels map[string]string `json:"labels,omitempty"`
}

type workflowTemplateRef struct {
	Name string `json:"name"`
}

type podGC struct {
	Strategy string `json:"strategy"`
}

type ttlStrategy struct {
	SecondsAfterCompletion int `json:"secondsAfterCompletion,omitempty"`
	SecondsAfterSuccess    int `json:"secondsAfterSuccess,omitempty"`
	SecondsAfterFailure    int `json:"secondsAfterFailure,omitempty"`
}

type arguments struct {
	Parameters []parameter `json:"parameters,omitempty"`
}

type inputs struct {
	Parameters []parameter `json:"parameters,omitempty"`
	Artifacts  []artifact  `json:"artifacts,omitempty"`
}

// parameter is io.argoproj.workflow.v1alpha1.Parameter. Value is a pointer
// so that a declared parameter without a value stays distinct from "".
type parameter struct {
	Name        string     `json:"name"`
	Value       *string    `json:"value,omitempty"`
	ValueFrom   *valueFrom `json:"valueFrom,omitempty"`
	Description string     `json:"description,omitempty"`
}

type valueFrom struct {
	ConfigMapKeyRef *keySelector `json:"configMapKeyRef,omitempty"`
}

type artifact struct {
	Name string       `json:"name"`
	Path string       `json:"path,omitempty"`
	Git  *gitArtifact `json:"git,omitempty"`
}

type gitArtifact struct {
	Repo     string `json:"repo"`
	Revision string `json:"revision,omitempty"`
}

// template is io.argoproj.workflow.v1alpha1.Template: either the DAG or a
// container.
type template struct {
	Name      string       `json:"name"`
	Metadata  *metadata    `json:"metadata,omitempty"`
	Inputs    *inputs      `json:"inputs,omitempty"`
	DAG       *dagTemplate `json:"dag,omitempty"`
	Container *container   `json:"container,omitempty"`
	// ActiveDeadlineSeconds is an IntOrString, which Argo's JSON schema
	// types as a string.
	ActiveDeadlineSeconds string            `json:"activeDeadlineSeconds,omitempty"`
	RetryStrategy         *retryStrategy    `json:"retryStrategy,omitempty"`
	NodeSelector          map[string]string `json:"nodeSelector,omitempty"`
	Tolerations           []toleration      `json:"tolerations,omitempty"`
}

type metadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type dagTemplate struct {
	Tasks []dagTask `json:"tasks"`
}

type dagTask struct {
	Name         string       `json:"name"`
	Template     string       `json:"template,omitempty"`
	TemplateRef  *templateRef `json:"templateRef,omitempty"`
	Dependencies []string     `json:"dependencies,omitempty"`
	Arguments    *arguments   `json:"arguments,omitempty"`
}

type templateRef struct {
	Name     string `json:"name"`
	Template string `json:"template"`
}

// retryStrategy is io.argoproj.workflow.v1alpha1.RetryStrategy; Limit is an
// IntOrString, rendered as a string.
type retryStrategy struct {
	Limit       string `json:"limit"`
	RetryPolicy string `json:"retryPolicy"`
}

type container struct {
	Name       string                `json:"name,omitempty"`
	Image      string                `json:"image"`
	Command    []string              `json:"command,omitempty"`
	Args       []string              `json:"args,omitempty"`
	WorkingDir string                `json:"workingDir,omitempty"`
	Env        []envVar              `json:"env,omitempty"`
	Resources  *resourceRequirements `json:"resources,omitempty"`
}

type envVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *envVarSource `json:"valueFrom,omitempty"`
}

type envVarSource struct {
	SecretKeyRef *keySelector `json:"secretKeyRef,omitempty"`
}

// keySelector is a Kubernetes SecretKeySelector or ConfigMapKeySelector.
type keySelector struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type resourceRequirements struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

type toleration struct {
	Key      string `json:"key,omitempty"`
	Operator string `json:"operator,omitempty"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect,omitempty"`
}
