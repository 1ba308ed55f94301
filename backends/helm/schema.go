package helm

// The JSON schema of the chart's values (values.schema.json). Helm checks
// the merged values against it on lint, template, install and upgrade, so a
// typo in a --set or a values file fails before anything reaches the
// cluster.

import (
	"maps"
	"slices"
)

// obj is a JSON object.
type obj = map[string]any

// object is a closed object schema: every property listed, none other
// allowed, all of them required unless optional names them.
func object(desc string, props obj, optional ...string) obj {
	var required []string
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if !slices.Contains(optional, k) {
			required = append(required, k)
		}
	}
	o := obj{"type": "object", "additionalProperties": false, "properties": props}
	if desc != "" {
		o["description"] = desc
	}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }

func integer(desc string, minimum int) obj {
	return obj{"type": "integer", "minimum": minimum, "description": desc}
}

func stringMap(desc string) obj {
	return obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": desc}
}

const (
	digestPattern   = "^(sha256:[a-f0-9]{64})?$"
	durationPattern = "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
	promDuration    = "^([0-9]+(ms|s|m|h|d|w|y))+$"
)

// valuesSchema is the JSON schema (draft 07) of the values.
func valuesSchema() obj {
	quantity := obj{"type": "string", "minLength": 1}
	canaryStep := object("", obj{
		"weight": obj{"type": "integer", "minimum": 1, "maximum": 100},
		"pause":  obj{"type": "string", "pattern": durationPattern},
	})
	alert := object("", obj{
		"expr":     obj{"type": "string", "minLength": 1, "description": "PromQL expression."},
		"for":      obj{"type": "string", "pattern": promDuration},
		"severity": obj{"enum": []string{"critical", "info", "warning"}},
		"summary":  str("Human-readable summary."),
	}, "summary")
	props := obj{
		"global":           obj{"type": "object", "description": "Helm's global values (unused)."},
		"nameOverride":     str("Replaces the chart's name in object names."),
		"fullnameOverride": str("Replaces the full object name (release name by default)."),
		"pipeline":         str("The Slipway pipeline the chart serves."),
		"environment":      str("The deployment environment; set by values-<env>.yaml."),
		"production":       boolean("Whether the environment is a production one."),
		"imagePullSecrets": obj{
			"type":        "array",
			"description": "Secrets, by name, to pull the image with.",
			"items":       object("", obj{"name": obj{"type": "string", "minLength": 1}}),
		},
		"image": object("The serving image: the pipeline's Slipway image, or a custom server's image. Pinned by digest when digest is set.", obj{
			"repository": obj{"type": "string", "minLength": 1},
			"tag":        str("Tag, used when digest is empty."),
			"digest":     obj{"type": "string", "pattern": digestPattern},
			"pullPolicy": obj{"enum": []string{"Always", "IfNotPresent", "Never"}},
		}),
		"model": object("The model artifact served: <repository>@<digest>.", obj{
			"repository": str("OCI repository of the model artifact; empty when the pipeline publishes none."),
			"digest":     obj{"type": "string", "pattern": digestPattern, "description": "Manifest digest of the champion model, from slipway.lock; `slipway apply` sets it on release. Empty before the first release: the model is then not pinned."},
		}),
		"server": object("The model server.", obj{
			"kind":            obj{"enum": []string{"builtin", "custom"}, "description": "builtin runs `slipway serve`; custom runs the image's own entrypoint with SLIPWAY_MODEL and SLIPWAY_PORT set."},
			"port":            obj{"type": "integer", "minimum": 1, "maximum": 65535},
			"publicKeySecret": obj{"type": "string", "description": "Secret whose cosign.pub the built-in server verifies the model's signature against; empty: the model is served unverified (--allow-unsigned)."},
		}),
		"replicas": integer("Serving pods without autoscaling (stable plus canary during a canary rollout).", 0),
		"resources": object("Each serving pod's resources.", obj{
			"requests": object("", obj{"cpu": quantity, "memory": quantity}),
			"limits":   object("Memory is limited to the request; CPU is not limited.", obj{"cpu": quantity, "memory": quantity}, "cpu", "memory"),
		}),
		"autoscaling": object("A HorizontalPodAutoscaler on CPU for the stable Deployment.", obj{
			"enabled":                        boolean("Render the HPA; the stable Deployment then has no replicas field."),
			"minReplicas":                    integer("Floor; also the baseline of the canary arithmetic.", 1),
			"maxReplicas":                    integer("Ceiling.", 1),
			"targetCPUUtilizationPercentage": obj{"type": "integer", "minimum": 1, "maximum": 100},
		}),
		"rollout": object("The spec's rollout, for the record; canary.* drives the chart.", obj{
			"strategy":      obj{"enum": []string{"canary", "rolling", "shadow"}},
			"steps":         obj{"type": "array", "items": canaryStep},
			"mirrorPercent": obj{"type": "integer", "minimum": 1, "maximum": 100},
		}, "steps", "mirrorPercent"),
		"canary": object("The canary Deployment (<fullname>-canary). Replicas: canary = ceil(baseline * weight / 100), at least 1 while weight > 0; stable = baseline - canary, at least 1 until weight is 100; baseline = replicas, or autoscaling.minReplicas with autoscaling. Requests split by pod count.", obj{
			"enabled": boolean("Render the canary Deployment."),
			"weight":  obj{"type": "integer", "minimum": 0, "maximum": 100, "description": "Percentage of the baseline replicas given to the canary."},
			"digest":  obj{"type": "string", "pattern": digestPattern, "description": "Digest of the candidate model; the champion's (model.digest) when empty."},
		}),
		"probes": object("Readiness and liveness probes (Open Inference Protocol health endpoints by default).", obj{
			"readinessPath":       obj{"type": "string", "pattern": "^/"},
			"livenessPath":        obj{"type": "string", "pattern": "^/"},
			"initialDelaySeconds": integer("", 0),
			"periodSeconds":       integer("", 1),
			"failureThreshold":    integer("", 1),
		}),
		"service": object("The Service in front of the stable and canary pods.", obj{
			"type": obj{"enum": []string{"ClusterIP", "LoadBalancer", "NodePort"}},
			"port": obj{"type": "integer", "minimum": 1, "maximum": 65535},
		}),
		"serviceAccount": object("The pods' service account; its token is not mounted.", obj{
			"create": boolean("Create the service account."),
			"name":   str("Its name; the full name by default."),
		}),
		"securityContext": object("The pods run as this non-root user, with a read-only root filesystem and no capabilities.", obj{
			"runAsUser": integer("", 1),
		}),
		"podDisruptionBudget": object("A PodDisruptionBudget over stable and canary pods.", obj{
			"enabled":        boolean("Render the PodDisruptionBudget."),
			"maxUnavailable": integer("", 1),
		}),
		"podAnnotations": stringMap("Annotations of the serving pods."),
		"nodeSelector":   stringMap("Node selector of the serving pods."),
		"tolerations":    obj{"type": "array", "items": obj{"type": "object"}, "description": "Tolerations of the serving pods."},
		"affinity":       obj{"type": "object", "description": "Affinity of the serving pods."},
		"monitoring": object("Prometheus Operator objects and the server's drift detection.", obj{
			"enabled":  boolean("Render the ServiceMonitor and the PrometheusRule; needs the Prometheus Operator's CRDs."),
			"interval": obj{"type": "string", "pattern": promDuration},
			"slo": object("Serving objectives: alerts SlipwayLatencyP95High and SlipwayErrorRateHigh.", obj{
				"latencyP95Seconds": obj{"type": "number", "exclusiveMinimum": 0},
				"errorRate":         obj{"type": "number", "minimum": 0, "maximum": 1},
				"for":               obj{"type": "string", "pattern": promDuration},
			}),
			"drift": object("Drift detection, passed to the server as SLIPWAY_DRIFT; alert SlipwayDataDrift.", obj{
				"method":    obj{"enum": []string{"jsd", "ks", "psi", "wasserstein"}},
				"window":    obj{"type": "string", "pattern": durationPattern},
				"reference": obj{"enum": []string{"dataset", "training"}},
				"share":     obj{"type": "number", "exclusiveMinimum": 0, "maximum": 1},
				"threshold": obj{"type": "number", "minimum": 0},
				"features":  obj{"type": "object", "additionalProperties": obj{"type": "number", "minimum": 0}},
			}),
			"scoreShift": object("Alert SlipwayScoreShift: the mean score over window moved more than max from its mean over baseline.", obj{
				"max":      obj{"type": "number", "exclusiveMinimum": 0},
				"window":   obj{"type": "string", "pattern": durationPattern},
				"baseline": obj{"type": "string", "pattern": durationPattern},
			}),
			"alerts": obj{"type": "object", "additionalProperties": alert, "description": "The spec's alert rules, by name."},
		}, "slo", "drift", "scoreShift"),
	}
	s := object("Values of a Slipway model-serving chart.", props, "global")
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	return s
}
