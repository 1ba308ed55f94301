// Package gbdt trains and applies gradient boosted decision trees with the
// histogram method, in pure Go: binary log-loss ("binary:logistic") and
// squared error ("reg:squarederror"), following XGBoost's hist algorithm
// and defaults.
//
// # Training
//
// Each numeric feature is binned once on the training data: up to
// MaxBin−1 value bins, with cut points between adjacent distinct values
// when there are few enough of them and at quantiles of the values
// otherwise, plus bin 0 for missing values (NaN). A categorical column
// (data.Matrix.Categories[j] > 0) gets one bin per category. Bin indices
// are stored column-wise as uint8 (≤ 256 bins) or uint16.
//
// The initial margin is the logit of the mean label (binary) or the mean
// label (regression). Every round computes gradients and hessians, draws
// rows (Bernoulli with probability Subsample) and features
// (ColsampleByTree) with a PCG generator seeded by Params.Seed, and grows
// one tree, depth-wise (every node of a depth before the next, to
// MaxDepth) or loss-guided (the leaf with the largest gain first, to
// MaxLeaves). A node's histogram holds the sums of gradients and hessians
// per bin; the smaller child's histogram is built from its rows and the
// larger child's is the parent's minus it. Histograms are built and
// scanned one feature per task over runtime.GOMAXPROCS goroutines (or
// Params.Threads), each feature summed in row order by one goroutine, so
// the model does not depend on the number of threads or on scheduling.
//
// The gain of a split is ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] − γ,
// with G replaced by its soft threshold at α; a child needs a hessian sum
// of at least MinChildWeight. Numeric splits send values below a cut
// point left; missing values are tried on both sides and the better side
// becomes the node's default direction (without missing values in the
// node, the child with the larger hessian sum). A categorical column with
// fewer than MaxCatToOnehot categories (or any categorical column with
// Categorical "onehot") is split one category against the rest; otherwise
// its categories are sorted by G/H and every prefix of that order is tried
// as the left set. Leaf weights are −G/(H+λ) times the learning rate.
// With a validation set, early stopping keeps the trees up to the
// iteration with the lowest validation loss.
//
// # Binary format
//
// MarshalBinary writes, all integers and floats little-endian (floats as
// IEEE 754 binary64, counts and indices as uint32):
//
//	magic        7 bytes "SLWGBDT"
//	version      uint8, currently 1
//	objective    uint8: 0 binary:logistic, 1 reg:squarederror
//	base score   float64, the initial margin
//	features     uint32 count, then per feature:
//	               name length uint32, name bytes (UTF-8),
//	               categories uint32 (0 for a numeric feature)
//	trees        uint32 count, then per tree:
//	               nodes uint32 count (≥ 1; node 0 is the root), then per node:
//	               kind uint8: 0 leaf, 1 numeric split, 2 categorical split
//	               leaf:  value float64 (the learning rate already applied)
//	               split: feature uint32, default-left uint8 (0 or 1),
//	                      left uint32, right uint32 (node indices, both
//	                      greater than the node's own), gain float64, then
//	                      numeric:     threshold float64 (left when value < threshold)
//	                      categorical: words uint32, then that many uint64
//	                                   words of a bitset of the category codes
//	                                   going left (code c is bit c%64 of word c/64)
//	checksum     uint32, CRC-32 (IEEE) of every byte before it
//
// A row goes down a split by its feature value: NaN follows the default
// direction; for a numeric split, value < threshold goes left; for a
// categorical split, a negative code follows the default direction and a
// code goes left when its bit is set (codes beyond the bitset go right).
// The prediction is the sum of the leaf values of every tree plus the base
// score, passed through the logistic function for binary:logistic.
// Readers reject other magic bytes, versions they do not know, a bad
// checksum and malformed trees.
package gbdt
