//! Greedy non-maximum suppression (hard and Soft-NMS) over `xyxy` boxes, class-wise or
//! class-agnostic, with a spatial grid that skips pairs which cannot act on each other.
//!
//! Rules (the same in the pruned and the plain path, which tests hold against each other):
//! - Detections with a non-finite score are dropped and counted; then those scoring below the
//!   score threshold are dropped. Every box must satisfy [`crate::boxes`]'s policy.
//! - Order: score descending, ties broken by the lower input index (a stable sort).
//! - Hard NMS keeps a box, then removes every later box whose overlap with it is strictly
//!   greater than the threshold. The overlap is [`similarity::pair`]`(metric, kept, other)`.
//! - Soft-NMS repeatedly selects the remaining box with the highest current score (ties: lower
//!   index) and multiplies every other remaining score by a weight: linear `1 - o` when
//!   `o > threshold` (clamped at 0), Gaussian `exp(-o^2 / sigma)` for `o > 0` (negative GIoU or
//!   DIoU counts as no overlap). Boxes whose score falls below the score threshold are removed.
//!   Scores must be non-negative, so scores only decrease and the selection order is also
//!   descending final score with ties by index.
//! - Class-wise NMS runs the above per class (never by offsetting coordinates) and merges the
//!   kept boxes by score descending, ties by index; `max_kept` truncates the merged list.
//!
//! Pruning: for a threshold where acting needs the boxes to overlap (IoU and DIoU with
//! threshold >= 0, GIoU with threshold >= [`GIOU_PRUNE_MIN`]), boxes are binned in a uniform
//! grid by their extent and only boxes sharing a cell are compared. For NWD, `NWD > t` needs the
//! Wasserstein distance below `-C ln t`, which bounds the centre distance along each axis, so
//! boxes are binned by centre and compared within that radius (widened by a margin that covers
//! float32 rounding). Other thresholds compare every pair.

use crate::boxes::{self, Invalid};
use crate::similarity::{self, Metric, Params};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// How suppression acts on the scores of overlapping boxes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decay {
    /// Remove boxes whose overlap exceeds the threshold.
    Hard,
    /// Soft-NMS, linear: score *= 1 - overlap when overlap > threshold.
    Linear,
    /// Soft-NMS, Gaussian: score *= exp(-overlap^2 / sigma); the threshold is not used.
    Gaussian {
        /// Width of the Gaussian, > 0 (0.5 in the Soft-NMS paper).
        sigma: f32,
    },
}

/// Options of one NMS call.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Overlap measure: IoU, GIoU, DIoU or NWD.
    pub metric: Metric,
    /// Suppression threshold: IoU and NWD in [0, 1], GIoU and DIoU in [-1, 1], linear Soft-NMS
    /// in [0, 1].
    pub threshold: f32,
    /// Constants of NWD (C and eps).
    pub params: Params,
    /// Detections scoring below this are dropped (before NMS, and in Soft-NMS after decays);
    /// `f32::NEG_INFINITY` keeps all.
    pub score_threshold: f32,
    /// Most boxes kept (per call, i.e. per image); `usize::MAX` for no limit.
    pub max_kept: usize,
    /// Hard suppression or a Soft-NMS decay.
    pub decay: Decay,
    /// Use the spatial grid where the threshold allows (false: compare every pair; same result).
    pub prune: bool,
}

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Error {
    /// The metric is not one of IoU, GIoU, DIoU, NWD.
    Metric,
    /// The threshold is NaN or outside the metric's range.
    Threshold,
    /// Sigma is not a positive finite number.
    Sigma,
    /// The score threshold is NaN.
    ScoreThreshold,
    /// Box `index` breaks the box policy.
    InvalidBox {
        /// Input index of the box.
        index: usize,
        /// What is wrong with it.
        why: Invalid,
    },
    /// Soft-NMS got a negative score at `index`.
    NegativeScore {
        /// Input index of the detection.
        index: usize,
    },
    /// The input slices have inconsistent lengths.
    Length,
}

/// Which pruning the last group used, for logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Path {
    /// Every pair compared.
    Plain = 0,
    /// Grid over box extents.
    OverlapGrid = 1,
    /// Grid over box centres with a radius.
    CentreGrid = 2,
}

/// Result of [`nms`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// Input indices of the kept boxes, in output order (score descending, ties by index).
    pub keep: Vec<u32>,
    /// Score of each kept box (decayed under Soft-NMS), parallel to `keep`.
    pub scores: Vec<f32>,
    /// Detections dropped for a NaN or infinite score.
    pub non_finite: usize,
    /// The most pruning any group used.
    pub path: Option<Path>,
}

/// Below this threshold GIoU-NMS compares every pair: a GIoU of disjoint boxes is `-(E-U)/E`,
/// which float32 rounding can push a few ulps above 0 when they touch, but never to 1e-5.
pub const GIOU_PRUNE_MIN: f32 = 1e-5;

/// Gaussian weights with `o^2 / sigma` at or below this are exactly 1 (exp would round to 1).
const GAUSS_NEGLIGIBLE: f32 = 1.0 / (1u32 << 28) as f32;

/// Boxes whose extent spans more cells than this are kept out of the grid (checked always).
const BIG_SPAN: usize = 64;

/// Grid cell side over the mean box side (overlap grid).
const CELL_PER_SIZE: f64 = 1.5;

/// Greedy NMS over `boxes` (xyxy, length `4*N`) and `scores` (length `N`), per class when
/// `classes` (length `N`) is given, else class-agnostic.
///
/// # Errors
/// Out-of-range options, a box that breaks the policy (the first one), a negative score in
/// Soft-NMS, or slices of inconsistent lengths.
pub fn nms(boxes: &[f32], scores: &[f32], classes: Option<&[i32]>, o: &Options) -> Result<Output, Error> {
    check_options(o)?;
    let n = scores.len();
    if boxes.len() != 4 * n || classes.map_or(false, |c| c.len() != n) {
        return Err(Error::Length);
    }
    if let Some((index, why)) = boxes::first_invalid(boxes) {
        return Err(Error::InvalidBox { index, why });
    }
    let mut out = Output::default();
    let mut cand: Vec<u32> = Vec::with_capacity(n);
    for (i, &s) in scores.iter().enumerate() {
        if !s.is_finite() {
            out.non_finite += 1;
        } else if s >= o.score_threshold {
            if s < 0.0 && o.decay != Decay::Hard {
                return Err(Error::NegativeScore { index: i });
            }
            cand.push(i as u32);
        }
    }
    let mut kept: Vec<(u32, f32)> = Vec::new();
    match classes {
        None => kept = run_group(&cand, boxes, scores, o, &mut out.path),
        Some(cls) => {
            cand.sort_by_key(|&i| (cls[i as usize], i));
            for group in cand.chunk_by_key(|&i| cls[i as usize]) {
                kept.extend(run_group(group, boxes, scores, o, &mut out.path));
            }
            kept.sort_by(|a, b| by_score_then_index(a.1, a.0, b.1, b.0));
            kept.truncate(o.max_kept);
        }
    }
    out.keep = kept.iter().map(|k| k.0).collect();
    out.scores = kept.iter().map(|k| k.1).collect();
    Ok(out)
}

/// Greedy NMS with every pair compared and no grid: the reference the pruned path must equal.
/// Same contract as [`nms`].
///
/// # Errors
/// As [`nms`].
pub fn nms_plain(boxes: &[f32], scores: &[f32], classes: Option<&[i32]>, o: &Options) -> Result<Output, Error> {
    nms(boxes, scores, classes, &Options { prune: false, ..*o })
}

fn check_options(o: &Options) -> Result<(), Error> {
    let (lo, hi) = match o.metric {
        Metric::Iou | Metric::Nwd => (0.0, 1.0),
        Metric::Giou | Metric::Diou => (-1.0, 1.0),
        _ => return Err(Error::Metric),
    };
    let t = o.threshold;
    match o.decay {
        Decay::Gaussian { sigma } if !(sigma > 0.0 && sigma.is_finite()) => return Err(Error::Sigma),
        Decay::Linear if !(t >= 0.0 && t <= 1.0) => return Err(Error::Threshold),
        Decay::Hard if !(t >= lo && t <= hi) => return Err(Error::Threshold),
        _ => {}
    }
    if o.score_threshold.is_nan() {
        return Err(Error::ScoreThreshold);
    }
    Ok(())
}

/// Score descending, then index ascending (-0 and +0 tie).
#[inline]
fn by_score_then_index(sa: f32, ia: u32, sb: f32, ib: u32) -> Ordering {
    sb.partial_cmp(&sa).unwrap_or(Ordering::Equal).then(ia.cmp(&ib))
}

/// Groups consecutive elements with equal keys (what `slice::chunk_by` does in newer Rust).
trait ChunkByKey<T> {
    fn chunk_by_key<K: PartialEq, F: Fn(&T) -> K>(&self, key: F) -> Vec<&[T]>;
}

impl<T> ChunkByKey<T> for [T] {
    fn chunk_by_key<K: PartialEq, F: Fn(&T) -> K>(&self, key: F) -> Vec<&[T]> {
        let mut groups = Vec::new();
        let mut start = 0;
        for i in 1..=self.len() {
            if i == self.len() || key(&self[i]) != key(&self[start]) {
                if i > start {
                    groups.push(&self[start..i]);
                }
                start = i;
            }
        }
        groups
    }
}

/// The overlap above which a pair changes anything: the threshold for hard and linear NMS, the
/// smallest overlap with a Gaussian weight below 1.
fn acting_threshold(o: &Options) -> f32 {
    match o.decay {
        Decay::Gaussian { sigma } => (sigma * GAUSS_NEGLIGIBLE).sqrt(),
        _ => o.threshold,
    }
}

/// Soft-NMS weight of overlap `ov` (1 when `ov` does not exceed `t_act`).
#[inline]
fn weight(decay: Decay, ov: f32, t_act: f32) -> f32 {
    if !(ov > t_act) {
        return 1.0;
    }
    match decay {
        Decay::Gaussian { sigma } => (-(ov * ov) / sigma).exp(),
        _ => (1.0 - ov).max(0.0),
    }
}

/// Runs NMS on the detections `idx` (ascending input indices, all candidates) and returns
/// (input index, score) in output order, at most `max_kept`.
fn run_group(idx: &[u32], boxes: &[f32], scores: &[f32], o: &Options, path: &mut Option<Path>) -> Vec<(u32, f32)> {
    if idx.is_empty() {
        return Vec::new();
    }
    let t_act = acting_threshold(o);
    let mut order: Vec<u32> = idx.to_vec();
    if o.decay == Decay::Hard {
        order.sort_by(|&a, &b| by_score_then_index(scores[a as usize], a, scores[b as usize], b));
    }
    let mut local = Vec::with_capacity(4 * order.len());
    for &i in &order {
        local.extend_from_slice(&boxes[4 * i as usize..4 * i as usize + 4]);
    }
    let reach = if o.prune { Reach::of(o.metric, t_act, o.params) } else { Reach::All };
    let mut grid = Grid::build(&local, reach);
    let used = grid.as_ref().map_or(Path::Plain, |g| g.path());
    *path = Some(path.map_or(used, |p| p.max(used)));
    let sub: Vec<f32> = order.iter().map(|&i| scores[i as usize]).collect();
    let picked = match o.decay {
        Decay::Hard => hard(&local, o, t_act, grid.as_mut()).into_iter().map(|r| (r, sub[r as usize])).collect(),
        _ => soft(&local, &sub, o, t_act, grid.as_mut()),
    };
    picked.into_iter().map(|(r, s)| (order[r as usize], s)).collect()
}

/// Hard NMS on boxes already in score order; returns the kept positions.
fn hard(b: &[f32], o: &Options, t: f32, mut grid: Option<&mut Grid>) -> Vec<u32> {
    let m = b.len() / 4;
    let mut alive = vec![true; m];
    let mut keep = Vec::new();
    for r in 0..m {
        if !alive[r] {
            continue;
        }
        alive[r] = false;
        keep.push(r as u32);
        if keep.len() >= o.max_kept {
            break;
        }
        let br = &b[4 * r..4 * r + 4];
        let mut act = |alive: &mut [bool], j: usize, bj: &[f32]| {
            if similarity::pair(o.metric, br, bj, o.params) > t {
                alive[j] = false;
            }
        };
        match grid.as_mut() {
            Some(g) => g.visit(r, b, &mut alive, &mut act),
            None => {
                for j in r + 1..m {
                    if alive[j] {
                        act(&mut alive, j, &b[4 * j..4 * j + 4]);
                    }
                }
            }
        }
    }
    keep
}

/// Max-heap entry of Soft-NMS: higher score first, then lower position.
#[derive(PartialEq)]
struct Entry(f32, u32);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        by_score_then_index(other.0, other.1, self.0, self.1)
    }
}

/// Soft-NMS on boxes in input order with scores `s`; returns (position, final score) in
/// selection order. With a grid it selects through a heap; without, by a linear scan.
fn soft(b: &[f32], s: &[f32], o: &Options, t_act: f32, mut grid: Option<&mut Grid>) -> Vec<(u32, f32)> {
    let m = b.len() / 4;
    let mut cur = s.to_vec();
    let mut alive = vec![true; m];
    let mut heap: BinaryHeap<Entry> = match grid {
        Some(_) => (0..m).map(|j| Entry(cur[j], j as u32)).collect(),
        None => BinaryHeap::new(),
    };
    let mut keep = Vec::new();
    loop {
        let next = match grid {
            Some(_) => pop_current(&mut heap, &cur, &alive),
            None => scan_max(&cur, &alive),
        };
        let r = match next {
            Some(r) => r,
            None => break,
        };
        alive[r] = false;
        keep.push((r as u32, cur[r]));
        if keep.len() >= o.max_kept {
            break;
        }
        let br = &b[4 * r..4 * r + 4];
        let mut act = |alive: &mut [bool], j: usize, bj: &[f32]| {
            let ov = similarity::pair(o.metric, br, bj, o.params);
            cur[j] *= weight(o.decay, ov, t_act);
            if cur[j] < o.score_threshold {
                alive[j] = false;
            }
        };
        match grid.as_mut() {
            Some(g) => g.visit(r, b, &mut alive, &mut act),
            None => {
                for j in 0..m {
                    if alive[j] {
                        act(&mut alive, j, &b[4 * j..4 * j + 4]);
                    }
                }
            }
        }
    }
    keep
}

/// The alive position with the highest current score (ties: lowest position).
fn scan_max(cur: &[f32], alive: &[bool]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for j in 0..cur.len() {
        if alive[j] && best.map_or(true, |b| cur[j] > cur[b]) {
            best = Some(j);
        }
    }
    best
}

/// Pops the heap until its top is alive and current; an entry whose score has since decayed
/// goes back in with its current score (scores only decrease, so no entry is ever too low).
fn pop_current(heap: &mut BinaryHeap<Entry>, cur: &[f32], alive: &[bool]) -> Option<usize> {
    while let Some(Entry(s, j)) = heap.pop() {
        let j = j as usize;
        if !alive[j] {
            continue;
        }
        if cur[j] == s {
            return Some(j);
        }
        heap.push(Entry(cur[j], j as u32));
    }
    None
}

/// Which pairs can act on each other, as a relation the grid can test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reach {
    /// Only boxes whose closed extents intersect on both axes.
    Overlap,
    /// Only boxes whose centres are within this distance on each axis.
    Centre(f64),
    /// Any pair.
    All,
}

impl Reach {
    /// The reach of `metric` for pairs that act only when the overlap exceeds `t`.
    fn of(metric: Metric, t: f32, p: Params) -> Reach {
        match metric {
            // IoU > t >= 0 needs a positive intersection; DIoU <= IoU, and GIoU of boxes that do
            // not intersect stays below GIOU_PRUNE_MIN.
            Metric::Iou | Metric::Diou if t >= 0.0 => Reach::Overlap,
            Metric::Giou if t >= GIOU_PRUNE_MIN => Reach::Overlap,
            // NWD = exp(-W2/C) > t needs W2 < -C ln t, and W2 >= |centre difference| per axis.
            // The radius is widened by 0.1% and 1e-4 C, far more than float32 rounding moves it.
            Metric::Nwd if t >= 1e-30 => {
                let l = (-(t as f64).ln()).max(0.0);
                Reach::Centre(p.c as f64 * (l * 1.001 + 1e-4))
            }
            _ => Reach::All,
        }
    }
}

/// One box stored in a grid cell: its coordinates (copied, so a scan reads memory in order),
/// its position, and the first cell it is stored in (to visit each pair once).
#[derive(Clone, Copy)]
struct Slot {
    b: [f32; 4],
    j: u32,
    home: [u32; 2],
}

impl Reach {
    /// Whether boxes `a` and `b` (xyxy) can act on each other under this reach: exact tests on
    /// the float32 values (a difference of two float32 is exact in f64).
    #[inline]
    fn allows(self, a: &[f32], b: &[f32]) -> bool {
        match self {
            Reach::Overlap => b[0] < a[2] && a[0] < b[2] && b[1] < a[3] && a[1] < b[3],
            Reach::Centre(r) => {
                let dx = ((a[0] + a[2]) * 0.5) as f64 - ((b[0] + b[2]) * 0.5) as f64;
                let dy = ((a[1] + a[3]) * 0.5) as f64 - ((b[1] + b[3]) * 0.5) as f64;
                dx.abs() <= r && dy.abs() <= r
            }
            Reach::All => true,
        }
    }
}

/// Boxes binned in a uniform grid, stored cell by cell, to enumerate the boxes that can act on
/// a given one. A box is found from another whenever the reach says they can interact, because
/// cell indices are a monotone function of the coordinates. Boxes that are no longer alive are
/// dropped from a cell the next time it is scanned.
struct Grid {
    reach: Reach,
    x0: f64,
    y0: f64,
    inv: f64,
    gx: usize,
    gy: usize,
    /// Per box, the cells to search from it: [cx0, cy0, cx1, cy1] inclusive.
    query: Vec<[u32; 4]>,
    /// First slot of each cell, and how many of its slots are still in use.
    start: Vec<u32>,
    live: Vec<u32>,
    slots: Vec<Slot>,
    /// Boxes too large for the cells (Overlap only): candidates of every box.
    big: Vec<u32>,
}

impl Grid {
    /// Bins `b` (xyxy, 4*M) for `reach`; `None` when every pair must be compared.
    fn build(b: &[f32], reach: Reach) -> Option<Grid> {
        let m = b.len() / 4;
        if reach == Reach::All || m < 2 {
            return None;
        }
        // Extent of each box in f64: the box itself, or its centre computed as pair() does.
        let mut lo = Vec::with_capacity(m);
        let mut hi = Vec::with_capacity(m);
        let mut size = 0.0f64;
        for q in b.chunks_exact(4) {
            match reach {
                Reach::Centre(_) => {
                    let (cx, cy) = ((q[0] + q[2]) * 0.5, (q[1] + q[3]) * 0.5);
                    if !(cx.is_finite() && cy.is_finite()) {
                        return None;
                    }
                    lo.push([cx as f64, cy as f64]);
                    hi.push([cx as f64, cy as f64]);
                }
                _ => {
                    lo.push([q[0] as f64, q[1] as f64]);
                    hi.push([q[2] as f64, q[3] as f64]);
                    size += (q[2] as f64 - q[0] as f64) + (q[3] as f64 - q[1] as f64);
                }
            }
        }
        let fold = |v: &[[f64; 2]], k: usize, f: fn(f64, f64) -> f64, init: f64| v.iter().fold(init, |a, p| f(a, p[k]));
        let (x0, y0) = (fold(&lo, 0, f64::min, f64::INFINITY), fold(&lo, 1, f64::min, f64::INFINITY));
        let (w, h) = (fold(&hi, 0, f64::max, f64::NEG_INFINITY) - x0, fold(&hi, 1, f64::max, f64::NEG_INFINITY) - y0);
        let want = match reach {
            Reach::Centre(r) => r,
            _ => CELL_PER_SIZE * size / (2 * m) as f64,
        };
        let cap = (2 * m + 16) as f64;
        let mut cs = want.max((w * h / cap).sqrt()).max(w / cap).max(h / cap);
        if !(cs > 0.0 && cs.is_finite()) {
            cs = 1.0;
        }
        let inv = 1.0 / cs;
        let gx = ((w * inv).floor() as usize + 1).min(cap as usize);
        let gy = ((h * inv).floor() as usize + 1).min(cap as usize);
        let mut g = Grid {
            reach, x0, y0, inv, gx, gy, query: Vec::with_capacity(m), start: vec![0; gx * gy + 1],
            live: Vec::new(), slots: Vec::new(), big: Vec::new(),
        };
        // Cells each box is stored in, as [cx0, cy0, cx1, cy1], or None for a big box.
        let mut home: Vec<Option<[u32; 4]>> = Vec::with_capacity(m);
        for k in 0..m {
            let q = match reach {
                Reach::Centre(r) => g.rect(lo[k][0] - r, lo[k][1] - r, hi[k][0] + r, hi[k][1] + r),
                _ => g.rect(lo[k][0], lo[k][1], hi[k][0], hi[k][1]),
            };
            g.query.push(q);
            let cells = match reach {
                Reach::Centre(_) => Some(g.rect(lo[k][0], lo[k][1], lo[k][0], lo[k][1])),
                _ if span(&q) > BIG_SPAN => None,
                _ => Some(q),
            };
            home.push(cells);
        }
        let cells_of = |c: &[u32; 4]| {
            let c = *c;
            (c[1]..=c[3]).flat_map(move |cy| (c[0]..=c[2]).map(move |cx| cy as usize * gx + cx as usize))
        };
        for c in home.iter().flatten() {
            cells_of(c).for_each(|cell| g.start[cell + 1] += 1);
        }
        for i in 0..gx * gy {
            g.start[i + 1] += g.start[i];
        }
        g.live = (0..gx * gy).map(|i| g.start[i + 1] - g.start[i]).collect();
        let mut fill = g.start.clone();
        let blank = Slot { b: [0.0; 4], j: 0, home: [0, 0] };
        g.slots = vec![blank; g.start[gx * gy] as usize];
        for (k, c) in home.iter().enumerate() {
            match c {
                Some(c) => {
                    let bk = [b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]];
                    let slot = Slot { b: bk, j: k as u32, home: [c[0], c[1]] };
                    cells_of(c).for_each(|cell| {
                        g.slots[fill[cell] as usize] = slot;
                        fill[cell] += 1;
                    })
                }
                None => g.big.push(k as u32),
            }
        }
        Some(g)
    }

    fn path(&self) -> Path {
        match self.reach {
            Reach::Centre(_) => Path::CentreGrid,
            _ => Path::OverlapGrid,
        }
    }

    #[inline]
    fn cell(v: f64, origin: f64, inv: f64, g: usize) -> u32 {
        let c = ((v - origin) * inv).floor();
        if c > 0.0 { (c as usize).min(g - 1) as u32 } else { 0 }
    }

    fn rect(&self, x1: f64, y1: f64, x2: f64, y2: f64) -> [u32; 4] {
        [
            Grid::cell(x1, self.x0, self.inv, self.gx),
            Grid::cell(y1, self.y0, self.inv, self.gy),
            Grid::cell(x2, self.x0, self.inv, self.gx),
            Grid::cell(y2, self.y0, self.inv, self.gy),
        ]
    }

    /// Calls `f(alive, j, box_j)` once for every alive box `j` that can act with box `k` (and
    /// maybe some that cannot); `b` holds all boxes (xyxy, 4*M).
    fn visit(&mut self, k: usize, b: &[f32], alive: &mut [bool], f: &mut impl FnMut(&mut [bool], usize, &[f32])) {
        let q = self.query[k];
        let bk = &b[4 * k..4 * k + 4];
        let reach = self.reach;
        if reach == Reach::Overlap && span(&q) > BIG_SPAN {
            for j in 0..alive.len() {
                if alive[j] && reach.allows(bk, &b[4 * j..4 * j + 4]) {
                    f(alive, j, &b[4 * j..4 * j + 4]);
                }
            }
            return;
        }
        let dedupe = self.reach == Reach::Overlap;
        for cy in q[1]..=q[3] {
            for cx in q[0]..=q[2] {
                let cell = cy as usize * self.gx + cx as usize;
                let first = self.start[cell] as usize;
                let mut end = first + self.live[cell] as usize;
                let mut s = first;
                while s < end {
                    let slot = self.slots[s];
                    let j = slot.j as usize;
                    if !alive[j] {
                        // Drop it from this cell: move the last live slot here.
                        end -= 1;
                        self.slots[s] = self.slots[end];
                        continue;
                    }
                    s += 1;
                    // A pair sharing several cells is handled in the first one both are in.
                    if (!dedupe || (cx == q[0].max(slot.home[0]) && cy == q[1].max(slot.home[1])))
                        && reach.allows(bk, &slot.b)
                    {
                        f(alive, j, &slot.b);
                    }
                }
                self.live[cell] = (end - first) as u32;
            }
        }
        for &j in &self.big {
            let j = j as usize;
            if alive[j] && reach.allows(bk, &b[4 * j..4 * j + 4]) {
                f(alive, j, &b[4 * j..4 * j + 4]);
            }
        }
    }
}

/// Number of cells in an inclusive cell rectangle.
fn span(q: &[u32; 4]) -> usize {
    (q[2] - q[0] + 1) as usize * (q[3] - q[1] + 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(metric: Metric, threshold: f32) -> Options {
        Options {
            metric, threshold, params: Params { c: 12.8, eps: 0.0 }, score_threshold: f32::NEG_INFINITY,
            max_kept: usize::MAX, decay: Decay::Hard, prune: true,
        }
    }

    fn keep(b: &[f32], s: &[f32], o: &Options) -> Vec<u32> {
        nms(b, s, None, o).unwrap().keep
    }

    /// Deterministic boxes clustered around a few centres, with duplicate boxes and tied scores.
    fn clustered(n: usize, seed: u64, scale: f32) -> (Vec<f32>, Vec<f32>, Vec<i32>) {
        let mut st = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rnd = move || {
            st = st.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((st >> 40) as f32) / ((1u64 << 24) as f32)
        };
        let centres: Vec<(f32, f32)> = (0..1 + n / 20).map(|_| (rnd() * scale - 50.0, rnd() * scale - 50.0)).collect();
        let (mut b, mut s, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            if i > 0 && rnd() < 0.1 {
                // An exact duplicate of an earlier box, sometimes with the same score.
                let j = (rnd() * i as f32) as usize;
                let q = [b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]];
                b.extend_from_slice(&q);
                s.push(if rnd() < 0.5 { s[j] } else { (rnd() * 8.0).floor() / 8.0 });
                c.push(if rnd() < 0.5 { c[j] } else { (rnd() * 3.0) as i32 });
                continue;
            }
            let (cx, cy) = centres[(rnd() * centres.len() as f32) as usize];
            let (x, y) = (cx + (rnd() - 0.5) * 24.0, cy + (rnd() - 0.5) * 24.0);
            let (w, h) = if rnd() < 0.05 { (0.0, rnd() * 10.0) } else { (1.0 + rnd() * 30.0, 1.0 + rnd() * 30.0) };
            b.extend_from_slice(&[x, y, x + w, y + h]);
            // Coarse scores so that ties are common.
            s.push((rnd() * 16.0).floor() / 16.0);
            c.push((rnd() * 3.0) as i32);
        }
        (b, s, c)
    }

    #[test]
    fn torchvision_style_examples() {
        // K20: tied scores, threshold 0 suppresses IoU 0.003; 0.1 does not.
        let b = [2748.0, 618.0, 2830.0, 659.0, 2690.0, 642.0, 2749.0, 681.0, 2690.0, 639.0, 2746.0, 681.0];
        let s = [1.0, 1.0, 0.5];
        assert_eq!(keep(&b, &s, &opts(Metric::Iou, 0.0)), vec![0, 2]);
        assert_eq!(keep(&b, &s, &opts(Metric::Iou, 0.1)), vec![0, 1]);
        // K22: zero-area boxes have IoU 0 with everything; duplicates at IoU 1 > 0.99.
        let z = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.716, 0.313, 0.775, 0.374, 0.716, 0.313, 0.775, 0.374];
        assert_eq!(keep(&z, &[2.47, 1.70, 0.898, 4.35], &opts(Metric::Iou, 0.99)), vec![3, 0, 1]);
        // Empty input.
        assert_eq!(nms(&[], &[], None, &opts(Metric::Nwd, 0.85)).unwrap(), Output { path: None, ..Output::default() });
    }

    #[test]
    fn strict_threshold_and_scores() {
        let b = [0.0, 0.0, 10.0, 10.0, 0.0, 0.0, 10.0, 5.0];
        // IoU is exactly 0.5: not suppressed at 0.5, suppressed just below.
        assert_eq!(keep(&b, &[0.9, 0.8], &opts(Metric::Iou, 0.5)), vec![0, 1]);
        assert_eq!(keep(&b, &[0.9, 0.8], &opts(Metric::Iou, 0.4999)), vec![0]);
        // NaN and infinite scores are dropped and counted; the score threshold drops lower ones.
        let out = nms(&[b.as_slice(), &b].concat(), &[f32::NAN, 0.8, f32::INFINITY, 0.1], None,
            &Options { score_threshold: 0.5, ..opts(Metric::Iou, 0.5) }).unwrap();
        assert_eq!((out.keep, out.non_finite), (vec![1], 2));
        // max_kept truncates in score order.
        let far = [0.0, 0.0, 1.0, 1.0, 5.0, 5.0, 6.0, 6.0, 9.0, 9.0, 10.0, 10.0];
        assert_eq!(keep(&far, &[0.1, 0.3, 0.2], &Options { max_kept: 2, ..opts(Metric::Iou, 0.5) }), vec![1, 2]);
    }

    #[test]
    fn class_wise_never_crosses_classes_and_handles_negative_coordinates() {
        let b = [-20.0, -20.0, -10.0, -10.0, -20.0, -20.0, -10.0, -10.0, -19.0, -20.0, -9.0, -10.0];
        let s = [0.9, 0.8, 0.7];
        let out = nms(&b, &s, Some(&[1, 2, 1]), &opts(Metric::Iou, 0.5)).unwrap();
        assert_eq!(out.keep, vec![0, 1]);
        assert_eq!(out.scores, vec![0.9, 0.8]);
        assert_eq!(keep(&b, &s, &opts(Metric::Iou, 0.5)), vec![0]);
    }

    #[test]
    fn soft_nms_decays() {
        let b = [0.0, 0.0, 10.0, 10.0, 0.0, 0.0, 10.0, 5.0, 50.0, 50.0, 60.0, 60.0];
        let s = [0.9, 0.8, 0.7];
        let lin = nms(&b, &s, None, &Options { decay: Decay::Linear, ..opts(Metric::Iou, 0.3) }).unwrap();
        assert_eq!(lin.keep, vec![0, 2, 1]);
        assert_eq!(lin.scores, vec![0.9, 0.7, 0.8 * 0.5]);
        let gauss = Options { decay: Decay::Gaussian { sigma: 0.5 }, ..opts(Metric::Iou, 0.3) };
        let g = nms(&b, &s, None, &gauss).unwrap();
        assert_eq!(g.keep, vec![0, 2, 1]);
        assert_eq!(g.scores[2], 0.8 * (-(0.25f32) / 0.5).exp());
        let cut = nms(&b, &s, None, &Options { decay: Decay::Linear, score_threshold: 0.5, ..opts(Metric::Iou, 0.3) });
        assert_eq!(cut.unwrap().keep, vec![0, 2]);
        assert_eq!(nms(&b, &[0.9, -0.1, 0.3], None, &Options { decay: Decay::Linear, ..opts(Metric::Iou, 0.3) }),
            Err(Error::NegativeScore { index: 1 }));
    }

    #[test]
    fn errors() {
        let b = [0.0, 0.0, 10.0, 10.0, 10.0, 10.0, 0.0, 0.0];
        assert_eq!(nms(&b, &[0.9, 0.8], None, &opts(Metric::Iou, 0.5)),
            Err(Error::InvalidBox { index: 1, why: Invalid::Reversed }));
        assert_eq!(nms(&b[..4], &[0.9], None, &opts(Metric::Iou, 1.5)), Err(Error::Threshold));
        assert_eq!(nms(&b[..4], &[0.9], None, &opts(Metric::Ciou, 0.5)), Err(Error::Metric));
        assert_eq!(nms(&b[..4], &[0.9], None, &opts(Metric::Giou, -0.5)).map(|o| o.keep), Ok(vec![0]));
        let g = Options { decay: Decay::Gaussian { sigma: 0.0 }, ..opts(Metric::Iou, 0.5) };
        assert_eq!(nms(&b[..4], &[0.9], None, &g), Err(Error::Sigma));
        assert_eq!(nms(&b[..4], &[0.9, 0.1], None, &opts(Metric::Iou, 0.5)), Err(Error::Length));
    }

    #[test]
    fn pruned_equals_plain_on_random_inputs() {
        let mut paths = Vec::new();
        for seed in 0..40u64 {
            let n = [0, 1, 2, 7, 60, 300][seed as usize % 6];
            let (b, s, c) = clustered(n, seed, if seed % 2 == 0 { 200.0 } else { 2000.0 });
            for (metric, t) in [(Metric::Iou, 0.5), (Metric::Iou, 0.0), (Metric::Iou, 0.9), (Metric::Giou, 0.3),
                (Metric::Giou, -0.2), (Metric::Diou, 0.4), (Metric::Diou, -0.3), (Metric::Nwd, 0.85),
                (Metric::Nwd, 0.5), (Metric::Nwd, 0.999), (Metric::Nwd, 0.0), (Metric::Nwd, 1.0)] {
                for decay in [Decay::Hard, Decay::Linear, Decay::Gaussian { sigma: 0.5 }] {
                    if decay != Decay::Hard && t < 0.0 {
                        continue;
                    }
                    for (score_threshold, max_kept) in [(f32::NEG_INFINITY, usize::MAX), (0.3, 5)] {
                        let o = Options { decay, score_threshold, max_kept, ..opts(metric, t) };
                        for cls in [None, Some(c.as_slice())] {
                            let fast = nms(&b, &s, cls, &o).unwrap();
                            let plain = nms_plain(&b, &s, cls, &o).unwrap();
                            assert_eq!(fast.keep, plain.keep, "{:?} {:?} seed {} n {}", metric, o, seed, n);
                            assert_eq!(fast.scores, plain.scores);
                            paths.push(fast.path);
                        }
                    }
                }
            }
        }
        for p in [Path::Plain, Path::OverlapGrid, Path::CentreGrid] {
            assert!(paths.contains(&Some(p)), "{:?} never ran", p);
        }
    }

    #[test]
    fn plain_matches_a_literal_greedy_loop() {
        // The plain path against the textbook loop written out here, on IoU and NWD.
        for seed in 0..10u64 {
            let (b, s, _) = clustered(120, seed, 300.0);
            for (metric, t) in [(Metric::Iou, 0.5), (Metric::Nwd, 0.85)] {
                let p = Params { c: 12.8, eps: 0.0 };
                let mut order: Vec<usize> = (0..s.len()).collect();
                order.sort_by(|&i, &j| s[j].partial_cmp(&s[i]).unwrap().then(i.cmp(&j)));
                let mut kept: Vec<usize> = Vec::new();
                for &i in &order {
                    let bi = &b[4 * i..4 * i + 4];
                    if kept.iter().all(|&k| !(similarity::pair(metric, &b[4 * k..4 * k + 4], bi, p) > t)) {
                        kept.push(i);
                    }
                }
                let want: Vec<u32> = kept.iter().map(|&k| k as u32).collect();
                assert_eq!(nms_plain(&b, &s, None, &opts(metric, t)).unwrap().keep, want);
            }
        }
    }
}
