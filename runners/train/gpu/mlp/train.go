package gpumlp

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
	"github.com/slipway-ml/slipway/runners/train/mlp"
)

// evalRows is the least number of validation rows evaluated at once (the
// batch buffers hold max(batch size, evalRows) rows).
const evalRows = 512

// maxRows is the most rows a product covers: 65,535 blocks of tileM rows.
const maxRows = 65535 * tileM

// Train fits the mlp package's network on the device of c, as mlp.Train
// does on the CPU: the same validation, initial weights, shuffle order,
// dropout masks and early stopping, in float32 arithmetic. Inputs are
// standardised on the host and uploaded once; each epoch uploads the
// shuffle order and reads back the losses (and the weights when they are
// the best so far). ctx is checked between minibatches.
func Train(ctx context.Context, c *cuda.Context, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p mlp.Params, progress mlp.Progress) (*mlp.Model, error) {
	return TrainWith(ctx, c, Options{}, x, y, vx, vy, p, progress)
}

// Options choose among the kernels' variants; the zero value is the
// default, float32 arithmetic throughout.
type Options struct {
	// TF32 runs the matrix products on the tensor cores (mma.sync with
	// operands rounded to tf32, 10 fraction bits, and float32 sums)
	// instead of float32 fused multiply-adds: more throughput on large
	// batches, less precision. Off by default.
	TF32 bool
}

// TrainWith is Train with the kernels' variants chosen by opts.
func TrainWith(ctx context.Context, c *cuda.Context, opts Options, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p mlp.Params, progress mlp.Progress) (*mlp.Model, error) {
	m, p, rng, err := mlp.Setup(x, y, vx, vy, p)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("gpumlp: no CUDA context")
	}
	dev, err := newDevice(c)
	if err != nil {
		return nil, fmt.Errorf("gpumlp: %w", err)
	}
	defer func() { _ = dev.mod.Unload() }()
	return train(ctx, dev, opts, m, p, rng, x, y, vx, vy, progress)
}

// shuffler is the random stream Train shuffles with.
type shuffler interface {
	Shuffle(n int, swap func(i, j int))
}

// train runs the epochs on be from the model and stream mlp.Setup made.
func train(ctx context.Context, be backend, opts Options, m *mlp.Model, p mlp.Params, rng shuffler, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, progress mlp.Progress) (*mlp.Model, error) {
	if rows := max(p.BatchSize, evalRows); rows > maxRows {
		return nil, fmt.Errorf("gpumlp: batch size %d is over the %d rows one launch covers", rows, maxRows)
	}
	var best [][]float32
	err := be.run(func() (err error) {
		defer func() {
			if ferr := be.free(); err == nil && ferr != nil {
				err = ferr
			}
		}()
		s, err := newSession(be, opts, m, p, x, y, vx, vy)
		if err != nil {
			return err
		}
		order := make([]int, x.Rows())
		for i := range order {
			order[i] = i
		}
		bestLoss, stale := math.Inf(1), 0
		for epoch := 1; epoch <= p.Epochs; epoch++ {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			trainLoss, err := s.epoch(ctx, epoch, order)
			if err != nil {
				return err
			}
			validLoss, watch := math.NaN(), trainLoss
			if vx != nil {
				if validLoss, err = s.validate(); err != nil {
					return err
				}
				watch = validLoss
			}
			if progress != nil {
				progress(epoch, trainLoss, validLoss)
			}
			m.Epochs = epoch
			if watch < bestLoss-p.Tol {
				bestLoss, stale, m.BestEpoch = watch, 0, epoch
				if vx != nil {
					if best, err = s.nt.weights(); err != nil {
						return err
					}
				}
			} else if stale++; p.EarlyStoppingRounds > 0 && stale >= p.EarlyStoppingRounds {
				break
			}
		}
		if vx == nil {
			best, err = s.nt.weights()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gpumlp: %w", err)
	}
	if best != nil {
		// Without an improvement (a loss that is never a number), the
		// initial weights stay, as on the CPU.
		setLayers(m, best)
	}
	if vx == nil {
		m.BestEpoch = m.Epochs
	}
	m.SetImportance()
	return m, nil
}

// session is one training run's data on a backend.
type session struct {
	be            backend
	nt            *net
	batch, n      int
	x, y, perm    ref // the standardised rows, labels and this epoch's order
	losses        ref // the loss sums of an epoch's batches
	slots         int
	vx, vy, vloss ref // the validation rows, labels and loss sums
	vrows, vslots int
	perm32        []int32
	buf           []float32
}

// newSession makes the network's buffers and uploads the standardised
// rows and labels (vx may be nil).
func newSession(be backend, opts Options, m *mlp.Model, p mlp.Params, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64) (*session, error) {
	s := &session{be: be, batch: p.BatchSize, n: x.Rows()}
	var err error
	if s.nt, err = newNet(be, m, p, opts, max(p.BatchSize, evalRows)); err != nil {
		return nil, err
	}
	s.slots = lossSlots(s.n, s.batch)
	if s.x, err = s.upload(m.Standardize(x), 0); err != nil {
		return nil, err
	}
	if s.y, err = s.upload(y, 0); err != nil {
		return nil, err
	}
	if s.perm, err = s.upload(nil, s.n); err != nil {
		return nil, err
	}
	if s.losses, err = s.upload(nil, s.slots); err != nil {
		return nil, err
	}
	if vx != nil {
		s.vrows = vx.Rows()
		s.vslots = lossSlots(s.vrows, s.nt.cap)
		if s.vx, err = s.upload(m.Standardize(vx), 0); err != nil {
			return nil, err
		}
		if s.vy, err = s.upload(vy, 0); err != nil {
			return nil, err
		}
		if s.vloss, err = s.upload(nil, s.vslots); err != nil {
			return nil, err
		}
	}
	s.perm32, s.buf = make([]int32, s.n), make([]float32, max(s.slots, s.vslots))
	return s, nil
}

// upload allocates a buffer of vals as float32, or of n zero words when
// vals is nil.
func (s *session) upload(vals []float64, n int) (ref, error) {
	b, err := s.be.alloc(max(1, n, len(vals)))
	if err != nil || vals == nil {
		return ref{b: b}, err
	}
	f := make([]float32, len(vals))
	for i, v := range vals {
		f[i] = float32(v)
	}
	return ref{b: b}, s.be.write(ref{b: b}, f)
}

// epoch runs the minibatches of one epoch in the given order, checking ctx
// between them, and returns the mean training loss.
func (s *session) epoch(ctx context.Context, epoch int, order []int) (float64, error) {
	for i, v := range order {
		s.perm32[i] = int32(v)
	}
	if err := s.be.writeInts(s.perm, s.perm32); err != nil {
		return 0, err
	}
	for b := range (s.n + s.batch - 1) / s.batch {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := b * s.batch
		rows := min(s.batch, s.n-start)
		if err := s.nt.step(s.x, s.y, s.perm, start, rows, uint64(epoch)<<32|uint64(start), s.losses, b*outputBlocks(s.batch)); err != nil {
			return 0, err
		}
	}
	return sumLoss(s.be, s.losses, s.buf[:s.slots], s.n)
}

// validate returns the mean loss on the validation rows.
func (s *session) validate() (float64, error) {
	if _, err := s.nt.evaluate(s.vx, s.vy, s.vrows, s.vloss); err != nil {
		return 0, err
	}
	return sumLoss(s.be, s.vloss, s.buf[:s.vslots], s.vrows)
}

// sumLoss reads the per-block loss sums at out into buf and returns their
// float64 total over rows.
func sumLoss(be backend, out ref, buf []float32, rows int) (float64, error) {
	if err := be.read(buf, out); err != nil {
		return 0, err
	}
	s := 0.0
	for _, v := range buf {
		s += float64(v)
	}
	return s / float64(rows), nil
}
