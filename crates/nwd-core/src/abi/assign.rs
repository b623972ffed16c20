//! C functions for label assignment (see [`crate::assign`]).
//!
//! Shared arguments: `metric` a [`Metric`] code (not W2, a distance), `c`/`eps` the Gaussian
//! metrics' constants, `anchors` `4*n` f32 xyxy, `gts` `4*m` f32 xyxy, `ignore` `m` bytes
//! (non-zero: ignored GT), `ignore_iof`/`ignore_overlap` the [`IgnoreRule`], and the outputs
//! `labels` (`n` i32) and `max_ov` (`n` f32). Status: 0 success, -1 unknown or unusable
//! metric, -2 level counts that do not sum to `n`, -3 `topk` of 0.

use super::{slice, slice_mut};
use crate::assign::{self, IgnoreRule, MaxOverlapParams, Problem};
use crate::similarity::{Metric, Params};

/// The metric for `code`, refusing W2 (smaller is closer, so no assigner can rank by it).
fn overlap_metric(code: u32) -> Option<Metric> {
    match Metric::from_code(code) {
        Some(Metric::W2) | None => None,
        m => m,
    }
}

/// Max-overlap assigner ([`assign::max_overlap`]); `low_quality` 0 or 1.
///
/// # Safety
/// The pointers hold the lengths in the module docs; the outputs overlap nothing else.
#[no_mangle]
pub unsafe extern "C" fn nwd_assign_max_overlap(
    metric: u32, c: f32, eps: f32, anchors: *const f32, n: usize, gts: *const f32, m: usize, ignore: *const u8,
    pos_thr: f32, neg_thr: f32, min_pos: f32, low_quality: u32, ignore_iof: f32, ignore_overlap: f32,
    labels: *mut i32, max_ov: *mut f32,
) -> i32 {
    let metric = match overlap_metric(metric) {
        Some(x) => x,
        None => return -1,
    };
    // SAFETY: lengths as documented, guaranteed by the caller.
    let (anchors, gts, ignore, labels, max_ov) = unsafe {
        (slice(anchors, 4 * n), slice(gts, 4 * m), slice(ignore, m), slice_mut(labels, n), slice_mut(max_ov, n))
    };
    let pb = Problem { metric, params: Params { c, eps }, anchors, gts, ignore };
    let mp = MaxOverlapParams { pos_thr, neg_thr, min_pos, low_quality: low_quality != 0 };
    assign::max_overlap(&pb, &mp, IgnoreRule { iof: ignore_iof, overlap: ignore_overlap }, labels, max_ov);
    0
}

/// NWD-RKA ranking assigner ([`assign::rka`]).
///
/// # Safety
/// The pointers hold the lengths in the module docs; the outputs overlap nothing else.
#[no_mangle]
pub unsafe extern "C" fn nwd_assign_rka(
    metric: u32, c: f32, eps: f32, anchors: *const f32, n: usize, gts: *const f32, m: usize, ignore: *const u8,
    neg_thr: f32, topk: u32, ignore_iof: f32, ignore_overlap: f32, labels: *mut i32, max_ov: *mut f32,
) -> i32 {
    let metric = match overlap_metric(metric) {
        Some(x) => x,
        None => return -1,
    };
    if topk == 0 {
        return -3;
    }
    // SAFETY: lengths as documented, guaranteed by the caller.
    let (anchors, gts, ignore, labels, max_ov) = unsafe {
        (slice(anchors, 4 * n), slice(gts, 4 * m), slice(ignore, m), slice_mut(labels, n), slice_mut(max_ov, n))
    };
    let pb = Problem { metric, params: Params { c, eps }, anchors, gts, ignore };
    let rule = IgnoreRule { iof: ignore_iof, overlap: ignore_overlap };
    assign::rka(&pb, neg_thr, topk as usize, rule, labels, max_ov);
    0
}

/// ATSS assigner ([`assign::atss`]); `level_counts` holds `levels` u32 that must sum to `n`.
///
/// # Safety
/// The pointers hold the lengths in the module docs; the outputs overlap nothing else.
#[no_mangle]
pub unsafe extern "C" fn nwd_assign_atss(
    metric: u32, c: f32, eps: f32, anchors: *const f32, n: usize, level_counts: *const u32, levels: usize,
    gts: *const f32, m: usize, ignore: *const u8, topk: u32, ignore_iof: f32, ignore_overlap: f32,
    labels: *mut i32, max_ov: *mut f32,
) -> i32 {
    let metric = match overlap_metric(metric) {
        Some(x) => x,
        None => return -1,
    };
    if topk == 0 {
        return -3;
    }
    // SAFETY: lengths as documented, guaranteed by the caller.
    let (anchors, counts, gts, ignore, labels, max_ov) = unsafe {
        (slice(anchors, 4 * n), slice(level_counts, levels), slice(gts, 4 * m), slice(ignore, m), slice_mut(labels, n),
            slice_mut(max_ov, n))
    };
    let pb = Problem { metric, params: Params { c, eps }, anchors, gts, ignore };
    let rule = IgnoreRule { iof: ignore_iof, overlap: ignore_overlap };
    assign::atss(&pb, counts, topk as usize, rule, labels, max_ov)
}
