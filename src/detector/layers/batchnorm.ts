/**
 * Batch normalisation written as broadcast arithmetic (mean, subtract, multiply, add) with a
 * closed-form gradient.
 *
 * Same values and gradients as `tf.batchNorm` and `tf.layers.batchNormalization`, but the
 * backward pass is made of reductions and elementwise ops: tfjs's own FusedBatchNorm gradient
 * tiles its per-channel terms to the full input shape, which took a quarter of a wasm training
 * step. The layer is saved under the class name `BatchNormalization` with the standard config
 * and weights, so its models load in any tfjs (as the built-in layer); importing this module
 * makes `tf.loadLayersModel` build this class instead of the built-in one in this process.
 */
import * as tf from '@tensorflow/tfjs';

export interface BatchNormResult {
  /** Normalised, scaled and shifted input, shape of x. */
  y: tf.Tensor;
  /** Batch mean per channel, [C]. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel (divided by the count, as tf.moments), [C]. */
  variance: tf.Tensor1D;
}

/** Shape that broadcasts a [C] vector along `axis` of a rank-`rank` tensor. */
function broadcastShape(shape: number[], axis: number): number[] {
  return shape.map((d, i) => (i === axis ? d : 1));
}

function normAxis(rank: number, axis: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`batch norm: axis ${axis} is outside a rank-${rank} input`);
  return a;
}

/**
 * Training-mode batch norm of x (any rank, channels on `axis`, default last) with batch
 * statistics: y = (x - mean) / sqrt(var + eps) * gamma + beta. gamma/beta [C] or null (1 / 0).
 * Differentiable in x, gamma and beta, with the closed-form gradient (six full-size
 * elementwise ops and two reductions; autodiff of the same arithmetic needs about twice that):
 * dbeta = sum(dy), dgamma = sum(dy * xhat), dx = k * dy - xhat * k * dgamma / N - k * dbeta / N
 * with xhat = (x - mean) / sqrt(var + eps), k = gamma / sqrt(var + eps), N = values per channel.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, eps: number,
  axis = -1): BatchNormResult {
  const a = normAxis(x.rank, axis);
  const reduce = x.shape.map((_, i) => i).filter((i) => i !== a);
  const bshape = broadcastShape(x.shape, a);
  const c = x.shape[a];
  const n = x.size / c;
  const channelSum = (t: tf.Tensor) => tf.sum(t, reduce, true);
  const stats: tf.Tensor[] = [];
  const bn = tf.customGrad((xx, g, b, save) => {
    const mean = tf.div(channelSum(xx as tf.Tensor), n);
    const centred = tf.sub(xx as tf.Tensor, mean);
    const variance = tf.div(channelSum(tf.square(centred)), n);
    const invstd = tf.rsqrt(tf.add(variance, eps));
    const gb = tf.reshape(g as tf.Tensor, bshape);
    (save as (t: tf.Tensor[]) => void)([centred, invstd, gb]);
    // The statistics leave this scope kept; the caller re-tracks them (see below).
    stats.push(tf.keep(tf.reshape(mean, [c])), tf.keep(tf.reshape(variance, [c])));
    const value = tf.add(tf.mul(centred, tf.mul(invstd, gb)), tf.reshape(b as tf.Tensor, bshape));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [cen, inv, gam] = saved;
      const xhat = tf.mul(cen, inv);
      const dbeta = channelSum(dy);
      const dgamma = channelSum(tf.mul(dy, xhat));
      const k = tf.mul(gam, inv);
      const dx = tf.sub(tf.sub(tf.mul(dy, k), tf.mul(xhat, tf.mul(k, tf.div(dgamma, n)))), tf.mul(k, tf.div(dbeta, n)));
      return [dx, tf.reshape(dgamma, [c]), tf.reshape(dbeta, [c])];
    };
    return {value, gradFunc};
  });
  return tf.tidy(() => {
    const y = bn(x, gamma ?? tf.ones([c]), beta ?? tf.zeros([c]));
    const [mean, variance] = stats.map((t) => tf.clone(t)) as tf.Tensor1D[];
    tf.dispose(stats);
    return {y, mean, variance};
  });
}

/**
 * Inference-mode batch norm with given statistics [C]: y = x * s + (beta - mean * s) with
 * s = gamma / sqrt(variance + eps), the per-channel work done on [C] vectors.
 */
export function batchNormInfer(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor | null,
  beta: tf.Tensor | null, eps: number, axis = -1): tf.Tensor {
  const bshape = broadcastShape(x.shape, normAxis(x.rank, axis));
  return tf.tidy(() => {
    let s = tf.rsqrt(tf.add(variance, eps));
    if (gamma) s = tf.mul(s, gamma);
    let shift = tf.neg(tf.mul(mean, s));
    if (beta) shift = tf.add(shift, beta);
    return tf.add(tf.mul(x, tf.reshape(s, bshape)), tf.reshape(shift, bshape));
  });
}

/** Options of `tf.layers.batchNormalization` (the same object is accepted here). */
export type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** The fields of tfjs's BatchNormalization that `call` reads (they are not in its public typings). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: tf.LayerVariable;
  beta?: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

// tfjs does not export the class itself; its constructor is reachable through an instance.
const BuiltinBatchNorm = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as
  new (args?: BatchNormArgs) => tf.layers.Layer;

/**
 * Drop-in for `tf.layers.batchNormalization`: same constructor options, weights
 * (gamma, beta, moving_mean, moving_variance), config and moving-average update
 * (moving = moving - (moving - batch) * (1 - momentum)), with the arithmetic forward pass.
 */
export class FastBatchNormalization extends BuiltinBatchNorm {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: {training?: boolean}): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const f = this as unknown as BatchNormFields;
    const gamma = f.gamma ? f.gamma.read() : null;
    const beta = f.beta ? f.beta.read() : null;
    if (!kwargs.training) {
      return batchNormInfer(x, f.movingMean.read(), f.movingVariance.read(), gamma, beta, f.epsilon, f.axis);
    }
    const {y, mean, variance} = batchNormTrain(x, gamma, beta, f.epsilon, f.axis);
    tf.tidy(() => {
      const decay = 1 - f.momentum;
      for (const [v, batch] of [[f.movingMean, mean], [f.movingVariance, variance]] as const) {
        const old = v.read();
        v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
      }
    });
    tf.dispose([mean, variance]);
    return y;
  }
}

tf.serialization.registerClass(FastBatchNormalization as unknown as tf.serialization.SerializableConstructor<
  tf.serialization.Serializable>);

/** Creates a FastBatchNormalization layer (options as tf.layers.batchNormalization). */
export function batchNormalization(args: BatchNormArgs = {}): tf.layers.Layer {
  return new FastBatchNormalization(args);
}
