/**
 * Registers on the 'wasm' backend the kernels that training needs and tfjs-backend-wasm 4.22
 * lacks (or runs slowly), each built from ops the backend has.
 */
import type {KernelConfig} from '@tensorflow/tfjs';
import type {Tf} from '../backend.js';
import {conv2dBackpropFilterKernel, conv2dBackpropInputKernel} from './conv2d-grads.js';
import {depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel} from './depthwise-grads.js';
import {unsortedSegmentSumKernel} from './segment-sum.js';

type KernelFunc = KernelConfig['kernelFunc'];

/** Kernels only added where the backend has none. */
const MISSING = {
  Conv2DBackpropFilter: conv2dBackpropFilterKernel,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterKernel,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInputKernel,
  UnsortedSegmentSum: unsortedSegmentSumKernel,
} as const;

/**
 * Kernels that replace the backend's own because ours are faster (see bench/train.ts), made
 * from the built-in kernel function (for the cases they hand back to it).
 */
const FASTER = {
  Conv2DBackpropInput: (_builtin: KernelFunc): KernelFunc => conv2dBackpropInputKernel,
} as const;

/** Names of the kernels `registerWasmGradients` provides. */
export const WASM_GRADIENT_KERNELS = [...Object.keys(MISSING), ...Object.keys(FASTER)];

let done = false;
const builtins = new Map<string, KernelConfig>();

/**
 * Adds our kernels to backend 'wasm' (idempotent). `tf` must be the namespace whose engine runs
 * the wasm backend. Replaced built-in kernels are unregistered first, which tfjs allows; a
 * built-in kernel that is missing (another tfjs version) is left alone.
 */
export function registerWasmGradients(tf: Tf): void {
  if (done) return;
  for (const [name, kernelFunc] of Object.entries(MISSING)) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({kernelName: name, backendName: 'wasm', kernelFunc});
  }
  for (const [name, make] of Object.entries(FASTER)) {
    const own = tf.getKernel(name, 'wasm');
    if (!own) continue;
    builtins.set(name, own);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({...own, kernelFunc: make(own.kernelFunc)});
  }
  done = true;
}

/**
 * For comparisons (bench/train.ts): runs `name` with wasm's built-in kernel (`builtin`) or ours
 * (`nwd`). Only kernels that replace a built-in one can be switched.
 */
export function useWasmKernel(tf: Tf, name: keyof typeof FASTER, which: 'builtin' | 'nwd'): void {
  const builtin = builtins.get(name);
  if (!builtin) throw new Error(`wasm has no built-in ${name} to switch to (call registerWasmGradients first)`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(which === 'builtin' ? builtin : {...builtin, kernelFunc: FASTER[name](builtin.kernelFunc)});
}
