//! Label assignment: which anchors train on which ground truth (GT).
//!
//! Three assigners, all on an overlap measure from [`crate::similarity`] (IoU, NWD, ...; any
//! similarity where larger means closer):
//! - [`max_overlap`]: mmdet's MaxIoUAssigner semantics (the paper's RPN: pos 0.7, neg 0.3,
//!   low-quality matches when a GT's best overlap is >= 0.3).
//! - [`rka`]: NWD-RKA, the ranking assigner of the paper's extension (each GT takes its
//!   top-k anchors, ties included; anchors whose best overlap is < 0.3 are negatives).
//! - [`atss`]: ATSS (per level the k anchors nearest to the GT centre are candidates;
//!   threshold mean + standard deviation of their overlaps; anchor centre inside the GT).
//!
//! Output per anchor (`labels`): -1 ignored, 0 negative, `k + 1` positive for GT `k`, where
//! `k` indexes the GT array as given, ignored GTs included. `max_ov`: for a positive anchor
//! the overlap with its assigned GT, for the others the best overlap with any non-ignored GT
//! (0 without GTs).
//!
//! Ignored (crowd) GTs (`ignore[k] != 0`) never receive anchors. Afterwards a negative anchor
//! becomes ignored when for some ignored GT its overlap is >= [`IgnoreRule::overlap`] or its
//! intersection over its own area (IoF) is > [`IgnoreRule::iof`].
//!
//! Overlaps are computed with [`similarity::pairwise`] in blocks of [`CHUNK`] anchors, so the
//! memory stays `CHUNK x G` floats however many anchors there are. A second pass (low-quality
//! matches, ranking) reads the whole matrix kept from the first when it has at most
//! [`CACHE_FLOATS`] floats, else recomputes the blocks (bit-identical, so equality tests hold).

use crate::similarity::{self, Metric, Params};

/// Anchors per block of overlaps.
pub const CHUNK: usize = 4096;

/// Two-pass assigners keep the whole overlap matrix when it has at most this many floats
/// (32 MB) instead of computing it twice.
pub const CACHE_FLOATS: usize = 1 << 23;

/// Label of an ignored anchor.
pub const IGNORED: i32 = -1;
/// Label of a negative anchor.
pub const NEGATIVE: i32 = 0;

/// Margin (px) by which an anchor centre must lie inside a GT for ATSS (mmdet's 0.01).
pub const ATSS_INSIDE_EPS: f32 = 0.01;

/// The inputs every assigner shares.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    /// Overlap measure (not [`Metric::W2`], a distance).
    pub metric: Metric,
    /// Constants of the Gaussian metrics.
    pub params: Params,
    /// Anchors, `4*A` f32, xyxy.
    pub anchors: &'a [f32],
    /// Ground truths, `4*G` f32, xyxy.
    pub gts: &'a [f32],
    /// `G` flags (non-zero: ignored GT), or empty when none is ignored.
    pub ignore: &'a [u8],
}

/// When a negative anchor near an ignored GT becomes ignored.
#[derive(Clone, Copy, Debug)]
pub struct IgnoreRule {
    /// Intersection over the anchor's area strictly above this.
    pub iof: f32,
    /// Or an overlap (the assigner's metric) at or above this.
    pub overlap: f32,
}

/// Thresholds of the max-overlap assigner.
#[derive(Clone, Copy, Debug)]
pub struct MaxOverlapParams {
    /// Positive when the best overlap is >= this.
    pub pos_thr: f32,
    /// Negative when the best overlap is < this.
    pub neg_thr: f32,
    /// A low-quality match needs the GT's best overlap >= this.
    pub min_pos: f32,
    /// Whether each GT takes its best anchor(s) (all anchors equal to its best overlap).
    pub low_quality: bool,
}

/// GTs split into the ones that receive anchors and the ignored ones.
struct Split {
    real: Vec<f32>,
    real_index: Vec<i32>,
    ignored: Vec<f32>,
}

fn split(pb: &Problem) -> Split {
    let mut s = Split { real: Vec::new(), real_index: Vec::new(), ignored: Vec::new() };
    for (k, b) in pb.gts.chunks_exact(4).enumerate() {
        if pb.ignore.get(k).map_or(false, |&f| f != 0) {
            s.ignored.extend_from_slice(b);
        } else {
            s.real.extend_from_slice(b);
            s.real_index.push(k as i32);
        }
    }
    s
}

/// IoU blocks skip the GTs outside the block's bounding box when at least this many GTs.
const IOU_CULL_MIN_GTS: usize = 4;

/// Bounding box (x1, y1, x2, y2) of `xyxy` boxes (non-empty).
fn bounds(xyxy: &[f32]) -> [f32; 4] {
    let mut b = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
    for q in xyxy.chunks_exact(4) {
        b = [b[0].min(q[0]), b[1].min(q[1]), b[2].max(q[2]), b[3].max(q[3])];
    }
    b
}

/// Overlaps of one block of anchors with `gts`, row-major into `out` (`rows x G`).
///
/// IoU is 0 for a GT that does not overlap the block's bounding box with positive area, so
/// those GTs are skipped and their entries set to 0: the same values as computing them, since
/// the IoU kernels give identical results in every lane and in the scalar tail.
fn block_overlaps(pb: &Problem, block: &[f32], gts: &[f32], out: &mut [f32], sub: &mut Vec<f32>, sel: &mut Vec<usize>) {
    let g = gts.len() / 4;
    if pb.metric != Metric::Iou || g < IOU_CULL_MIN_GTS {
        similarity::pairwise(pb.metric, block, gts, pb.params, out);
        return;
    }
    let bb = bounds(block);
    sel.clear();
    sub.clear();
    for (j, q) in gts.chunks_exact(4).enumerate() {
        if q[0] < bb[2] && q[2] > bb[0] && q[1] < bb[3] && q[3] > bb[1] {
            sel.push(j);
            sub.extend_from_slice(q);
        }
    }
    if 2 * sel.len() > g {
        similarity::pairwise(pb.metric, block, gts, pb.params, out);
        return;
    }
    let (rows, n) = (block.len() / 4, sel.len());
    let mut tmp = vec![0f32; rows * n];
    similarity::pairwise(pb.metric, block, sub, pb.params, &mut tmp);
    out.fill(0.0);
    for r in 0..rows {
        for (t, &j) in sel.iter().enumerate() {
            out[r * g + j] = tmp[r * n + t];
        }
    }
}

/// Calls `f(first_anchor, rows, overlaps)` for blocks of at most `chunk` anchors, where
/// `overlaps[r*G + j]` compares anchor `first_anchor + r` with `gts[j]`.
fn for_each_block<F: FnMut(usize, usize, &[f32])>(pb: &Problem, gts: &[f32], chunk: usize, mut f: F) {
    let a = pb.anchors.len() / 4;
    let g = gts.len() / 4;
    if a == 0 || g == 0 {
        return;
    }
    let mut buf = vec![0f32; chunk.min(a) * g];
    let (mut sub, mut sel) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < a {
        let rows = chunk.min(a - start);
        let out = &mut buf[..rows * g];
        block_overlaps(pb, &pb.anchors[4 * start..4 * (start + rows)], gts, out, &mut sub, &mut sel);
        f(start, rows, out);
        start += rows;
    }
}

/// Block size and cache limit (constants outside the tests).
#[derive(Clone, Copy, Debug)]
struct Blocks {
    chunk: usize,
    cache_floats: usize,
}

const BLOCKS: Blocks = Blocks { chunk: CHUNK, cache_floats: CACHE_FLOATS };

/// The overlaps of all anchors with `gts` for assigners that read them twice: kept whole when
/// small enough, else recomputed per visit.
struct Overlaps<'p, 'a> {
    pb: &'p Problem<'a>,
    gts: &'p [f32],
    chunk: usize,
    full: Option<Vec<f32>>,
}

impl<'p, 'a> Overlaps<'p, 'a> {
    fn new(pb: &'p Problem<'a>, gts: &'p [f32], cfg: Blocks, keep: bool) -> Self {
        let (a, g) = (pb.anchors.len() / 4, gts.len() / 4);
        let full = if keep && a > 0 && g > 0 && a * g <= cfg.cache_floats {
            let mut m = vec![0f32; a * g];
            for_each_block(pb, gts, cfg.chunk, |start, rows, ov| m[start * g..(start + rows) * g].copy_from_slice(ov));
            Some(m)
        } else {
            None
        };
        Overlaps { pb, gts, chunk: cfg.chunk, full }
    }

    /// Same contract as [`for_each_block`].
    fn visit<F: FnMut(usize, usize, &[f32])>(&self, mut f: F) {
        match &self.full {
            None => for_each_block(self.pb, self.gts, self.chunk, f),
            Some(m) => {
                let (a, g) = (self.pb.anchors.len() / 4, self.gts.len() / 4);
                let mut start = 0;
                while start < a {
                    let rows = self.chunk.min(a - start);
                    f(start, rows, &m[start * g..(start + rows) * g]);
                    start += rows;
                }
            }
        }
    }
}

/// Best overlap and its (first) column of every row of a block.
fn row_max(row: &[f32]) -> (f32, usize) {
    let mut best = (row[0], 0);
    for (j, &v) in row.iter().enumerate().skip(1) {
        if v > best.0 {
            best = (v, j);
        }
    }
    best
}

/// Intersection of two xyxy boxes over the area of `a` (0 when `a` has no area).
fn iof(a: &[f32], b: &[f32]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = (a[2] - a[0]) * (a[3] - a[1]);
    if area > 0.0 { iw * ih / area } else { 0.0 }
}

/// Turns negatives near ignored GTs into ignored anchors (see the module docs).
fn apply_ignore(pb: &Problem, ignored: &[f32], rule: IgnoreRule, chunk: usize, labels: &mut [i32]) {
    let g = ignored.len() / 4;
    for_each_block(pb, ignored, chunk, |start, rows, ov| {
        for r in 0..rows {
            let i = start + r;
            if labels[i] != NEGATIVE {
                continue;
            }
            let anchor = &pb.anchors[4 * i..4 * i + 4];
            let near = (0..g).any(|j| {
                ov[r * g + j] >= rule.overlap || iof(anchor, &ignored[4 * j..4 * j + 4]) > rule.iof
            });
            if near {
                labels[i] = IGNORED;
            }
        }
    });
}

/// Max-overlap assigner (mmdet MaxIoUAssigner semantics).
///
/// Per anchor the best non-ignored GT (ties: the lowest index): negative if its overlap is
/// `< neg_thr` (negative overlaps of GIoU/DIoU included), positive if `>= pos_thr`, else
/// ignored. With `low_quality`, each GT whose best overlap is `>= min_pos` then takes every
/// anchor with exactly that overlap, GTs in index order, so a later GT overwrites an earlier
/// one (mmdet's loop). Without GTs every anchor is negative.
///
/// `labels` and `max_ov` have one entry per anchor.
pub fn max_overlap(
    pb: &Problem, mp: &MaxOverlapParams, rule: IgnoreRule, labels: &mut [i32], max_ov: &mut [f32],
) {
    max_overlap_blocks(pb, mp, rule, BLOCKS, labels, max_ov)
}

fn max_overlap_blocks(
    pb: &Problem, mp: &MaxOverlapParams, rule: IgnoreRule, cfg: Blocks, labels: &mut [i32], max_ov: &mut [f32],
) {
    let s = split(pb);
    let g = s.real_index.len();
    labels.fill(NEGATIVE);
    max_ov.fill(0.0);
    if g > 0 {
        let mut gt_max = vec![f32::NEG_INFINITY; g];
        let overlaps = Overlaps::new(pb, &s.real, cfg, mp.low_quality);
        overlaps.visit(|start, rows, ov| {
            for r in 0..rows {
                let row = &ov[r * g..(r + 1) * g];
                let (best, j) = row_max(row);
                let i = start + r;
                max_ov[i] = best;
                labels[i] = if best >= mp.pos_thr {
                    s.real_index[j] + 1
                } else if best < mp.neg_thr {
                    NEGATIVE
                } else {
                    IGNORED
                };
                for (m, &v) in gt_max.iter_mut().zip(row) {
                    if v > *m {
                        *m = v;
                    }
                }
            }
        });
        if mp.low_quality && gt_max.iter().any(|&m| m >= mp.min_pos) {
            overlaps.visit(|start, rows, ov| {
                for r in 0..rows {
                    let row = &ov[r * g..(r + 1) * g];
                    // The last matching GT wins, as in a loop over GTs that overwrites.
                    if let Some(j) = (0..g).rev().find(|&j| gt_max[j] >= mp.min_pos && row[j] == gt_max[j]) {
                        labels[start + r] = s.real_index[j] + 1;
                        max_ov[start + r] = row[j];
                    }
                }
            });
        }
    }
    apply_ignore(pb, &s.ignored, rule, cfg.chunk, labels);
}

/// Inserts `v` into `top` (descending, at most `k` values) if it is among the `k` largest.
fn push_top(top: &mut Vec<f32>, k: usize, v: f32) {
    if top.len() == k {
        if v <= top[k - 1] {
            return;
        }
        top.pop();
    }
    let pos = top.iter().position(|&t| t < v).unwrap_or(top.len());
    top.insert(pos, v);
}

/// NWD-RKA, the ranking assigner.
///
/// Every anchor starts ignored; anchors whose best overlap with the non-ignored GTs is
/// `< neg_thr` become negative; then each GT, in index order (a later GT overwrites an
/// earlier one, as the authors' loop), takes as positives all anchors whose overlap is
/// `>= ` its `topk`-th largest overlap and `> 0` (ties included; the `> 0` keeps a GT that
/// overlaps nothing from taking every anchor). Without GTs every anchor is negative.
pub fn rka(pb: &Problem, neg_thr: f32, topk: usize, rule: IgnoreRule, labels: &mut [i32], max_ov: &mut [f32]) {
    rka_blocks(pb, neg_thr, topk, rule, BLOCKS, labels, max_ov)
}

fn rka_blocks(
    pb: &Problem, neg_thr: f32, topk: usize, rule: IgnoreRule, cfg: Blocks, labels: &mut [i32], max_ov: &mut [f32],
) {
    let s = split(pb);
    let g = s.real_index.len();
    let k = topk.max(1);
    labels.fill(NEGATIVE);
    max_ov.fill(0.0);
    if g > 0 {
        let mut tops: Vec<Vec<f32>> = vec![Vec::with_capacity(k + 1); g];
        let overlaps = Overlaps::new(pb, &s.real, cfg, true);
        overlaps.visit(|start, rows, ov| {
            for r in 0..rows {
                let row = &ov[r * g..(r + 1) * g];
                let best = row_max(row).0;
                max_ov[start + r] = best;
                labels[start + r] = if best < neg_thr { NEGATIVE } else { IGNORED };
                for (top, &v) in tops.iter_mut().zip(row) {
                    push_top(top, k, v);
                }
            }
        });
        let kth: Vec<f32> = tops.iter().map(|t| *t.last().unwrap_or(&f32::INFINITY)).collect();
        overlaps.visit(|start, rows, ov| {
            for r in 0..rows {
                let row = &ov[r * g..(r + 1) * g];
                if let Some(j) = (0..g).rev().find(|&j| row[j] >= kth[j] && row[j] > 0.0) {
                    labels[start + r] = s.real_index[j] + 1;
                    max_ov[start + r] = row[j];
                }
            }
        });
    }
    apply_ignore(pb, &s.ignored, rule, cfg.chunk, labels);
}

fn centre(b: &[f32]) -> (f32, f32) {
    ((b[0] + b[2]) * 0.5, (b[1] + b[3]) * 0.5)
}

/// Keeps `near` the `k` nearest `(distance^2, anchor)` pairs, ascending; an equal distance
/// keeps the earlier (lower) anchor first.
fn push_near(near: &mut Vec<(f32, u32)>, k: usize, d2: f32, anchor: u32) {
    if near.len() == k {
        if d2 >= near[k - 1].0 {
            return;
        }
        near.pop();
    }
    let pos = near.iter().position(|&(d, _)| d > d2).unwrap_or(near.len());
    near.insert(pos, (d2, anchor));
}

/// Mean plus standard deviation (n-1 denominator; 0 for fewer than two values).
fn mean_plus_std(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    if v.is_empty() {
        return f64::INFINITY;
    }
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return mean;
    }
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    mean + var.sqrt()
}

/// Status of [`atss`] when `level_counts` does not sum to the number of anchors.
pub const ERR_LEVELS: i32 = -2;

/// ATSS.
///
/// `level_counts` splits the anchors (in order) into levels and must sum to `A`, else
/// [`ERR_LEVELS`] is returned and nothing written. For each non-ignored GT, per level the
/// `topk` anchors whose centres are nearest to the GT centre (ties: the lower anchor index)
/// are candidates; the GT's threshold is the mean plus the standard deviation (n-1
/// denominator as torch.std, 0 for a single candidate) of the candidates' overlaps; a
/// candidate is positive when its overlap is >= the threshold and its centre lies inside the
/// GT by more than [`ATSS_INSIDE_EPS`]. An anchor claimed by several GTs goes to the one with
/// the highest overlap (ties: the lowest GT index). All other anchors are negative. Returns 0.
pub fn atss(
    pb: &Problem, level_counts: &[u32], topk: usize, rule: IgnoreRule, labels: &mut [i32], max_ov: &mut [f32],
) -> i32 {
    atss_blocks(pb, level_counts, topk, rule, BLOCKS, labels, max_ov)
}

fn atss_blocks(
    pb: &Problem, level_counts: &[u32], topk: usize, rule: IgnoreRule, cfg: Blocks, labels: &mut [i32],
    max_ov: &mut [f32],
) -> i32 {
    let a = pb.anchors.len() / 4;
    if level_counts.iter().map(|&c| c as usize).sum::<usize>() != a {
        return ERR_LEVELS;
    }
    let s = split(pb);
    let g = s.real_index.len();
    let k = topk.max(1);
    labels.fill(NEGATIVE);
    max_ov.fill(0.0);
    if g > 0 && a > 0 {
        // Candidates: (anchor, gt, slot in that GT's candidate list), later sorted by anchor
        // so one pass over the overlap blocks can read their overlaps.
        let mut cands: Vec<(u32, u32, u32)> = Vec::new();
        let mut n_cand = vec![0u32; g];
        for (j, gt) in s.real.chunks_exact(4).enumerate() {
            let (gx, gy) = centre(gt);
            let mut first = 0usize;
            for &count in level_counts {
                let mut near: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
                for i in first..first + count as usize {
                    let (ax, ay) = centre(&pb.anchors[4 * i..4 * i + 4]);
                    let (dx, dy) = (ax - gx, ay - gy);
                    push_near(&mut near, k, dx * dx + dy * dy, i as u32);
                }
                for &(_, i) in &near {
                    cands.push((i, j as u32, n_cand[j]));
                    n_cand[j] += 1;
                }
                first += count as usize;
            }
        }
        cands.sort_unstable();
        let mut cand_ov: Vec<Vec<f64>> = n_cand.iter().map(|&n| vec![0.0; n as usize]).collect();
        let mut next = 0usize;
        for_each_block(pb, &s.real, cfg.chunk, |start, rows, ov| {
            for r in 0..rows {
                let row = &ov[r * g..(r + 1) * g];
                max_ov[start + r] = row_max(row).0;
                while next < cands.len() && cands[next].0 as usize == start + r {
                    let (_, j, slot) = cands[next];
                    cand_ov[j as usize][slot as usize] = row[j as usize] as f64;
                    next += 1;
                }
            }
        });
        // Claims in GT order with a strict comparison: the lowest GT wins a tie.
        let mut best = vec![(f64::NEG_INFINITY, 0u32); a];
        let mut order: Vec<&(u32, u32, u32)> = cands.iter().collect();
        order.sort_by_key(|&&(i, j, _)| (j, i));
        for &&(i, j, slot) in &order {
            let ovs = &cand_ov[j as usize];
            let v = ovs[slot as usize];
            let gt = &s.real[4 * j as usize..4 * j as usize + 4];
            let (ax, ay) = centre(&pb.anchors[4 * i as usize..4 * i as usize + 4]);
            let inside = (ax - gt[0]).min(ay - gt[1]).min(gt[2] - ax).min(gt[3] - ay) > ATSS_INSIDE_EPS;
            let b = &mut best[i as usize];
            if inside && v >= mean_plus_std(ovs) && v > b.0 {
                *b = (v, j);
            }
        }
        for (i, &(v, j)) in best.iter().enumerate() {
            if v > f64::NEG_INFINITY {
                labels[i] = s.real_index[j as usize] + 1;
                max_ov[i] = v as f32;
            }
        }
    }
    apply_ignore(pb, &s.ignored, rule, cfg.chunk, labels);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Params = Params { c: 12.8, eps: 0.0 };
    const NO_IGNORE: IgnoreRule = IgnoreRule { iof: 0.5, overlap: 0.3 };
    const RPN: MaxOverlapParams = MaxOverlapParams { pos_thr: 0.7, neg_thr: 0.3, min_pos: 0.3, low_quality: true };

    fn pb<'a>(metric: Metric, anchors: &'a [f32], gts: &'a [f32], ignore: &'a [u8]) -> Problem<'a> {
        Problem { metric, params: C, anchors, gts, ignore }
    }

    /// The full A x G overlap matrix, row per anchor.
    fn matrix(p: &Problem) -> Vec<Vec<f32>> {
        let row = |a: &[f32]| p.gts.chunks_exact(4).map(|b| similarity::pair(p.metric, a, b, p.params)).collect();
        p.anchors.chunks_exact(4).map(row).collect()
    }

    /// Plain reference of the max-overlap assigner on the full matrix (no ignored GTs),
    /// written as mmdet's steps: negatives, positives, then a loop over GTs.
    fn ref_max_overlap(p: &Problem, mp: &MaxOverlapParams) -> (Vec<i32>, Vec<f32>) {
        let ov = matrix(p);
        let g = p.gts.len() / 4;
        let mut labels = vec![0; ov.len()];
        let mut mo = vec![0.0; ov.len()];
        if g == 0 {
            return (labels, mo);
        }
        for (i, row) in ov.iter().enumerate() {
            let mut j = 0;
            for jj in 0..g {
                if row[jj] > row[j] {
                    j = jj;
                }
            }
            mo[i] = row[j];
            labels[i] = if row[j] >= mp.pos_thr { j as i32 + 1 } else if row[j] < mp.neg_thr { 0 } else { -1 };
        }
        if mp.low_quality {
            for j in 0..g {
                let m = ov.iter().map(|r| r[j]).fold(f32::NEG_INFINITY, f32::max);
                if m >= mp.min_pos {
                    for (i, row) in ov.iter().enumerate() {
                        if row[j] == m {
                            labels[i] = j as i32 + 1;
                            mo[i] = m;
                        }
                    }
                }
            }
        }
        (labels, mo)
    }

    fn ref_rka(p: &Problem, neg_thr: f32, k: usize) -> Vec<i32> {
        let ov = matrix(p);
        let g = p.gts.len() / 4;
        if g == 0 {
            return vec![0; ov.len()];
        }
        let best = |r: &Vec<f32>| r.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let mut labels: Vec<i32> = ov.iter().map(|r| if best(r) < neg_thr { 0 } else { -1 }).collect();
        for j in 0..g {
            let mut col: Vec<f32> = ov.iter().map(|r| r[j]).collect();
            col.sort_by(|a, b| b.partial_cmp(a).unwrap());
            let kth = col[k.min(col.len()) - 1];
            for (i, row) in ov.iter().enumerate() {
                if row[j] >= kth && row[j] > 0.0 {
                    labels[i] = j as i32 + 1;
                }
            }
        }
        labels
    }

    fn rnd_boxes(n: usize, seed: &mut u64, span: f32, size: f32, grid: bool) -> Vec<f32> {
        let mut rnd = || {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((*seed >> 40) as f32) / ((1u64 << 24) as f32)
        };
        let mut out = Vec::with_capacity(4 * n);
        for _ in 0..n {
            // Grid-snapped boxes make ties (equal overlaps) common.
            let q = |x: f32| if grid { (x * 0.5).round() * 2.0 } else { x };
            let (x, y) = (q(rnd() * span), q(rnd() * span));
            let (w, h) = (q(1.0 + rnd() * size), q(1.0 + rnd() * size));
            out.extend_from_slice(&[x, y, x + w, y + h]);
        }
        out
    }

    /// Block sizes of 1, 3, 5 and the default, with the matrix recomputed or kept.
    const CONFIGS: [Blocks; 5] = [
        Blocks { chunk: 1, cache_floats: 0 },
        Blocks { chunk: 5, cache_floats: 0 },
        Blocks { chunk: 3, cache_floats: usize::MAX },
        Blocks { chunk: CHUNK, cache_floats: 0 },
        BLOCKS,
    ];

    fn run_max(p: &Problem, mp: &MaxOverlapParams, cfg: Blocks) -> (Vec<i32>, Vec<f32>) {
        let a = p.anchors.len() / 4;
        let (mut l, mut m) = (vec![7; a], vec![7.0; a]);
        max_overlap_blocks(p, mp, NO_IGNORE, cfg, &mut l, &mut m);
        (l, m)
    }

    #[test]
    fn max_overlap_matches_reference_with_ties_and_blocks() {
        let mut seed = 7u64;
        for round in 0..40 {
            let grid = round % 2 == 0;
            let anchors = rnd_boxes(97, &mut seed, 64.0, 24.0, grid);
            let gts = rnd_boxes(1 + round % 9, &mut seed, 64.0, 16.0, grid);
            for metric in [Metric::Iou, Metric::Nwd, Metric::Giou] {
                let p = pb(metric, &anchors, &gts, &[]);
                let loose = MaxOverlapParams { pos_thr: 0.5, neg_thr: 0.4, min_pos: 0.0, low_quality: true };
                for mp in [RPN, MaxOverlapParams { low_quality: false, ..RPN }, loose] {
                    let want = ref_max_overlap(&p, &mp);
                    for cfg in CONFIGS {
                        assert_eq!(run_max(&p, &mp, cfg), want, "round {} {:?} {:?}", round, metric, cfg);
                    }
                }
            }
        }
    }

    #[test]
    fn max_overlap_hand_cases() {
        // Anchors 8x8 on a 4 px grid; a 2x2 GT at an anchor centre: IoU 4/64 < 0.3 gets
        // nothing, NWD sqrt(18)=4.24 px -> exp(-4.24/12.8) = 0.718 >= 0.7 is positive.
        let anchors = [0.0, 0.0, 8.0, 8.0, 4.0, 0.0, 12.0, 8.0, 8.0, 0.0, 16.0, 8.0];
        let gts = [3.0, 3.0, 5.0, 5.0];
        let (l, m) = run_max(&pb(Metric::Iou, &anchors, &gts, &[]), &RPN, BLOCKS);
        assert_eq!(l, vec![0, 0, 0]);
        assert!((m[0] - 0.0625).abs() < 1e-7);
        let (l, m) = run_max(&pb(Metric::Nwd, &anchors, &gts, &[]), &RPN, BLOCKS);
        assert_eq!(l[0], 1);
        assert!((m[0] - (-(18f32).sqrt() / 12.8).exp()).abs() < 1e-6);
        // Low-quality rule: a GT whose best IoU is 0.5 (in [0.3, 0.7)) takes that anchor;
        // with min_pos above it the anchor stays ignored.
        let gts = [0.0, 0.0, 8.0, 4.0];
        assert_eq!(run_max(&pb(Metric::Iou, &anchors, &gts, &[]), &RPN, BLOCKS).0, vec![1, 0, 0]);
        let strict = MaxOverlapParams { min_pos: 0.6, ..RPN };
        assert_eq!(run_max(&pb(Metric::Iou, &anchors, &gts, &[]), &strict, BLOCKS).0, vec![-1, 0, 0]);
        // Tie: the GT equally overlaps anchors 0 and 1 (IoU 1/2 each): both become positive.
        let gts = [4.0, 0.0, 8.0, 8.0];
        let (l, _) = run_max(&pb(Metric::Iou, &anchors, &gts, &[]), &RPN, BLOCKS);
        assert_eq!(l, vec![1, 1, 0]);
        // Two GTs whose best anchor is the same: the later GT wins (mmdet's loop).
        let gts = [0.0, 0.0, 8.0, 4.0, 0.0, 4.0, 8.0, 8.0];
        assert_eq!(run_max(&pb(Metric::Iou, &anchors, &gts, &[]), &RPN, BLOCKS).0, vec![2, 0, 0]);
        // No GTs: all negative; no anchors: nothing to do.
        assert_eq!(run_max(&pb(Metric::Nwd, &anchors, &[], &[]), &RPN, BLOCKS), (vec![0, 0, 0], vec![0.0; 3]));
        assert_eq!(run_max(&pb(Metric::Nwd, &[], &gts, &[]), &RPN, BLOCKS), (vec![], vec![]));
    }

    #[test]
    fn ignored_gts_get_no_anchors_and_shield_negatives() {
        let anchors = [0.0, 0.0, 8.0, 8.0, 8.0, 0.0, 16.0, 8.0, 40.0, 40.0, 48.0, 48.0, 100.0, 0.0, 108.0, 8.0];
        // GT 0 ignored (a crowd region covering anchors 0 and 1), GT 1 real on anchor 2.
        let gts = [0.0, 0.0, 16.0, 8.0, 40.0, 40.0, 48.0, 48.0];
        let p = pb(Metric::Iou, &anchors, &gts, &[1, 0]);
        let (mut l, mut m) = (vec![0; 4], vec![0.0; 4]);
        max_overlap(&p, &RPN, NO_IGNORE, &mut l, &mut m);
        assert_eq!(l, vec![-1, -1, 2, 0]);
        assert_eq!(m, vec![0.0, 0.0, 1.0, 0.0]);
        rka(&p, 0.3, 1, NO_IGNORE, &mut l, &mut m);
        assert_eq!(l, vec![-1, -1, 2, 0]);
        assert_eq!(atss(&p, &[4], 9, NO_IGNORE, &mut l, &mut m), 0);
        assert_eq!(l, vec![-1, -1, 2, 0]);
        // Only ignored GTs: nothing positive, the crowd region's anchors ignored.
        let p = pb(Metric::Iou, &anchors, &gts, &[1, 1]);
        max_overlap(&p, &RPN, NO_IGNORE, &mut l, &mut m);
        assert_eq!(l, vec![-1, -1, -1, 0]);
    }

    #[test]
    fn rka_matches_reference_and_takes_ties() {
        let mut seed = 11u64;
        for round in 0..40 {
            let anchors = rnd_boxes(83, &mut seed, 48.0, 20.0, round % 2 == 0);
            let gts = rnd_boxes(round % 7, &mut seed, 48.0, 12.0, round % 2 == 0);
            for metric in [Metric::Nwd, Metric::Iou] {
                let p = pb(metric, &anchors, &gts, &[]);
                for k in [1, 3, 9, 200] {
                    let want = ref_rka(&p, 0.3, k);
                    for cfg in CONFIGS {
                        let (mut l, mut m) = (vec![0; 83], vec![0.0; 83]);
                        rka_blocks(&p, 0.3, k, NO_IGNORE, cfg, &mut l, &mut m);
                        assert_eq!(l, want, "round {} {:?} k {} {:?}", round, metric, k, cfg);
                    }
                }
            }
        }
        // Four anchors symmetric around the GT: all tie for 1st, top-3 takes all four.
        let anchors = [
            0.0, 0.0, 8.0, 8.0, 4.0, 0.0, 12.0, 8.0, 0.0, 4.0, 8.0, 12.0, 4.0, 4.0, 12.0, 12.0, 40.0, 40.0, 48.0, 48.0,
        ];
        let gts = [5.0, 5.0, 7.0, 7.0];
        let (mut l, mut m) = (vec![0; 5], vec![0.0; 5]);
        rka(&pb(Metric::Nwd, &anchors, &gts, &[]), 0.3, 3, NO_IGNORE, &mut l, &mut m);
        assert_eq!(l, vec![1, 1, 1, 1, 0]);
    }

    /// Plain ATSS on the full matrix, written from the description.
    fn ref_atss(p: &Problem, levels: &[u32], k: usize) -> Vec<i32> {
        let ov = matrix(p);
        let a = ov.len();
        let g = p.gts.len() / 4;
        let mut best: Vec<Option<(f64, usize)>> = vec![None; a];
        for j in 0..g {
            let gt = &p.gts[4 * j..4 * j + 4];
            let (gx, gy) = ((gt[0] + gt[2]) / 2.0, (gt[1] + gt[3]) / 2.0);
            let mut cand = Vec::new();
            let mut first = 0;
            for &n in levels {
                let mut idx: Vec<usize> = (first..first + n as usize).collect();
                let d = |i: usize| {
                    let b = &p.anchors[4 * i..4 * i + 4];
                    let (dx, dy) = ((b[0] + b[2]) / 2.0 - gx, (b[1] + b[3]) / 2.0 - gy);
                    dx * dx + dy * dy
                };
                idx.sort_by(|&x, &y| d(x).partial_cmp(&d(y)).unwrap().then(x.cmp(&y)));
                cand.extend(idx.into_iter().take(k));
                first += n as usize;
            }
            let v: Vec<f64> = cand.iter().map(|&i| ov[i][j] as f64).collect();
            let thr = mean_plus_std(&v);
            for (&i, &o) in cand.iter().zip(&v) {
                let b = &p.anchors[4 * i..4 * i + 4];
                let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                let inside = [cx - gt[0], cy - gt[1], gt[2] - cx, gt[3] - cy].iter().all(|&e| e > 0.01);
                if o >= thr && inside && best[i].map_or(true, |(bo, _)| o > bo) {
                    best[i] = Some((o, j));
                }
            }
        }
        best.iter().map(|b| b.map_or(0, |(_, j)| j as i32 + 1)).collect()
    }

    #[test]
    fn atss_matches_reference() {
        let mut seed = 5u64;
        for round in 0..30 {
            let l0 = rnd_boxes(60, &mut seed, 40.0, 10.0, true);
            let l1 = rnd_boxes(25, &mut seed, 40.0, 30.0, true);
            let anchors: Vec<f32> = l0.iter().chain(&l1).cloned().collect();
            let gts = rnd_boxes(round % 6, &mut seed, 40.0, 14.0, round % 2 == 0);
            for metric in [Metric::Iou, Metric::Nwd] {
                let p = pb(metric, &anchors, &gts, &[]);
                for k in [1, 2, 9, 100] {
                    let want = ref_atss(&p, &[60, 25], k);
                    for cfg in CONFIGS {
                        let (mut l, mut m) = (vec![0; 85], vec![0.0; 85]);
                        assert_eq!(atss_blocks(&p, &[60, 25], k, NO_IGNORE, cfg, &mut l, &mut m), 0);
                        assert_eq!(l, want, "round {} {:?} k {} {:?}", round, metric, k, cfg);
                    }
                }
            }
        }
    }

    #[test]
    fn atss_hand_case_and_errors() {
        // One level of three anchors along x; GT centred on anchor 1; k = 3: overlaps
        // (IoU) 1/3, 1, 1/3 -> mean 5/9, std 0.3849 -> threshold 0.9405: only anchor 1.
        let anchors = [0.0, 0.0, 8.0, 8.0, 4.0, 0.0, 12.0, 8.0, 8.0, 0.0, 16.0, 8.0];
        let gts = [4.0, 0.0, 12.0, 8.0];
        let (mut l, mut m) = (vec![0; 3], vec![0.0; 3]);
        assert_eq!(atss(&pb(Metric::Iou, &anchors, &gts, &[]), &[3], 3, NO_IGNORE, &mut l, &mut m), 0);
        assert_eq!(l, vec![0, 1, 0]);
        assert_eq!(m[1], 1.0);
        assert!((m[0] - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(atss(&pb(Metric::Iou, &anchors, &gts, &[]), &[2], 3, NO_IGNORE, &mut l, &mut m), ERR_LEVELS);
        // Two identical GTs claim the same anchor with equal overlap: the lower GT index wins.
        let twice = [4.0, 0.0, 12.0, 8.0, 4.0, 0.0, 12.0, 8.0];
        assert_eq!(atss(&pb(Metric::Iou, &anchors, &twice, &[]), &[3], 3, NO_IGNORE, &mut l, &mut m), 0);
        assert_eq!(l, vec![0, 1, 0]);
        // A 1x1 GT whose box holds no anchor centre gets nothing.
        let gts = [1.0, 1.0, 2.0, 2.0];
        assert_eq!(atss(&pb(Metric::Nwd, &anchors, &gts, &[]), &[3], 3, NO_IGNORE, &mut l, &mut m), 0);
        assert_eq!(l, vec![0, 0, 0]);
        assert_eq!(atss(&pb(Metric::Nwd, &[], &[], &[]), &[0, 0], 9, NO_IGNORE, &mut [], &mut []), 0);
    }

    #[test]
    fn mean_plus_std_is_sample_std() {
        assert!((mean_plus_std(&[1.0, 2.0, 3.0, 4.0]) - (2.5 + (5.0f64 / 3.0).sqrt())).abs() < 1e-12);
        assert_eq!(mean_plus_std(&[0.4]), 0.4);
    }
}
