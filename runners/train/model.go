package train

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/gpu"
	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
	"github.com/slipway-ml/slipway/runners/train/gpu/hist"
	gpulogistic "github.com/slipway-ml/slipway/runners/train/gpu/logistic"
	gpumlp "github.com/slipway-ml/slipway/runners/train/gpu/mlp"
	"github.com/slipway-ml/slipway/runners/train/logistic"
	"github.com/slipway-ml/slipway/runners/train/mlp"
)

// Model is a trained model of any kind.
type Model interface {
	// Predict scores the rows of x: the positive class's probability for
	// a binary task, the value for regression.
	Predict(x *data.Matrix) ([]float64, error)
	// Importance is each input's total split gain (gbdt) or the
	// equivalent for the other kinds, by input name.
	Importance() map[string]float64
	// MarshalBinary encodes the model in its kind's versioned format.
	MarshalBinary() ([]byte, error)
}

// LoadModel decodes a model of the given kind from the bytes its
// MarshalBinary wrote.
func LoadModel(kind string, b []byte) (Model, error) {
	switch kind {
	case "logistic":
		m, err := logistic.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("load logistic model: %w", err)
		}
		return m, nil
	case "gbdt":
		m := new(gbdt.Model)
		if err := m.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("load gbdt model: %w", err)
		}
		return m, nil
	case "mlp":
		m, err := mlp.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("load mlp model: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("load model: unknown model kind %q (want logistic, gbdt or mlp)", kind)
}

// ModelSpec is a model as a pipeline spec declares it (the training
// section, defaults applied by the compiler).
type ModelSpec struct {
	// Model is logistic, gbdt or mlp.
	Model string
	// Seed makes training reproducible.
	Seed uint64
	// ClassWeights is nil, "balanced", or a weight per label value
	// (map[string]any of numbers, as decoded from the spec).
	ClassWeights any
	// Positive is the positive class, used to map ClassWeights by label
	// value onto classes 0 and 1.
	Positive string
	// Logistic, GBDT and MLP hold the kind's parameters; nil means the
	// peers' defaults.
	Logistic *spec.Logistic
	GBDT     *spec.GBDT
	MLP      *spec.MLP
	// Threads bounds parallelism; 0 means all cores.
	Threads int
	// Device is "cpu" (or ""), "gpu" or "auto": where training runs (see
	// gpu.Pick). With a GPU, logistic and mlp train on it and gbdt builds
	// its histograms on it.
	Device string
	// Progress, when set, is called as training advances.
	Progress func(iteration int, trainLoss, validLoss float64)
	// Logf, when set, receives notes such as a GPU falling back to the
	// CPU.
	Logf func(format string, a ...any)
}

// Params returns the parameters FitModel trains with: the kind's defaults
// overlaid with the spec's values.
func (ms ModelSpec) Params(task string) (any, error) {
	switch ms.Model {
	case "logistic":
		if task != features.Binary {
			return nil, errors.New("logistic regression needs a binary label")
		}
		p := logistic.DefaultParams()
		if ms.Logistic != nil {
			copyFields(&p, ms.Logistic)
		}
		p.Threads = ms.Threads
		if err := ms.classWeights(&p); err != nil {
			return nil, err
		}
		return p, nil
	case "gbdt":
		if ms.ClassWeights != nil {
			return nil, errors.New("classWeights is supported by the logistic model only")
		}
		p := gbdt.DefaultParams()
		if ms.GBDT != nil {
			copyFields(&p, ms.GBDT)
		}
		p.Threads, p.Seed = ms.Threads, int64(ms.Seed)
		if task == features.Regression {
			p.Objective = gbdt.ObjectiveRegression
		}
		return p, nil
	case "mlp":
		if ms.ClassWeights != nil {
			return nil, errors.New("classWeights is supported by the logistic model only")
		}
		p := mlp.DefaultParams()
		if ms.MLP != nil {
			copyFields(&p, ms.MLP)
		}
		p.Threads, p.Seed, p.Task = ms.Threads, ms.Seed, task
		return p, nil
	}
	return nil, fmt.Errorf("the bundled training core has no %q model (want logistic, gbdt or mlp)", ms.Model)
}

// classWeights applies ClassWeights to logistic parameters.
func (ms ModelSpec) classWeights(p *logistic.Params) error {
	switch w := ms.ClassWeights.(type) {
	case nil:
	case string:
		if w != "balanced" {
			return fmt.Errorf("classWeights %q is neither \"balanced\" nor a weight per label value", w)
		}
		p.ClassWeight = "balanced"
	case map[string]any:
		p.Weights = [2]float64{1, 1}
		for label, v := range w {
			f, ok := v.(float64)
			if !ok || f <= 0 {
				return fmt.Errorf("classWeights[%q] is %v, want a positive number", label, v)
			}
			if label == ms.Positive {
				p.Weights[1] = f
			} else {
				p.Weights[0] = f
			}
		}
	default:
		return fmt.Errorf("classWeights has type %T, want \"balanced\" or a weight per label value", w)
	}
	return nil
}

// FitModel trains a model of ms's kind on x and y; vx and vy, when not
// nil, are the validation rows early stopping watches. It returns the
// model, the parameters used and the training time in seconds.
func FitModel(ctx context.Context, ms ModelSpec, task string, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64) (Model, any, float64, error) {
	p, err := ms.Params(task)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("train: %w", err)
	}
	c, err := gpu.Pick(ms.Device, nil)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("train: %w", err)
	}
	if c != nil {
		// The kernels must compute what their CPU emulators compute
		// before a model is trusted to them.
		if err := checkDevice(c); err != nil {
			if ms.Device == gpu.GPU {
				return nil, nil, 0, fmt.Errorf("train: %s failed its self-check: %w", gpu.Name(c), err)
			}
			if ms.Logf != nil {
				ms.Logf("%s failed its self-check (%v): training on the CPU", gpu.Name(c), err)
			}
			c = nil
		}
	}
	if c == nil {
		m, secs, err := trainParams(ctx, p, x, y, vx, vy, ms.Progress)
		return m, p, secs, err
	}
	m, secs, err := trainOnGPU(ctx, c, p, x, y, vx, vy, ms.Progress)
	return m, p, secs, err
}

// trainOnGPU trains the model whose parameter type p is with the GPU
// trainers: logistic's objective, gbdt's histograms and the whole mlp on c.
func trainOnGPU(ctx context.Context, c *cuda.Context, p any, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, progress func(int, float64, float64)) (Model, float64, error) {
	start := time.Now()
	var (
		m   Model
		err error
	)
	switch p := p.(type) {
	case logistic.Params:
		m, err = gpulogistic.Train(ctx, c, x, y, p)
	case gbdt.Params:
		if p.EarlyStoppingRounds == 0 {
			vx, vy = nil, nil
		}
		var b *hist.Builder
		if b, err = hist.NewBuilder(c); err == nil {
			m, err = gbdt.TrainWith(ctx, x, y, vx, vy, p, progress, b)
			err = errors.Join(err, b.Close())
		}
	case mlp.Params:
		m, err = gpumlp.Train(ctx, c, x, y, vx, vy, p, progress)
	default:
		return nil, 0, fmt.Errorf("train: no model takes parameters of type %T", p)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("train on %s: %w", gpu.Name(c), err)
	}
	return m, time.Since(start).Seconds(), nil
}

// trainParams trains the model whose parameter type p is.
func trainParams(ctx context.Context, p any, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, progress func(int, float64, float64)) (Model, float64, error) {
	start := time.Now()
	var (
		m   Model
		err error
	)
	switch p := p.(type) {
	case logistic.Params:
		m, err = logistic.Train(ctx, x, y, p)
	case gbdt.Params:
		if p.EarlyStoppingRounds == 0 {
			vx, vy = nil, nil
		}
		m, err = gbdt.Train(ctx, x, y, vx, vy, p, progress)
	case mlp.Params:
		m, err = mlp.Train(ctx, x, y, vx, vy, p, progress)
	default:
		return nil, 0, fmt.Errorf("train: no model takes parameters of type %T", p)
	}
	if err != nil {
		return nil, 0, err
	}
	return m, time.Since(start).Seconds(), nil
}

// copyFields sets each field of *dst from the field of *src with the same
// name and type; the spec's model sections name their fields as the
// models' parameters do.
func copyFields(dst, src any) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range sv.NumField() {
		sf := sv.Type().Field(i)
		df := dv.FieldByName(sf.Name)
		if df.IsValid() && df.CanSet() && df.Type() == sf.Type {
			df.Set(sv.Field(i))
		}
	}
}
