/**
 * `npm run bench -- train`: ms per training step (forward, backward, Adam) of the detector
 * network at batch 8 on the wasm backend with our kernels, against the cpu backend and against
 * the same network in PyTorch on one thread (when `python3 -c 'import torch'` works), all in
 * this run; inference ms per image; and two ablations on wasm (tfjs's own Conv2DBackpropInput,
 * tfjs's own batch norm). The loss is a stand-in (BCE on the class logits, MSE on the box
 * deltas against fixed random targets): it costs the same order as the detector's real loss,
 * but assignment, sampling and data loading are not timed here.
 *
 * Networks: the detector as `nwd train --preset smoke` builds it (BENCH_TRAIN_PRESET picks
 * another preset; skipped with a note when it cannot be built) and a ~110k-parameter stand-in
 * of the same shape (backbone to stride 16, FPN to stride 4, conv heads), the size the issue's
 * reference numbers were measured with. The cpu row times one step of the
 * stand-in (the detector's takes minutes there); BENCH_TRAIN_CPU=0 skips it.
 */
import {spawnSync} from 'node:child_process';
import {performance} from 'node:perf_hooks';
import type * as tfT from '@tensorflow/tfjs';
import {selectBackend, type Tf} from '../src/detector/backend.js';
import {useWasmKernel} from '../src/detector/kernels/register.js';
import {threadsLabel, wasmThreads} from '../src/detector/wasm-threads.js';
import {batchNormalization} from '../src/detector/layers/batchnorm.js';
import {report, lcg} from './common.js';

const BATCH = 8;

type Norm = 'none' | 'tfjs' | 'fast';

/** conv 3x3 (+ batch norm) + ReLU. */
function convBlock(
  tf: Tf,
  x: tfT.SymbolicTensor,
  name: string,
  filters: number,
  strides: number,
  norm: Norm,
): tfT.SymbolicTensor {
  const conv = tf.layers.conv2d({
    name,
    filters,
    kernelSize: 3,
    strides,
    padding: 'same',
    useBias: norm === 'none',
    activation: norm === 'none' ? 'relu' : 'linear',
    kernelInitializer: 'heNormal',
  });
  let y = conv.apply(x) as tfT.SymbolicTensor;
  if (norm === 'none') return y;
  const bn =
    norm === 'fast' ? batchNormalization({name: `${name}_bn`}) : tf.layers.batchNormalization({name: `${name}_bn`});
  y = bn.apply(y) as tfT.SymbolicTensor;
  return tf.layers.activation({name: `${name}_relu`, activation: 'relu'}).apply(y) as tfT.SymbolicTensor;
}

/**
 * The stand-in (~110k parameters): backbone of stride-2 + stride-1 conv pairs (16, 24, 32, 48
 * channels), FPN with 32 channels at strides 4 and 8, per level one 32-channel tower conv and
 * cls (3 anchors x 1 class) / reg (3 x 4) convs; outputs [B, N, 1] and [B, N, 4].
 */
function standIn(tf: Tf, norm: Norm): tfT.LayersModel {
  const input = tf.input({shape: [null, null, 3], name: 'image'});
  const feats: tfT.SymbolicTensor[] = [];
  let x = input;
  [16, 24, 32, 48].forEach((w, i) => {
    x = convBlock(tf, x, `b${i}_down`, w, 2, norm);
    x = convBlock(tf, x, `b${i}_conv`, w, 1, norm);
    feats.push(x);
  });
  const lat = (name: string, t: tfT.SymbolicTensor) =>
    tf.layers.conv2d({name, filters: 32, kernelSize: 1}).apply(t) as tfT.SymbolicTensor;
  const up = (name: string, fine: tfT.SymbolicTensor, coarse: tfT.SymbolicTensor) =>
    tf.layers
      .add({name})
      .apply([
        fine,
        tf.layers.upSampling2d({name: `${name}_up`, size: [2, 2]}).apply(coarse) as tfT.SymbolicTensor,
      ]) as tfT.SymbolicTensor;
  const p3 = up('td3', lat('lat3', feats[2]), lat('lat4', feats[3]));
  const p2 = up('td2', lat('lat2', feats[1]), p3);
  const outs = [p2, p3].map((p, l) => {
    const s = convBlock(tf, p, `smooth${l}`, 32, 1, 'none');
    const t = convBlock(tf, s, `tower${l}`, 32, 1, 'none');
    const head = (kind: string, k: number) =>
      tf.layers
        .reshape({name: `${kind}${l}_flat`, targetShape: [-1, k]})
        .apply(
          tf.layers.conv2d({name: `${kind}${l}`, filters: 3 * k, kernelSize: 3, padding: 'same'}).apply(t),
        ) as tfT.SymbolicTensor;
    return [head('cls', 1), head('reg', 4)];
  });
  const cls = tf.layers.concatenate({name: 'cls', axis: 1}).apply([outs[0][0], outs[1][0]]) as tfT.SymbolicTensor;
  const reg = tf.layers.concatenate({name: 'reg', axis: 1}).apply([outs[0][1], outs[1][1]]) as tfT.SymbolicTensor;
  return tf.model({inputs: input, outputs: [cls, reg], name: 'standin'});
}

/**
 * The detector of src/detector/model.ts as `nwd train --preset NAME` builds it, or the reason
 * it cannot be built. Typed loosely so this bench keeps compiling while those modules change.
 */
async function detector(preset: string): Promise<tfT.LayersModel | string> {
  try {
    const train = (await import('../src/detector/train.js')) as unknown as {
      makeConfig?: (o: object, h: unknown, categories: {id: number; name: string}[], c: number) => unknown;
      PRESET_HYPER?: Record<string, unknown>;
    };
    const hyper = train.PRESET_HYPER?.[preset];
    if (!train.makeConfig || !hyper) return `no makeConfig / preset '${preset}' in src/detector/train.ts`;
    const cfg = train.makeConfig({}, hyper, [{id: 1, name: 'object'}], 12.8);
    type Build = {buildDetector: (c: unknown) => tfT.LayersModel};
    const model = (await import('../src/detector/model.js')) as unknown as Build;
    return model.buildDetector(cfg);
  } catch (err) {
    return `the detector could not be built (${(err as Error).message})`;
  }
}

/** Fixed random inputs and targets for a model's outputs. */
function batch(tf: Tf, model: tfT.LayersModel, side: number): {x: tfT.Tensor4D; targets: tfT.Tensor[]} {
  const r = lcg(side);
  const pixels = Float32Array.from({length: BATCH * side * side * 3}, () => r() * 2 - 1);
  const x = tf.tensor4d(pixels, [BATCH, side, side, 3]);
  const shapes = tf.tidy(() => (model.predict(tf.zeros([1, side, side, 3])) as tfT.Tensor[]).map((t) => t.shape));
  const targets = shapes.map((s, i) => {
    const shape = [BATCH, ...s.slice(1)];
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(
      Float32Array.from({length: n}, () => (i === 0 ? (r() < 0.01 ? 1 : 0) : r() - 0.5)),
      shape,
    );
  });
  return {x, targets};
}

interface StepTimes {
  /** Median wall-clock ms per step. */
  wall: number;
  /** Median process CPU ms per step: on a shared machine, closer to the idle wall time. */
  cpu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median times of `steps` training steps after `warmup`; warns when the tensor count grows. */
function timeSteps(tf: Tf, model: tfT.LayersModel, side: number, warmup: number, steps: number): StepTimes {
  const {x, targets} = batch(tf, model, side);
  const opt = tf.train.adam(1e-3);
  const step = () => {
    const loss = opt.minimize(() => {
      const [cls, reg] = model.apply(x, {training: true}) as tfT.Tensor[];
      const c = tf.losses.sigmoidCrossEntropy(targets[0], cls);
      return tf.add(c, tf.losses.meanSquaredError(targets[1], reg)) as tfT.Scalar;
    }, true) as tfT.Scalar;
    loss.dataSync();
    loss.dispose();
  };
  for (let i = 0; i < warmup; i++) step();
  const before = tf.memory().numTensors;
  const wall: number[] = [],
    cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    step();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  if (warmup > 0 && tf.memory().numTensors !== before) {
    process.stderr.write(`bench train: tensor count grew from ${before} to ${tf.memory().numTensors}\n`);
  }
  opt.dispose();
  tf.dispose([x, ...targets]);
  return {wall: median(wall), cpu: median(cpu)};
}

/** Median ms per image of inference at batch 8. */
function timeInference(tf: Tf, model: tfT.LayersModel, side: number, repeats: number): number {
  const x = tf.randomUniform([BATCH, side, side, 3]) as tfT.Tensor4D;
  const run = () => tf.tidy(() => (model.predict(x) as tfT.Tensor[]).forEach((t) => t.dataSync()));
  run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  x.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] / BATCH;
}

/** The layer graph of a tfjs functional model, for rebuilding it in PyTorch. */
function graphSpec(model: tfT.LayersModel): unknown[] {
  return model.layers
    .map((l) => {
      const node = (l as unknown as {inboundNodes: {inboundLayers: tfT.layers.Layer[]}[]}).inboundNodes[0];
      return {
        name: l.name,
        type: l.getClassName(),
        inputs: node.inboundLayers.map((p) => p.name),
        config: l.getConfig(),
      };
    })
    .concat([{name: '__outputs__', type: 'Outputs', inputs: model.outputs.map((o) => o.sourceLayer.name), config: {}}]);
}

// Builds the same graph in PyTorch (NCHW) and times it on one thread; prints one JSON object.
const TORCH = String.raw`
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
spec = json.load(sys.stdin); B, sides = spec['batch'], spec['sides']
torch.set_num_threads(spec['threads']); torch.set_num_interop_threads(1); torch.manual_seed(0)
class Net(nn.Module):
    def __init__(s, layers):
        super().__init__(); s.layers = layers; s.mods = nn.ModuleDict(); ch = {}
        for l in layers:
            t, c, n = l['type'], l['config'], l['name']
            cin = ch[l['inputs'][0]] if l['inputs'] else 3
            if t == 'InputLayer': ch[n] = c['batchInputShape'][-1]
            elif t in ('Conv2D', 'DepthwiseConv2D'):
                k = c['kernelSize'][0]; st = c['strides'][0]; pad = k // 2 if c['padding'] == 'same' else 0
                if t == 'Conv2D': out, groups = c['filters'], 1
                else: out, groups = cin * c['depthMultiplier'], cin
                s.mods[n] = nn.Conv2d(cin, out, k, st, pad, groups=groups, bias=c['useBias']); ch[n] = out
            elif t == 'Conv2DTranspose':
                k = c['kernelSize'][0]; st = c['strides'][0]
                pad = max(0, -(-(k - st) // 2)) if c['padding'] == 'same' else 0
                outpad = st - k + 2 * pad if c['padding'] == 'same' or k < st else 0
                s.mods[n] = nn.ConvTranspose2d(cin, c['filters'], k, st, pad, outpad, bias=c['useBias'])
                s.mods[n].weight.requires_grad_(c.get('trainable', True)); ch[n] = c['filters']
            elif t == 'BatchNormalization':
                s.mods[n] = nn.BatchNorm2d(cin, eps=c['epsilon'], momentum=1 - c['momentum']); ch[n] = cin
            elif t == 'Concatenate': ch[n] = sum(ch[i] for i in l['inputs'])
            elif t in ('UpSampling2D', 'Add', 'Activation', 'ReLU', 'Reshape', 'Outputs'): ch[n] = cin
            else: raise SystemExit('unsupported layer ' + t)
    def forward(s, x):
        v = {}
        for l in s.layers:
            t, c, n = l['type'], l['config'], l['name']; ins = [v[i] for i in l['inputs']]
            if t == 'InputLayer': y = x
            elif t in ('Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose', 'BatchNormalization'): y = s.mods[n](ins[0])
            elif t == 'UpSampling2D': y = F.interpolate(ins[0], scale_factor=tuple(c['size']), mode='nearest')
            elif t == 'Add': y = sum(ins)
            elif t == 'Concatenate': y = torch.cat(ins, 1)
            elif t == 'Reshape':
                shape = [-1 if d is None else d for d in c['targetShape']]
                y = ins[0].permute(0, 2, 3, 1).reshape(ins[0].shape[0], *shape)
            elif t in ('Activation', 'ReLU'): y = ins[0]
            elif t == 'Outputs': return ins
            act = 'relu' if t == 'ReLU' else c.get('activation', 'linear')
            if act == 'relu': y = F.relu(y)
            elif act != 'linear': raise SystemExit('unsupported activation ' + act)
            v[n] = y
def median(xs): xs = sorted(xs); return xs[len(xs) // 2]
net = Net(spec['layers']); opt = torch.optim.Adam(net.parameters(), 1e-3); res = {}
for side in sides:
    x = torch.rand(B, 3, side, side) * 2 - 1
    with torch.no_grad(): shapes = [o.shape for o in net(x)]
    cls_t = (torch.rand(shapes[0]) < 0.01).float(); reg_t = torch.rand(shapes[1]) - 0.5
    def step():
        opt.zero_grad(); cls, reg = net(x)
        loss = F.binary_cross_entropy_with_logits(cls, cls_t) + F.mse_loss(reg, reg_t); loss.backward(); opt.step()
    ts, cs = [], []
    for i in range(7):
        t0, c0 = time.perf_counter(), time.process_time(); step()
        ts.append((time.perf_counter() - t0) * 1000); cs.append((time.process_time() - c0) * 1000)
    res['train_%d' % side] = median(ts[2:]); res['train_%d_cpu' % side] = median(cs[2:])
    net.eval(); ts = []
    with torch.no_grad():
        for i in range(6):
            t0 = time.perf_counter(); net(x); ts.append((time.perf_counter() - t0) * 1000 / B)
    net.train(); res['infer_%d' % side] = median(ts[1:])
res['params'] = sum(p.numel() for p in net.parameters())
print(json.dumps(res))
`;

/** PyTorch times for the graph on `threads` threads, or the reason there are none. */
function torchTimes(model: tfT.LayersModel, sides: number[], threads = 1): Record<string, number> | string {
  const probe = spawnSync('python3', ['-c', 'import torch'], {encoding: 'utf8'});
  if (probe.error || probe.status !== 0) return 'no python3 with torch here';
  const input = JSON.stringify({batch: BATCH, sides, threads, layers: graphSpec(model)});
  const r = spawnSync('python3', ['-c', TORCH], {input, encoding: 'utf8', maxBuffer: 1 << 24});
  if (r.status !== 0) return `the PyTorch run failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  return JSON.parse(r.stdout) as Record<string, number>;
}

/** Training and inference rows for one network: wasm against PyTorch on one thread. */
function benchNet(tf: Tf, model: tfT.LayersModel, tag: string, key: string): StepTimes {
  const wasm128 = timeSteps(tf, model, 128, 2, 5);
  const wasm256 = timeSteps(tf, model, 256, 1, 3);
  const inf128 = timeInference(tf, model, 128, 5),
    inf256 = timeInference(tf, model, 256, 3);
  const torch = torchTimes(model, [128, 256]);
  const note = `${tag}; wasm ${threadsNote()}${typeof torch === 'string' ? `; PyTorch skipped: ${torch}` : ''}`;
  const t = (k: string) => (typeof torch === 'string' ? null : torch[k]);
  const cpuNote = (ours: StepTimes, side: number) => {
    const theirs = t(`train_${side}_cpu`);
    return (
      `${note}; CPU time per step: wasm ${ours.cpu.toFixed(0)} ms` +
      `${theirs === null ? '' : `, PyTorch ${theirs.toFixed(0)} ms`}`
    );
  };
  report(
    `train_step_8x128_${key}_wasm_vs_torch1`,
    wasm128.wall,
    'pytorch 1 thread',
    t('train_128'),
    cpuNote(wasm128, 128),
  );
  report(
    `train_step_8x256_${key}_wasm_vs_torch1`,
    wasm256.wall,
    'pytorch 1 thread',
    t('train_256'),
    cpuNote(wasm256, 256),
  );
  report(
    `infer_per_image_128_${key}_wasm_vs_torch1`,
    inf128,
    'pytorch 1 thread',
    t('infer_128'),
    `${(1000 / inf128).toFixed(0)} images/s on wasm; ${note}`,
  );
  report(
    `infer_per_image_256_${key}_wasm_vs_torch1`,
    inf256,
    'pytorch 1 thread',
    t('infer_256'),
    `${(1000 / inf256).toFixed(0)} images/s on wasm; ${note}`,
  );
  if (wasmThreads() > 1) {
    // Like for like: PyTorch on as many threads as wasm has.
    const n = wasmThreads();
    const torchN = torchTimes(model, [128], n);
    report(`train_step_8x128_${key}_wasm_vs_torch${n}`, wasm128.wall, `pytorch ${n} threads`,
      typeof torchN === 'string' ? null : torchN.train_128, note);
  }
  return wasm128;
}

/** The wasm backend's threads (NWD_THREADS, default: the cores), for notes. */
const threadsNote = () => threadsLabel(wasmThreads());

/**
 * ms per training step of `preset`'s detector at 8x128x128 on the single-threaded wasm build, timed in
 * a child process (the backend's thread count is fixed per process), or the reason there is none.
 */
function singleThreadStep(preset: string): number | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'train'], {encoding: 'utf8',
    env: {...process.env, NWD_THREADS: '1', BENCH_TRAIN_SINGLE: '1', BENCH_TRAIN_PRESET: preset}});
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return `the one-thread run failed: ${r.stderr.trim().split('\n').pop()}`;
  return (JSON.parse(line) as {ms: number}).ms;
}

const describe = (label: string, m: tfT.LayersModel) =>
  `${label}, ${(m.countParams() / 1000).toFixed(0)}k params, batch ${BATCH}, Adam, stand-in loss`;

export async function run(): Promise<void> {
  const {tf} = await selectBackend('wasm');
  const preset = process.env.BENCH_TRAIN_PRESET ?? 'smoke';
  const det = await detector(preset);
  if (typeof det === 'string') process.stderr.write(`bench train: detector skipped: ${det}\n`);
  if (process.env.BENCH_TRAIN_SINGLE === '1') {
    // The child of singleThreadStep: one number, then done.
    if (typeof det !== 'string') console.log(JSON.stringify({ms: timeSteps(tf, det, 128, 2, 5).wall}));
    return;
  }
  const nets: Array<[tfT.LayersModel, string, string]> = [];
  if (typeof det !== 'string') nets.push([det, describe(`detector, preset ${preset}`, det), 'detector']);
  const stand = standIn(tf, 'none');
  nets.push([stand, describe('stand-in net (bench/train.ts)', stand), 'standin']);
  const wasm128 = nets.map(([m, tag, key]) => benchNet(tf, m, tag, key));
  if (typeof det !== 'string' && wasmThreads() > 1) {
    const one = singleThreadStep(preset);
    report('train_step_8x128_detector_wasm_threads', wasm128[0].wall, 'wasm 1 thread',
      typeof one === 'string' ? null : one, `${nets[0][1]}; ours: wasm ${threadsNote()}` +
      `${typeof one === 'string' ? `; ${one}` : ''}`);
  }

  // Ablations on wasm with the stand-in: tfjs's own input-gradient kernel, and tfjs's batch norm.
  const standTag = nets[nets.length - 1][1];
  useWasmKernel(tf, 'Conv2DBackpropInput', 'builtin');
  const builtinInput = timeSteps(tf, stand, 128, 1, 3);
  useWasmKernel(tf, 'Conv2DBackpropInput', 'nwd');
  report(
    'train_step_8x128_standin_conv_input_grad',
    wasm128[wasm128.length - 1].wall,
    'wasm built-in Conv2DBackpropInput',
    builtinInput.wall,
    standTag,
  );
  const bnFast = standIn(tf, 'fast'),
    bnTfjs = standIn(tf, 'tfjs');
  report(
    'train_step_8x128_standin_bn_batchnorm',
    timeSteps(tf, bnFast, 128, 2, 3).wall,
    'tf.layers.batchNormalization',
    timeSteps(tf, bnTfjs, 128, 2, 3).wall,
    `${describe('stand-in net with batch norm after each backbone conv', bnFast)}; ` + 'ours: FastBatchNormalization',
  );
  bnFast.dispose();
  bnTfjs.dispose();

  // cpu: one step of the stand-in only (the detector's takes minutes there).
  const standWasm = wasm128[wasm128.length - 1].wall;
  if (process.env.BENCH_TRAIN_CPU === '0') {
    report(
      'train_step_8x128_standin_wasm_vs_cpu',
      standWasm,
      'tfjs cpu',
      null,
      `${standTag}; cpu skipped (BENCH_TRAIN_CPU=0)`,
    );
  } else {
    // tfjs moves the weights to the cpu backend on first use.
    await selectBackend('cpu');
    const cpu128 = timeSteps(tf, stand, 128, 0, 1).wall;
    report('train_step_8x128_standin_wasm_vs_cpu', standWasm, 'tfjs cpu', cpu128, `${standTag}; cpu: a single step`);
    await selectBackend('wasm');
  }
  for (const [m] of nets) m.dispose();
}
