//! COCO-style AP evaluation of boxes with pycocotools' semantics (COCOeval `evaluate` and
//! `accumulate`), one category at a time, in float64 throughout.
//!
//! What is reproduced on purpose (see the project's EVAL spec):
//! - per image: detections sorted by score, descending, with a stable sort (ties keep input
//!   order), truncated to the largest maxDet; ground truth (GT) ignored for an area range
//!   when flagged ignore or when its `area` is outside `[lo, hi]` (both ends inclusive), and
//!   ordered so that ignored GT come last (stable);
//! - greedy matching per IoU threshold: each detection takes the last GT with the highest
//!   similarity `>= min(t, 1 - 1e-10)` among unmatched (or crowd) GT, preferring non-ignored
//!   ones; unmatched detections whose own `w*h` is outside the range are ignored;
//! - crowd IoU is intersection / detection area;
//! - accumulation: per (area range, maxDet) the first maxDet detections of every image, in
//!   image order, stably sorted by score, descending; precision `tp / (tp + fp + eps)` with
//!   numpy's `spacing(1)`, made monotone from the right, sampled at the recall thresholds with
//!   a left search; -1 where there is no GT;
//! - the optimal LRP of the AI-TOD toolkit at the first threshold.
//!
//! A GT whose annotation id is 0 is matched like any other by default; with
//! [`Settings::id_zero_unmatched`] it behaves as in pycocotools, whose match arrays use 0
//! for "none" (its detection counts as unmatched, and the GT stays taken).

/// GT flag: `iscrowd` (crowd IoU, may be matched by many detections, ignored).
pub const GT_CROWD: u8 = 1;
/// GT flag: ignored in every area range (crowd, or an honoured `ignore` field).
pub const GT_IGNORE: u8 = 2;
/// GT flag: the annotation id is 0 (only matters with `id_zero_unmatched`).
pub const GT_ID_ZERO: u8 = 4;

/// numpy's `spacing(1)`, the epsilon in pycocotools' precision denominator.
pub const NP_SPACING_1: f64 = 2.220446049250313e-16;

/// The similarity used for matching.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Similarity {
    /// pycocotools' box IoU (crowd: intersection / detection area).
    Iou,
    /// NWD = exp(-W2 / c), no crowd special case.
    Nwd {
        /// The normalising constant in px (12.8 for AI-TOD).
        c: f64,
    },
}

/// Evaluation settings shared by all categories.
pub struct Settings<'a> {
    /// Matching thresholds, `T` values (the first one is the LRP threshold).
    pub iou_thrs: &'a [f64],
    /// Recall thresholds, `R` values, ascending.
    pub rec_thrs: &'a [f64],
    /// Area ranges as `[lo0, hi0, lo1, hi1, ...]`, `2*A` values.
    pub area_rng: &'a [f64],
    /// Max detections per image, `M` values, ascending.
    pub max_dets: &'a [usize],
    /// The similarity used for matching.
    pub similarity: Similarity,
    /// Reproduce pycocotools' treatment of GT id 0 (see the module docs).
    pub id_zero_unmatched: bool,
}

/// One category's boxes, grouped by image (images in evaluation order).
///
/// `gt_offsets` / `dt_offsets` have `I + 1` entries: image `i` owns GT
/// `gt_offsets[i]..gt_offsets[i + 1]`, in annotation-file order, and likewise detections in
/// results-file order. Boxes are `xywh` (COCO), 4 values each.
pub struct Category<'a> {
    /// `I + 1` offsets into the GT arrays.
    pub gt_offsets: &'a [u32],
    /// GT boxes, `xywh`, `4*G`.
    pub gt_xywh: &'a [f64],
    /// GT `area` fields (what the area ranges test), `G`.
    pub gt_area: &'a [f64],
    /// [`GT_CROWD`] | [`GT_IGNORE`] | [`GT_ID_ZERO`] per GT.
    pub gt_flags: &'a [u8],
    /// `I + 1` offsets into the detection arrays.
    pub dt_offsets: &'a [u32],
    /// Detection boxes, `xywh`, `4*D` (their area for the ranges is `w*h`).
    pub dt_xywh: &'a [f64],
    /// Detection scores, `D`.
    pub dt_score: &'a [f64],
}

/// Results for one category, laid out with the category axis removed from pycocotools'.
pub struct Output<'a> {
    /// `[T][R][A][M]`, -1 where there is no GT.
    pub precision: &'a mut [f64],
    /// `[T][R][A][M]`: score at which each recall threshold is reached (0 if never).
    pub scores: &'a mut [f64],
    /// `[T][A][M]`, -1 where there is no GT.
    pub recall: &'a mut [f64],
    /// `[4][A][M]`: oLRP, localisation, FP and FN components (-1 without GT, NaN where
    /// undefined, as the AI-TOD toolkit).
    pub lrp: &'a mut [f64],
    /// `[A]`: number of non-ignored GT.
    pub npig: &'a mut [f64],
}

/// Number of `f64` an [`Output`] needs for the given sizes.
pub fn output_len(t: usize, r: usize, a: usize, m: usize) -> usize {
    2 * t * r * a * m + t * a * m + 4 * a * m + a
}

/// pycocotools' box IoU of a detection and a GT, `xywh`, float64 (its `bbIou`).
#[inline]
pub fn iou_xywh(d: &[f64], g: &[f64], crowd: bool) -> f64 {
    let w = (d[2] + d[0]).min(g[2] + g[0]) - d[0].max(g[0]);
    if !(w > 0.0) {
        return 0.0;
    }
    let h = (d[3] + d[1]).min(g[3] + g[1]) - d[1].max(g[1]);
    if !(h > 0.0) {
        return 0.0;
    }
    let i = w * h;
    let da = d[2] * d[3];
    let u = if crowd { da } else { da + g[2] * g[3] - i };
    i / u
}

/// NWD of two `xywh` boxes in float64: exp(-W2 / c).
#[inline]
pub fn nwd_xywh(d: &[f64], g: &[f64], c: f64) -> f64 {
    let dx = (d[0] + d[2] / 2.0) - (g[0] + g[2] / 2.0);
    let dy = (d[1] + d[3] / 2.0) - (g[1] + g[3] / 2.0);
    let dw = d[2] - g[2];
    let dh = d[3] - g[3];
    let w2 = (dx * dx + dy * dy + (dw * dw + dh * dh) / 4.0).sqrt();
    (-w2 / c).exp()
}

/// Match flags of one kept detection for one area range.
#[derive(Clone, Copy, Default)]
struct Flags {
    /// Bit t: matched at threshold t (pycocotools' `dtMatches != 0`).
    matched: u64,
    /// Bit t: ignored at threshold t.
    ignored: u64,
    /// Similarity of the match at the first threshold (0 when unmatched).
    sim0: f64,
}

/// The kept detections of all images of one category (images without GT and detections
/// contribute nothing, as pycocotools' `None`), in image order, each image's by score.
struct Kept {
    score: Vec<f64>,
    /// Position of the detection among its image's kept ones (for the maxDet cut).
    rank: Vec<u32>,
    /// Images that took part.
    images: usize,
    /// All kept detections stably sorted by score, descending (pycocotools' mergesort of
    /// the image-ordered concatenation).
    by_score: Vec<u32>,
}

/// Evaluates and accumulates one category. Panics if the slices disagree with the settings
/// (a bug in the caller: the ABI wrapper checks sizes first).
pub fn evaluate_category(s: &Settings, cat: &Category, out: &mut Output) {
    let t_n = s.iou_thrs.len();
    let a_n = s.area_rng.len() / 2;
    assert!(t_n <= 64, "at most 64 thresholds");
    let mut flags: Vec<Vec<Flags>> = vec![Vec::new(); a_n];
    let mut npig = vec![0usize; a_n];
    let mut kept = Kept { score: Vec::new(), rank: Vec::new(), images: 0, by_score: Vec::new() };
    let max_det = s.max_dets.last().copied().unwrap_or(0);
    let images = cat.gt_offsets.len().saturating_sub(1);
    let mut order: Vec<usize> = Vec::new();
    let mut sims: Vec<f64> = Vec::new();
    let mut scratch = Scratch::default();
    for i in 0..images {
        let (g0, g1) = (cat.gt_offsets[i] as usize, cat.gt_offsets[i + 1] as usize);
        let (d0, d1) = (cat.dt_offsets[i] as usize, cat.dt_offsets[i + 1] as usize);
        if g0 == g1 && d0 == d1 {
            continue;
        }
        kept.images += 1;
        order.clear();
        order.extend(d0..d1);
        // Stable: ties keep results-file order.
        order.sort_by(|&x, &y| cat.dt_score[y].partial_cmp(&cat.dt_score[x]).unwrap_or(core::cmp::Ordering::Equal));
        order.truncate(max_det);
        for (r, &d) in order.iter().enumerate() {
            kept.score.push(cat.dt_score[d]);
            kept.rank.push(r as u32);
        }
        let g_n = g1 - g0;
        similarities(s.similarity, cat, &order, g0, g_n, &mut sims);
        for a in 0..a_n {
            let rng = [s.area_rng[2 * a], s.area_rng[2 * a + 1]];
            let f = &mut flags[a];
            let base = f.len();
            f.resize(base + order.len(), Flags::default());
            npig[a] += match_image(s, cat, &order, g0, g_n, &sims, rng, &mut f[base..], &mut scratch);
        }
    }
    let score = &kept.score;
    kept.by_score = (0..score.len() as u32).collect();
    kept.by_score
        .sort_by(|&x, &y| score[y as usize].partial_cmp(&score[x as usize]).unwrap_or(core::cmp::Ordering::Equal));
    let mut acc = AccScratch::default();
    for a in 0..a_n {
        for (m, &md) in s.max_dets.iter().enumerate() {
            accumulate(s, &kept, &flags[a], npig[a], md, a, m, out, &mut acc);
        }
        out.npig[a] = npig[a] as f64;
    }
}

/// Similarity of every kept detection (rows, in `order`) with every GT of the image.
fn similarities(sim: Similarity, cat: &Category, order: &[usize], g0: usize, g_n: usize, out: &mut Vec<f64>) {
    out.clear();
    for &d in order {
        let db = &cat.dt_xywh[4 * d..4 * d + 4];
        for g in g0..g0 + g_n {
            let gb = &cat.gt_xywh[4 * g..4 * g + 4];
            out.push(match sim {
                Similarity::Iou => iou_xywh(db, gb, cat.gt_flags[g] & GT_CROWD != 0),
                Similarity::Nwd { c } => nwd_xywh(db, gb, c),
            });
        }
    }
}

/// Buffers reused across images.
#[derive(Default)]
struct Scratch {
    gperm: Vec<usize>,
    taken: Vec<bool>,
    cand: Vec<u32>,
    cand_off: Vec<u32>,
}

/// pycocotools' `evaluateImg` for one image and area range: fills the flags of the kept
/// detections (`out`, in `order`) and returns the number of non-ignored GT.
#[allow(clippy::too_many_arguments)]
fn match_image(s: &Settings, cat: &Category, order: &[usize], g0: usize, g_n: usize, sims: &[f64], rng: [f64; 2],
    out: &mut [Flags], sc: &mut Scratch) -> usize {
    let outside = |x: f64| x < rng[0] || x > rng[1];
    let ignored = |g: usize| cat.gt_flags[g] & GT_IGNORE != 0 || outside(cat.gt_area[g]);
    // GT order: non-ignored first, each group in file order (a stable sort on the flag).
    let gperm = &mut sc.gperm;
    gperm.clear();
    gperm.extend((0..g_n).filter(|&k| !ignored(g0 + k)));
    let kept = gperm.len();
    gperm.extend((0..g_n).filter(|&k| ignored(g0 + k)));
    let t_n = s.iou_thrs.len();
    sc.taken.clear();
    sc.taken.resize(t_n * g_n, false);
    let taken = &mut sc.taken;
    // Candidates per detection: GT positions (in matching order) whose similarity can reach
    // the lowest threshold; the others never match, so skipping them changes nothing.
    let floor = s.iou_thrs.iter().fold(f64::INFINITY, |a, &t| a.min(t.min(1.0 - 1e-10)));
    sc.cand.clear();
    sc.cand_off.clear();
    sc.cand_off.push(0);
    for di in 0..order.len() {
        for (pos, &k) in gperm.iter().enumerate() {
            if sims[di * g_n + k] >= floor {
                sc.cand.push(pos as u32);
            }
        }
        sc.cand_off.push(sc.cand.len() as u32);
    }
    if !sc.cand.is_empty() {
        for (t, &thr) in s.iou_thrs.iter().enumerate() {
            for di in 0..order.len() {
                let mut best = thr.min(1.0 - 1e-10);
                let mut m: Option<usize> = None;
                for &p in &sc.cand[sc.cand_off[di] as usize..sc.cand_off[di + 1] as usize] {
                    let pos = p as usize;
                    let k = gperm[pos];
                    let g = g0 + k;
                    if taken[t * g_n + pos] && cat.gt_flags[g] & GT_CROWD == 0 {
                        continue;
                    }
                    if let Some(mp) = m {
                        if mp < kept && pos >= kept {
                            break;
                        }
                    }
                    let v = sims[di * g_n + k];
                    if v < best {
                        continue;
                    }
                    best = v;
                    m = Some(pos);
                }
                if let Some(pos) = m {
                    let g = g0 + gperm[pos];
                    let f = &mut out[di];
                    if pos >= kept {
                        f.ignored |= 1 << t;
                    }
                    if !(s.id_zero_unmatched && cat.gt_flags[g] & GT_ID_ZERO != 0) {
                        f.matched |= 1 << t;
                    }
                    taken[t * g_n + pos] = true;
                    if t == 0 {
                        f.sim0 = best;
                    }
                }
            }
        }
    }
    // Unmatched detections whose own area (w*h) is outside the range are ignored.
    let all = if t_n == 64 { u64::MAX } else { (1u64 << t_n) - 1 };
    for (di, &d) in order.iter().enumerate() {
        let b = &cat.dt_xywh[4 * d..4 * d + 4];
        if outside(b[2] * b[3]) {
            out[di].ignored |= !out[di].matched & all;
        }
    }
    kept
}

/// Buffers reused across accumulations.
#[derive(Default)]
struct AccScratch {
    sel: Vec<u32>,
    seq: Vec<Flags>,
    curve: Curve,
}

/// pycocotools' `accumulate` for one (area, maxDet) of one category, plus the optimal LRP.
#[allow(clippy::too_many_arguments)]
fn accumulate(s: &Settings, kept: &Kept, flags: &[Flags], npig: usize, max_det: usize, a: usize, m: usize,
    out: &mut Output, sc: &mut AccScratch) {
    let (t_n, r_n, a_n, m_n) = (s.iou_thrs.len(), s.rec_thrs.len(), s.area_rng.len() / 2, s.max_dets.len());
    let pidx = |t: usize, r: usize| ((t * r_n + r) * a_n + a) * m_n + m;
    for t in 0..t_n {
        out.recall[(t * a_n + a) * m_n + m] = -1.0;
        for r in 0..r_n {
            out.precision[pidx(t, r)] = -1.0;
            out.scores[pidx(t, r)] = -1.0;
        }
    }
    for k in 0..4 {
        out.lrp[(k * a_n + a) * m_n + m] = -1.0;
    }
    if kept.images == 0 || npig == 0 {
        return;
    }
    // The first maxDet of every image, in the global score order (a stable sort of a subset
    // keeps the subset's order in the stable sort of the whole).
    sc.sel.clear();
    sc.seq.clear();
    for &j in &kept.by_score {
        if (kept.rank[j as usize] as usize) < max_det {
            sc.sel.push(j);
            sc.seq.push(flags[j as usize]);
        }
    }
    // `seq` holds the flags in score order, so the passes below read memory sequentially.
    let (sel, seq) = (&sc.sel, &sc.seq);
    let npig_f = npig as f64;
    let nd = sel.len();
    for t in 0..t_n {
        let curve = pr_curve(seq, 1u64 << t, &mut sc.curve);
        out.recall[(t * a_n + a) * m_n + m] = if nd > 0 { curve.tp_total as f64 / npig_f } else { 0.0 };
        let mut k = 0usize; // recall thresholds ascend: the TP count reached only grows
        let mut peak = 0usize;
        for (r, &thr) in s.rec_thrs.iter().enumerate() {
            // pycocotools: first index whose recall tp/npig >= thr ('left' search).
            while k <= curve.tp_total && (k as f64 / npig_f) < thr {
                k += 1;
            }
            let pi = if k > curve.tp_total { nd } else if k == 0 { 0 } else { sc.curve.tp_pos[k - 1] as usize };
            let (q, ss) = if pi < nd {
                // The right-to-left running max of precision at pi: precision there, or a later
                // peak (the last TP of a run of TPs), whichever is larger.
                let (tp, fp) = if k == 0 { curve.first } else { (k, sc.curve.tp_fp[k - 1] as usize) };
                let mut q = precision(tp, fp);
                let c = &sc.curve;
                while peak < c.peaks.len() && (c.tp_pos[c.peaks[peak] as usize - 1] as usize) < pi {
                    peak += 1;
                }
                if peak < sc.curve.peaks.len() && sc.curve.peak_max[peak] > q {
                    q = sc.curve.peak_max[peak];
                }
                (q, kept.score[sel[pi] as usize])
            } else {
                (0.0, 0.0)
            };
            out.precision[pidx(t, r)] = q;
            out.scores[pidx(t, r)] = ss;
        }
    }
    let lrp = optimal_lrp(s, seq, npig);
    for (k, v) in lrp.iter().enumerate() {
        out.lrp[(k * a_n + a) * m_n + m] = *v;
    }
}

/// pycocotools' precision at a point of the curve: tp / (tp + fp + spacing(1)).
#[inline]
fn precision(tp: usize, fp: usize) -> f64 {
    tp as f64 / (fp as f64 + tp as f64 + NP_SPACING_1)
}

/// The counts along one threshold's precision-recall curve that the 101-point sampling needs.
#[derive(Default)]
struct Curve {
    /// Position (in the score order) of the k-th true positive, k = 1.. .
    tp_pos: Vec<u32>,
    /// False positives counted up to the k-th true positive.
    tp_fp: Vec<u32>,
    /// TP counts k at the last TP of each run of TPs (precision peaks), ascending.
    peaks: Vec<u32>,
    /// Max precision over `peaks[i..]`.
    peak_max: Vec<f64>,
}

/// Summary of [`pr_curve`]: total TPs and the (tp, fp) counts at the first position.
struct CurveInfo {
    tp_total: usize,
    first: (usize, usize),
}

/// Walks the detections in score order for threshold `bit`, filling `c`. Precision rises only
/// along a run of TPs and falls along FPs, so its running max from the right at any point is
/// the precision there or the max over the later run ends; only those need a division.
fn pr_curve(seq: &[Flags], bit: u64, c: &mut Curve) -> CurveInfo {
    c.tp_pos.clear();
    c.tp_fp.clear();
    c.peaks.clear();
    c.peak_max.clear();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut in_tp_run = false;
    let mut first = (0, 0);
    for (i, f) in seq.iter().enumerate() {
        if f.ignored & bit == 0 {
            if f.matched & bit != 0 {
                tp += 1;
                c.tp_pos.push(i as u32);
                c.tp_fp.push(fp as u32);
                in_tp_run = true;
            } else {
                if in_tp_run {
                    c.peaks.push(tp as u32);
                }
                fp += 1;
                in_tp_run = false;
            }
        }
        if i == 0 {
            first = (tp, fp);
        }
    }
    if in_tp_run {
        c.peaks.push(tp as u32);
    }
    c.peak_max.resize(c.peaks.len(), 0.0);
    let mut best = f64::NEG_INFINITY;
    for i in (0..c.peaks.len()).rev() {
        // A peak's counts are (k, tp_fp[k-1]).
        let k = c.peaks[i] as usize;
        let v = precision(k, c.tp_fp[k - 1] as usize);
        if v > best {
            best = v;
        }
        c.peak_max[i] = best;
    }
    CurveInfo { tp_total: tp, first }
}

/// The AI-TOD toolkit's optimal LRP at the first threshold: `[oLRP, loc, fp, fn]`.
fn optimal_lrp(s: &Settings, seq: &[Flags], npig: usize) -> [f64; 4] {
    let none = [1.0, f64::NAN, f64::NAN, 1.0];
    let tau = 1.0 - s.iou_thrs.first().copied().unwrap_or(0.5);
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut loc_sum = 0.0f64;
    let mut best: Option<(f64, f64, usize, usize)> = None;
    for r in seq {
        let is_tp = r.ignored & 1 == 0 && r.matched & 1 != 0;
        if r.ignored & 1 == 0 {
            if is_tp { tp += 1 } else { fp += 1 }
        }
        loc_sum += if is_tp { r.sim0 } else { 0.0 };
        let fn_ = npig - tp;
        let total_loc = tp as f64 - loc_sum;
        let lrp = (total_loc / tau + fp as f64 + fn_ as f64) / ((tp + fp + fn_) as f64);
        if best.map_or(true, |b| lrp < b.0) {
            best = Some((lrp, total_loc, tp, fp));
        }
    }
    if tp == 0 {
        return none;
    }
    match best {
        None => none,
        Some((lrp, total_loc, btp, bfp)) => [
            lrp,
            total_loc / btp as f64,
            bfp as f64 / (btp + bfp) as f64,
            (npig - btp) as f64 / npig as f64,
        ],
    }
}

/// `n` evenly spaced values from `start` to `stop` inclusive, computed as numpy's `linspace`
/// (k * step + start, the last value exactly `stop`), so thresholds compare bit for bit.
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|k| k as f64 * step + start).collect();
    v[n - 1] = stop;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(thr: &'a [f64], rec: &'a [f64], md: &'a [usize], rng: &'a [f64]) -> Settings<'a> {
        Settings { iou_thrs: thr, rec_thrs: rec, area_rng: rng, max_dets: md, similarity: Similarity::Iou,
            id_zero_unmatched: false }
    }

    struct Run {
        precision: Vec<f64>,
        recall: Vec<f64>,
        lrp: Vec<f64>,
    }

    fn run(s: &Settings, cat: &Category) -> Run {
        let (t, r, a, m) = (s.iou_thrs.len(), s.rec_thrs.len(), s.area_rng.len() / 2, s.max_dets.len());
        let mut buf = vec![0.0; output_len(t, r, a, m)];
        let (p, rest) = buf.split_at_mut(t * r * a * m);
        let (sc, rest) = rest.split_at_mut(t * r * a * m);
        let (rc, rest) = rest.split_at_mut(t * a * m);
        let (lrp, npig) = rest.split_at_mut(4 * a * m);
        let mut out = Output { precision: p, scores: sc, recall: rc, lrp, npig };
        evaluate_category(s, cat, &mut out);
        Run { precision: out.precision.to_vec(), recall: out.recall.to_vec(), lrp: out.lrp.to_vec() }
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn linspace_matches_numpy_bits() {
        let t = linspace(0.5, 0.95, 10);
        // numpy: np.linspace(.5, .95, 10)[7] == 0.85, [8] == 0.8999999999999999
        assert_eq!(t[7], 0.85);
        assert_eq!(t[8], 0.8999999999999999);
        let r = linspace(0.0, 1.0, 101);
        assert_eq!(r[3], 0.03);
        assert_eq!(r[100], 1.0);
    }

    #[test]
    fn crowd_iou_divides_by_detection_area() {
        let d = [0.0, 0.0, 10.0, 10.0];
        let g = [5.0, 0.0, 100.0, 100.0];
        assert_eq!(iou_xywh(&d, &g, true), 0.5);
        assert!((iou_xywh(&d, &g, false) - 50.0 / 10050.0).abs() < 1e-15);
        assert_eq!(iou_xywh(&d, &[20.0, 0.0, 5.0, 5.0], false), 0.0);
        assert_eq!(nwd_xywh(&d, &d, 12.8), 1.0);
    }

    /// K15: tp sequences and GT counts give pycocotools' 101-point AP.
    #[test]
    fn hundred_and_one_point_ap() {
        let thr = [0.5];
        let rec = linspace(0.0, 1.0, 101);
        let md = [100];
        let rng = [0.0, 1e10];
        let s = settings(&thr, &rec, &md, &rng);
        // One image: GT boxes at x = 0, 100, 200; detections hit GT 0, miss, hit GT 1.
        let gt = [0.0, 0.0, 10.0, 10.0, 100.0, 0.0, 10.0, 10.0, 200.0, 0.0, 10.0, 10.0];
        let dt = [0.0, 0.0, 10.0, 10.0, 50.0, 50.0, 10.0, 10.0, 100.0, 0.0, 10.0, 10.0];
        let cat = Category { gt_offsets: &[0, 2], gt_xywh: &gt[..8], gt_area: &[100.0, 100.0], gt_flags: &[0, 0],
            dt_offsets: &[0, 3], dt_xywh: &dt, dt_score: &[0.9, 0.8, 0.7] };
        let out = run(&s, &cat);
        assert!((mean(&out.precision) - 0.834983).abs() < 1e-6);
        assert_eq!(out.recall[0], 1.0);
        // tp = [1, 1], 3 GT: 67 of 101 points.
        let cat = Category { gt_offsets: &[0, 3], gt_xywh: &gt, gt_area: &[100.0; 3], gt_flags: &[0; 3],
            dt_offsets: &[0, 2], dt_xywh: &[0.0, 0.0, 10.0, 10.0, 100.0, 0.0, 10.0, 10.0], dt_score: &[0.9, 0.8] };
        let out = run(&s, &cat);
        assert!((mean(&out.precision) - 67.0 / 101.0).abs() < 1e-15);
        // Perfect: oLRP 0 with every component 0.
        assert_eq!(out.lrp[0], (0.0 + 0.0 + 1.0) / 3.0);
    }

    #[test]
    fn no_gt_gives_minus_one_and_empty_detections_give_zero() {
        let thr = [0.5, 0.75];
        let rec = linspace(0.0, 1.0, 101);
        let md = [1, 100];
        let rng = [0.0, 1e10, 0.0, 50.0];
        let s = settings(&thr, &rec, &md, &rng);
        let cat = Category { gt_offsets: &[0, 1], gt_xywh: &[0.0, 0.0, 10.0, 10.0], gt_area: &[100.0], gt_flags: &[0],
            dt_offsets: &[0, 0], dt_xywh: &[], dt_score: &[] };
        let out = run(&s, &cat);
        // area "all" (a=0) has GT: precision 0, recall 0; area [0, 50] has none: -1.
        for t in 0..2 {
            for m in 0..2 {
                assert_eq!(out.recall[(t * 2) * 2 + m], 0.0);
                assert_eq!(out.recall[(t * 2 + 1) * 2 + m], -1.0);
            }
        }
        assert!(out.precision.iter().all(|&p| p == 0.0 || p == -1.0));
        assert_eq!(out.lrp[0], 1.0);
    }

    #[test]
    fn crowd_gt_is_ignored_and_absorbs_many_detections() {
        let thr = [0.5];
        let rec = linspace(0.0, 1.0, 101);
        let md = [100];
        let rng = [0.0, 1e10];
        let s = settings(&thr, &rec, &md, &rng);
        // GT 0: normal; GT 1: crowd region covering two detections.
        let gt = [0.0, 0.0, 10.0, 10.0, 100.0, 0.0, 100.0, 100.0];
        let dt = [0.0, 0.0, 10.0, 10.0, 110.0, 10.0, 10.0, 10.0, 150.0, 50.0, 10.0, 10.0];
        let cat = Category { gt_offsets: &[0, 2], gt_xywh: &gt, gt_area: &[100.0, 10000.0],
            gt_flags: &[0, GT_CROWD | GT_IGNORE], dt_offsets: &[0, 3], dt_xywh: &dt, dt_score: &[0.5, 0.9, 0.8] };
        let out = run(&s, &cat);
        // Both crowd hits are ignored, so the single TP gives AP 1 (less numpy's epsilon).
        assert!((mean(&out.precision) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn id_zero_switch_reproduces_pycocotools() {
        let thr = [0.5];
        let rec = linspace(0.0, 1.0, 101);
        let md = [100];
        let rng = [0.0, 1e10];
        let mut s = settings(&thr, &rec, &md, &rng);
        let b = [0.0, 0.0, 10.0, 10.0];
        let cat = Category { gt_offsets: &[0, 1], gt_xywh: &b, gt_area: &[100.0], gt_flags: &[GT_ID_ZERO],
            dt_offsets: &[0, 1], dt_xywh: &b, dt_score: &[0.9] };
        assert!((mean(&run(&s, &cat).precision) - 1.0).abs() < 1e-15);
        s.id_zero_unmatched = true;
        assert_eq!(mean(&run(&s, &cat).precision), 0.0);
    }
}

#[cfg(test)]
mod accumulate_reference {
    use super::*;

    /// pycocotools' accumulate written plainly: every rc/pr value, envelope, left search.
    fn naive(s: &Settings, kept: &Kept, flags: &[Flags], npig: usize, md: usize)
        -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let sel: Vec<u32> =
            kept.by_score.iter().copied().filter(|&j| (kept.rank[j as usize] as usize) < md).collect();
        let (mut prec, mut scores, mut recall) = (Vec::new(), Vec::new(), Vec::new());
        for t in 0..s.iou_thrs.len() {
            let bit = 1u64 << t;
            let (mut tp, mut fp) = (0.0f64, 0.0f64);
            let mut rc = Vec::new();
            let mut pr = Vec::new();
            for &j in &sel {
                let f = &flags[j as usize];
                if f.ignored & bit == 0 {
                    if f.matched & bit != 0 { tp += 1.0 } else { fp += 1.0 }
                }
                rc.push(tp / npig as f64);
                pr.push(tp / (fp + tp + NP_SPACING_1));
            }
            recall.push(if rc.is_empty() { 0.0 } else { rc[rc.len() - 1] });
            for i in (1..pr.len()).rev() {
                if pr[i] > pr[i - 1] {
                    pr[i - 1] = pr[i];
                }
            }
            for &thr in s.rec_thrs {
                let pi = rc.partition_point(|&x| x < thr);
                prec.push(if pi < pr.len() { pr[pi] } else { 0.0 });
                scores.push(if pi < pr.len() { kept.score[sel[pi] as usize] } else { 0.0 });
            }
        }
        (prec, scores, recall)
    }

    #[test]
    fn peak_sampling_equals_the_plain_envelope_on_random_curves() {
        let mut seed = 99u64;
        let mut rnd = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let thr = linspace(0.5, 0.95, 10);
        let rec = linspace(0.0, 1.0, 101);
        let md = [1usize, 3, 50];
        let rng = [0.0, 1e10];
        let s = Settings { iou_thrs: &thr, rec_thrs: &rec, area_rng: &rng, max_dets: &md, similarity: Similarity::Iou,
            id_zero_unmatched: false };
        for case in 0..200 {
            let n = (rnd() * 60.0) as usize;
            let images = 1 + (rnd() * 5.0) as usize;
            let mut kept = Kept { score: Vec::new(), rank: Vec::new(), images, by_score: Vec::new() };
            let mut flags = Vec::new();
            for i in 0..n {
                // Quantised scores make ties; ranks restart per image.
                kept.score.push((rnd() * 8.0).floor() / 8.0);
                kept.rank.push((i % (n / images + 1)) as u32);
                let (m, ig) = ((rnd() * 1024.0) as u64, if rnd() < 0.2 { (rnd() * 1024.0) as u64 } else { 0 });
                flags.push(Flags { matched: m, ignored: ig, sim0: 0.7 });
            }
            let score = kept.score.clone();
            kept.by_score = (0..n as u32).collect();
            kept.by_score.sort_by(|&x, &y| score[y as usize].partial_cmp(&score[x as usize]).unwrap());
            // Real curves never have more TPs than GT: npig is at least the largest TP count.
            let most = (0..10)
                .map(|t| flags.iter().filter(|f| f.ignored >> t & 1 == 0 && f.matched >> t & 1 == 1).count());
            let npig = most.max().unwrap_or(0) + (rnd() * 3.0) as usize + 1;
            let (t_n, r_n, m_n) = (10, 101, 3);
            let mut buf = vec![0.0; output_len(t_n, r_n, 1, m_n)];
            let (p, rest) = buf.split_at_mut(t_n * r_n * m_n);
            let (sc, rest) = rest.split_at_mut(t_n * r_n * m_n);
            let (rc, rest) = rest.split_at_mut(t_n * m_n);
            let (lrp, np) = rest.split_at_mut(4 * m_n);
            let mut out = Output { precision: p, scores: sc, recall: rc, lrp, npig: np };
            let mut acc = AccScratch::default();
            for (m, &d) in md.iter().enumerate() {
                accumulate(&s, &kept, &flags, npig, d, 0, m, &mut out, &mut acc);
                let (wp, ws, wr) = naive(&s, &kept, &flags, npig, d);
                for t in 0..t_n {
                    assert_eq!(out.recall[t * m_n + m].to_bits(), wr[t].to_bits(), "case {} recall", case);
                    for r in 0..r_n {
                        let i = (t * r_n + r) * m_n + m;
                        let want = wp[t * r_n + r];
                        assert_eq!(out.precision[i].to_bits(), want.to_bits(), "case {} t {} r {}", case, t, r);
                        assert_eq!(out.scores[i].to_bits(), ws[t * r_n + r].to_bits(), "case {} scores", case);
                    }
                }
            }
        }
    }
}
