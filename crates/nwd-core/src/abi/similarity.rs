//! C functions for box checks and similarity.

use super::{slice, slice_mut};
use crate::boxes;
use crate::similarity::{self, Metric, Params};

/// 1 when the module runs the SIMD kernels, 0 for the scalar build.
#[no_mangle]
pub extern "C" fn nwd_simd_enabled() -> u32 {
    similarity::SIMD as u32
}

/// First box of `xyxy` (`4*n` f32) that breaks the box policy, as `index * 4 + reason`
/// (reason 1 non-finite, 2 reversed corners), or -1 when all are valid.
///
/// # Safety
/// `xyxy` points to `4*n` f32.
#[no_mangle]
pub unsafe extern "C" fn nwd_first_invalid_xyxy(xyxy: *const f32, n: usize) -> i64 {
    // SAFETY: the caller passes 4*n floats.
    let b = unsafe { slice(xyxy, 4 * n) };
    match boxes::first_invalid(b) {
        Some((i, why)) => (i as i64) * 4 + why as i64,
        None => -1,
    }
}

/// Pairwise similarity: `out[i*m + j] = metric(a[i], b[j])`.
///
/// `a`: `4*n` f32 xyxy, `b`: `4*m` f32 xyxy, `out`: `n*m` f32. Returns 0, or -1 for an
/// unknown metric code (see [`Metric`]).
///
/// # Safety
/// The pointers hold the lengths above; `out` does not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn nwd_similarity_pairwise(
    metric: u32, a: *const f32, n: usize, b: *const f32, m: usize, c: f32, eps: f32, out: *mut f32,
) -> i32 {
    let metric = match Metric::from_code(metric) {
        Some(x) => x,
        None => return -1,
    };
    // SAFETY: lengths as documented, guaranteed by the caller.
    let (a, b, out) = unsafe { (slice(a, 4 * n), slice(b, 4 * m), slice_mut(out, n * m)) };
    similarity::pairwise(metric, a, b, Params { c, eps }, out);
    0
}

/// Elementwise similarity: `out[i] = metric(a[i], b[i])`; `a`, `b`: `4*n` f32 xyxy,
/// `out`: `n` f32. Returns 0, or -1 for an unknown metric code.
///
/// # Safety
/// The pointers hold the lengths above; `out` does not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn nwd_similarity_elementwise(
    metric: u32, a: *const f32, b: *const f32, n: usize, c: f32, eps: f32, out: *mut f32,
) -> i32 {
    let metric = match Metric::from_code(metric) {
        Some(x) => x,
        None => return -1,
    };
    // SAFETY: lengths as documented, guaranteed by the caller.
    let (a, b, out) = unsafe { (slice(a, 4 * n), slice(b, 4 * n), slice_mut(out, n)) };
    similarity::elementwise(metric, a, b, Params { c, eps }, out);
    0
}
