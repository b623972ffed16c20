//! C function for non-maximum suppression.

use super::{slice, slice_mut};
use crate::nms::{self, Decay, Error, Options};
use crate::similarity::{Metric, Params};

/// Greedy NMS (see [`crate::nms`]) over `n` detections.
///
/// Inputs: `boxes` `4*n` f32 xyxy, `scores` `n` f32, `classes` `n` i32 or null for
/// class-agnostic NMS. `metric` is a similarity code (IoU 0, GIoU 1, DIoU 2, NWD 4), `c`/`eps`
/// NWD's constants, `score_threshold` drops detections scoring below it (-inf: none),
/// `max_kept` caps the kept boxes (0: no cap), `decay` is 0 hard, 1 linear Soft-NMS,
/// 2 Gaussian Soft-NMS (with `sigma`), `flags` bit 0 turns pruning off (same result, slower).
///
/// Outputs: `keep_out` (`n` u32) kept input indices in output order, `scores_out` (`n` f32)
/// their final scores, `info_out` (5 u32): kept count, detections dropped for a non-finite
/// score, the offending index for status -5/-6, the reason for -5 (1 non-finite, 2 reversed),
/// the pruning used (0 none, 1 overlap grid, 2 centre grid).
///
/// Returns 0, or: -1 unsupported metric, -2 threshold out of range, -3 bad sigma, -4 NaN
/// score threshold, -5 invalid box, -6 negative score under Soft-NMS, -7 unknown decay, -8 lengths
/// that do not match (cannot happen through this function, which derives them from `n`).
///
/// # Safety
/// The pointers hold the lengths above (`classes` may be null); outputs do not overlap inputs.
#[no_mangle]
pub unsafe extern "C" fn nwd_nms(
    boxes: *const f32, scores: *const f32, classes: *const i32, n: usize, metric: u32, threshold: f32, c: f32,
    eps: f32, score_threshold: f32, max_kept: u32, decay: u32, sigma: f32, flags: u32, keep_out: *mut u32,
    scores_out: *mut f32, info_out: *mut u32,
) -> i32 {
    // SAFETY: lengths as documented, guaranteed by the caller.
    let info = unsafe { slice_mut(info_out, 5) };
    info.iter_mut().for_each(|v| *v = 0);
    let metric = match Metric::from_code(metric) {
        Some(m) => m,
        None => return -1,
    };
    let decay = match decay {
        0 => Decay::Hard,
        1 => Decay::Linear,
        2 => Decay::Gaussian { sigma },
        _ => return -7,
    };
    let opts = Options {
        metric,
        threshold,
        params: Params { c, eps },
        score_threshold,
        max_kept: if max_kept == 0 { usize::MAX } else { max_kept as usize },
        decay,
        prune: flags & 1 == 0,
    };
    // SAFETY: lengths as documented; a null `classes` yields an empty slice, read as "none".
    let (b, s) = unsafe { (slice(boxes, 4 * n), slice(scores, n)) };
    let cls = if classes.is_null() { None } else { Some(unsafe { slice(classes, n) }) };
    match nms::nms(b, s, cls, &opts) {
        Ok(out) => {
            let k = out.keep.len();
            // SAFETY: both outputs hold n >= k elements.
            let (ko, so) = unsafe { (slice_mut(keep_out, n), slice_mut(scores_out, n)) };
            ko[..k].copy_from_slice(&out.keep);
            so[..k].copy_from_slice(&out.scores);
            info[0] = k as u32;
            info[1] = out.non_finite as u32;
            info[4] = out.path.map_or(0, |p| p as u32);
            0
        }
        Err(e) => match e {
            Error::Metric => -1,
            Error::Threshold => -2,
            Error::Sigma => -3,
            Error::ScoreThreshold => -4,
            Error::InvalidBox { index, why } => {
                info[2] = index as u32;
                info[3] = why as u32;
                -5
            }
            Error::NegativeScore { index } => {
                info[2] = index as u32;
                -6
            }
            Error::Length => -8,
        },
    }
}
