//! C functions for AP evaluation (see [`crate::eval`]).

use super::{slice, slice_mut};
use crate::eval::{self, Category, Output, Settings, Similarity};

/// Evaluates one category with pycocotools' semantics.
///
/// `settings` holds `[T, R, A, M, metric (0 IoU, 1 NWD), c, id_zero_unmatched (0/1)]`
/// followed by `T` thresholds, `R` recall thresholds, `2*A` area bounds and `M` max
/// detections (ascending). `gt_offsets` and `dt_offsets` have `images + 1` u32 entries;
/// `gt_xywh` `4*G` f64, `gt_area` `G` f64, `gt_flags` `G` u8 (1 crowd, 2 ignore, 4 id 0),
/// `dt_xywh` `4*D` f64, `dt_score` `D` f64 (G, D: the last offsets). `out` receives
/// `precision [T][R][A][M]`, `scores [T][R][A][M]`, `recall [T][A][M]`, `lrp [4][A][M]` and
/// `npig [A]`, f64, one after the other (`eval::output_len`). Returns 0, -1 for bad settings.
///
/// # Safety
/// The pointers hold the lengths above; `out` does not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn nwd_eval_category(
    settings: *const f64, n_settings: usize, images: usize,
    gt_offsets: *const u32, gt_xywh: *const f64, gt_area: *const f64, gt_flags: *const u8,
    dt_offsets: *const u32, dt_xywh: *const f64, dt_score: *const f64, out: *mut f64,
) -> i32 {
    // SAFETY: the caller passes n_settings f64.
    let st = unsafe { slice(settings, n_settings) };
    if st.len() < 7 {
        return -1;
    }
    let (t, r, a, m) = (st[0] as usize, st[1] as usize, st[2] as usize, st[3] as usize);
    if t == 0 || t > 64 || st.len() != 7 + t + r + 2 * a + m {
        return -1;
    }
    let similarity = match st[4] as u32 {
        0 => Similarity::Iou,
        1 => Similarity::Nwd { c: st[5] },
        _ => return -1,
    };
    let thr = &st[7..7 + t];
    let rec = &st[7 + t..7 + t + r];
    let rng = &st[7 + t + r..7 + t + r + 2 * a];
    let max_dets: Vec<usize> = st[7 + t + r + 2 * a..].iter().map(|&x| x as usize).collect();
    let s = Settings { iou_thrs: thr, rec_thrs: rec, area_rng: rng, max_dets: &max_dets, similarity,
        id_zero_unmatched: st[6] != 0.0 };
    // SAFETY: images + 1 offsets each, as documented.
    let (go, dof) = unsafe { (slice(gt_offsets, images + 1), slice(dt_offsets, images + 1)) };
    let g = go.last().copied().unwrap_or(0) as usize;
    let d = dof.last().copied().unwrap_or(0) as usize;
    let n_out = eval::output_len(t, r, a, m);
    // SAFETY: lengths follow from the offsets, guaranteed by the caller; out has n_out f64.
    let (cat, buf) = unsafe {
        (Category { gt_offsets: go, gt_xywh: slice(gt_xywh, 4 * g), gt_area: slice(gt_area, g),
            gt_flags: slice(gt_flags, g), dt_offsets: dof, dt_xywh: slice(dt_xywh, 4 * d),
            dt_score: slice(dt_score, d) },
         slice_mut(out, n_out))
    };
    let (precision, rest) = buf.split_at_mut(t * r * a * m);
    let (scores, rest) = rest.split_at_mut(t * r * a * m);
    let (recall, rest) = rest.split_at_mut(t * a * m);
    let (lrp, npig) = rest.split_at_mut(4 * a * m);
    let mut o = Output { precision, scores, recall, lrp, npig };
    eval::evaluate_category(&s, &cat, &mut o);
    0
}
