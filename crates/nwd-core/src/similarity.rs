//! Pairwise (N x M) and elementwise (N) box similarity: IoU, GIoU, DIoU, CIoU, NWD, DotD and
//! the Gaussian Wasserstein distance W2.
//!
//! Conventions (all inputs `xyxy`, validated by the caller, see [`crate::boxes`]):
//! - IoU is 0 whenever the intersection is not positive (never NaN), so zero-area boxes have
//!   IoU 0 with everything, themselves included.
//! - GIoU falls back to IoU when the enclosing box has zero area.
//! - DIoU and CIoU add `1e-7` to the squared diagonal of the enclosing box, CIoU adds it to
//!   the heights inside `atan(w/h)` and to the denominator of alpha (torchvision/Ultralytics).
//! - NWD = exp(-sqrt(W2^2 + eps) / C) with W2^2 = |c_a - c_b|^2 + ((w_a-w_b)^2 + (h_a-h_b)^2)/4;
//!   `eps = 0` is the paper's exact form, `eps = 1e-6` the authors' code.
//! - DotD = exp(-|c_a - c_b| / C) (C plays the role of the mean object size S).
//! - W2 = sqrt(W2^2 + eps), in pixels (a distance, not a similarity).
//!
//! Every metric has a scalar `f32` kernel ([`pair`]); on wasm32 with `simd128` the pairwise
//! and elementwise drivers use four-lane kernels for all metrics but CIoU (whose `atan`
//! stays scalar). Both compute the same operations in the same order (exp included, see
//! [`exp_poly`]), so they agree bit for bit. [`pair_f64`] is the float64 reference the tests
//! hold both against.

/// The similarity measures, with the numbers the C ABI uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Iou = 0,
    Giou = 1,
    Diou = 2,
    Ciou = 3,
    Nwd = 4,
    DotD = 5,
    W2 = 6,
}

impl Metric {
    /// The metric for an ABI code, or `None` for an unknown one.
    pub fn from_code(code: u32) -> Option<Metric> {
        Some(match code {
            0 => Metric::Iou,
            1 => Metric::Giou,
            2 => Metric::Diou,
            3 => Metric::Ciou,
            4 => Metric::Nwd,
            5 => Metric::DotD,
            6 => Metric::W2,
            _ => return None,
        })
    }
}

/// Constants of the Gaussian metrics: `c` normalises NWD and DotD, `eps` is added under the
/// square root of NWD and W2 (0 for the exact form, 1e-6 for the authors' reference code).
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub c: f32,
    pub eps: f32,
}

/// The epsilon DIoU/CIoU use (torchvision's value).
pub const DIOU_EPS: f32 = 1e-7;

/// Below this argument [`exp_poly`] returns 0 (e^-87.3 is near the smallest normal f32).
const EXP_MIN: f32 = -87.3;
/// 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits (0x4B40_0000).
const EXP_MAGIC: f32 = 12_582_912.0;

/// exp(x) for x <= 0 as the SIMD kernels compute it, lane for lane: n = round(x / ln2) by the
/// magic-number trick (whose bits then hold n, giving 2^n by a shift), Cody-Waite reduction to
/// |r| <= ln2/2 and a degree-6 Taylor polynomial (relative error < 2e-7 before rounding); 0
/// below -87.3. Scalar and SIMD paths share it so NWD and DotD agree bit for bit everywhere
/// (similarity, NMS, assignment).
#[inline]
pub fn exp_poly(x: f32) -> f32 {
    if x < EXP_MIN {
        return 0.0;
    }
    let t = x * core::f32::consts::LOG2_E + EXP_MAGIC;
    let n = t - EXP_MAGIC;
    let r = x - n * 0.693_145_75;
    let r = r - n * 1.428_606_8e-6;
    let mut p = 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let pow2 = f32::from_bits((t.to_bits() as i32).wrapping_add(127 - 0x4B40_0000).wrapping_shl(23) as u32);
    p * pow2
}

/// Scalar `f32` similarity of two `xyxy` boxes.
#[inline]
pub fn pair(metric: Metric, a: &[f32], b: &[f32], p: Params) -> f32 {
    let (ax1, ay1, ax2, ay2) = (a[0], a[1], a[2], a[3]);
    let (bx1, by1, bx2, by2) = (b[0], b[1], b[2], b[3]);
    match metric {
        Metric::Nwd | Metric::W2 | Metric::DotD => {
            let dx = (ax1 + ax2) * 0.5 - (bx1 + bx2) * 0.5;
            let dy = (ay1 + ay2) * 0.5 - (by1 + by2) * 0.5;
            let centre = dx * dx + dy * dy;
            let neg_inv_c = -1.0 / p.c;
            if metric == Metric::DotD {
                return exp_poly(centre.sqrt() * neg_inv_c);
            }
            let dw = (ax2 - ax1) - (bx2 - bx1);
            let dh = (ay2 - ay1) - (by2 - by1);
            let w2 = (centre + (dw * dw + dh * dh) * 0.25 + p.eps).sqrt();
            if metric == Metric::W2 { w2 } else { exp_poly(w2 * neg_inv_c) }
        }
        _ => {
            let iw = (ax2.min(bx2) - ax1.max(bx1)).max(0.0);
            let ih = (ay2.min(by2) - ay1.max(by1)).max(0.0);
            let inter = iw * ih;
            let union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
            // inter > 0 implies union > 0 (both areas are positive then); the floor only turns
            // 0/0 (two zero-area boxes) into 0, as the SIMD kernel does, with no branch.
            let iou = inter / union.max(f32::MIN_POSITIVE);
            let ew = ax2.max(bx2) - ax1.min(bx1);
            let eh = ay2.max(by2) - ay1.min(by1);
            match metric {
                Metric::Iou => iou,
                Metric::Giou => {
                    let enclose = ew * eh;
                    if enclose > 0.0 { iou - (enclose - union) / enclose } else { iou }
                }
                _ => {
                    let dx = (ax1 + ax2) - (bx1 + bx2);
                    let dy = (ay1 + ay2) - (by1 + by2);
                    let rho2 = (dx * dx + dy * dy) * 0.25;
                    let diou = iou - rho2 / (ew * ew + eh * eh + DIOU_EPS);
                    if metric == Metric::Diou {
                        return diou;
                    }
                    let t = ((bx2 - bx1) / (by2 - by1 + DIOU_EPS)).atan()
                        - ((ax2 - ax1) / (ay2 - ay1 + DIOU_EPS)).atan();
                    let v = (4.0 / (core::f32::consts::PI * core::f32::consts::PI)) * t * t;
                    let alpha = v / (1.0 - iou + v + DIOU_EPS);
                    diou - alpha * v
                }
            }
        }
    }
}

/// Float64 reference of [`pair`], the same formulas without rounding to `f32`.
pub fn pair_f64(metric: Metric, a: [f64; 4], b: [f64; 4], c: f64, eps: f64) -> f64 {
    let [ax1, ay1, ax2, ay2] = a;
    let [bx1, by1, bx2, by2] = b;
    let dx = (ax1 + ax2) / 2.0 - (bx1 + bx2) / 2.0;
    let dy = (ay1 + ay2) / 2.0 - (by1 + by2) / 2.0;
    let centre = dx * dx + dy * dy;
    let dw = (ax2 - ax1) - (bx2 - bx1);
    let dh = (ay2 - ay1) - (by2 - by1);
    let w2 = (centre + (dw * dw + dh * dh) / 4.0 + eps).sqrt();
    let iw = (ax2.min(bx2) - ax1.max(bx1)).max(0.0);
    let ih = (ay2.min(by2) - ay1.max(by1)).max(0.0);
    let inter = iw * ih;
    let union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
    let iou = if inter > 0.0 && union > 0.0 { inter / union } else { 0.0 };
    let ew = ax2.max(bx2) - ax1.min(bx1);
    let eh = ay2.max(by2) - ay1.min(by1);
    let e = DIOU_EPS as f64;
    let diou = iou - centre / (ew * ew + eh * eh + e);
    match metric {
        Metric::Iou => iou,
        Metric::Giou => {
            let enclose = ew * eh;
            if enclose > 0.0 { iou - (enclose - union) / enclose } else { iou }
        }
        Metric::Diou => diou,
        Metric::Ciou => {
            let t = ((bx2 - bx1) / (by2 - by1 + e)).atan() - ((ax2 - ax1) / (ay2 - ay1 + e)).atan();
            let v = 4.0 / (core::f64::consts::PI * core::f64::consts::PI) * t * t;
            diou - v / (1.0 - iou + v + e) * v
        }
        Metric::Nwd => (-w2 / c).exp(),
        Metric::DotD => (-centre.sqrt() / c).exp(),
        Metric::W2 => w2,
    }
}

/// Scalar pairwise driver: `out[i*M + j] = metric(a[i], b[j])`.
///
/// `a` is `xyxy` of length `4*N`, `b` of length `4*M`, `out` of length `N*M`.
pub fn pairwise_scalar(metric: Metric, a: &[f32], b: &[f32], p: Params, out: &mut [f32]) {
    let m = b.len() / 4;
    for (i, ba) in a.chunks_exact(4).enumerate() {
        let row = &mut out[i * m..(i + 1) * m];
        for (o, bb) in row.iter_mut().zip(b.chunks_exact(4)) {
            *o = pair(metric, ba, bb, p);
        }
    }
}

/// Scalar elementwise driver: `out[i] = metric(a[i], b[i])`; `a`, `b` of length `4*N`.
pub fn elementwise_scalar(metric: Metric, a: &[f32], b: &[f32], p: Params, out: &mut [f32]) {
    for ((o, ba), bb) in out.iter_mut().zip(a.chunks_exact(4)).zip(b.chunks_exact(4)) {
        *o = pair(metric, ba, bb, p);
    }
}

/// Whether this build runs the four-lane SIMD kernels.
pub const SIMD: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Pairwise similarity, SIMD where the build has it; same contract as [`pairwise_scalar`].
pub fn pairwise(metric: Metric, a: &[f32], b: &[f32], p: Params, out: &mut [f32]) {
    debug_assert!(a.len() % 4 == 0 && b.len() % 4 == 0 && out.len() == a.len() / 4 * (b.len() / 4));
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        if metric != Metric::Ciou {
            simd::pairwise(metric, a, b, p, out);
            return;
        }
    }
    pairwise_scalar(metric, a, b, p, out)
}

/// Elementwise similarity, SIMD where the build has it; same contract as [`elementwise_scalar`].
pub fn elementwise(metric: Metric, a: &[f32], b: &[f32], p: Params, out: &mut [f32]) {
    debug_assert!(a.len() == b.len() && out.len() == a.len() / 4);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        if metric != Metric::Ciou {
            simd::elementwise(metric, a, b, p, out);
            return;
        }
    }
    elementwise_scalar(metric, a, b, p, out)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{pair, Metric, Params, EXP_MAGIC, EXP_MIN};
    use core::arch::wasm32::*;

    /// Four boxes, one per lane, with the derived quantities the kernels share. Each is
    /// computed with the same operations as the scalar kernel, so both round alike.
    #[derive(Clone, Copy)]
    struct Lanes {
        x1: v128,
        y1: v128,
        x2: v128,
        y2: v128,
        /// (x2 - x1) * (y2 - y1)
        area: v128,
        /// (x1 + x2) * 0.5, (y1 + y2) * 0.5
        cx: v128,
        cy: v128,
        /// x2 - x1, y2 - y1
        w: v128,
        h: v128,
    }

    const COLS: usize = 9;

    /// Boxes transposed to structure-of-arrays (one column per `Lanes` field), padded to a
    /// multiple of four.
    struct Soa {
        cols: Vec<f32>,
        stride: usize,
    }

    fn derived(b: &[f32]) -> [f32; COLS] {
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        [b[0], b[1], b[2], b[3], w * h, (b[0] + b[2]) * 0.5, (b[1] + b[3]) * 0.5, w, h]
    }

    impl Soa {
        fn new(xyxy: &[f32]) -> Soa {
            let n = xyxy.len() / 4;
            let stride = (n + 3) & !3;
            let mut cols = vec![0.0; COLS * stride];
            for (i, b) in xyxy.chunks_exact(4).enumerate() {
                for (k, v) in derived(b).iter().enumerate() {
                    cols[k * stride + i] = *v;
                }
            }
            Soa { cols, stride }
        }

        #[inline(always)]
        fn lanes(&self, j: usize) -> Lanes {
            debug_assert!(j + 4 <= self.stride);
            let base = self.cols.as_ptr();
            // SAFETY: j + 4 <= stride, so every load stays inside column k's `stride` floats
            // of `cols` (COLS * stride long); v128_load has no alignment requirement.
            let ld = |k: usize| unsafe { v128_load(base.add(k * self.stride + j) as *const v128) };
            Lanes { x1: ld(0), y1: ld(1), x2: ld(2), y2: ld(3), area: ld(4), cx: ld(5), cy: ld(6), w: ld(7), h: ld(8) }
        }
    }

    fn splat(b: &[f32]) -> Lanes {
        let d = derived(b);
        let s = |k: usize| f32x4_splat(d[k]);
        Lanes { x1: s(0), y1: s(1), x2: s(2), y2: s(3), area: s(4), cx: s(5), cy: s(6), w: s(7), h: s(8) }
    }

    /// [`super::exp_poly`] on four lanes, with the same operations in the same order.
    #[inline(always)]
    fn exp4(x: v128) -> v128 {
        let xc = f32x4_pmax(x, f32x4_splat(EXP_MIN));
        let t = f32x4_add(f32x4_mul(xc, f32x4_splat(core::f32::consts::LOG2_E)), f32x4_splat(EXP_MAGIC));
        let n = f32x4_sub(t, f32x4_splat(EXP_MAGIC));
        let r = f32x4_sub(xc, f32x4_mul(n, f32x4_splat(0.693_145_75)));
        let r = f32x4_sub(r, f32x4_mul(n, f32x4_splat(1.428_606_8e-6)));
        let mut p = f32x4_splat(1.0 / 720.0);
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.0 / 120.0));
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.0 / 24.0));
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.0 / 6.0));
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(0.5));
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.0));
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.0));
        let pow2 = i32x4_shl(i32x4_add(t, i32x4_splat(127 - 0x4B40_0000)), 23);
        v128_andnot(f32x4_mul(p, pow2), f32x4_lt(x, f32x4_splat(EXP_MIN)))
    }

    /// The four-lane kernel of one metric (never CIoU); `metric` is a constant at each call
    /// site, so the match folds away. It uses pmin/pmax (one x86 instruction each; wasm's
    /// NaN-propagating min/max take several): inputs are finite by the box policy.
    #[inline(always)]
    fn kernel(metric: Metric, a: Lanes, b: Lanes, p: Params) -> v128 {
        let zero = f32x4_splat(0.0);
        match metric {
            Metric::Nwd | Metric::W2 | Metric::DotD => {
                let dx = f32x4_sub(a.cx, b.cx);
                let dy = f32x4_sub(a.cy, b.cy);
                let centre = f32x4_add(f32x4_mul(dx, dx), f32x4_mul(dy, dy));
                let neg_inv_c = f32x4_splat(-1.0 / p.c);
                if metric == Metric::DotD {
                    return exp4(f32x4_mul(f32x4_sqrt(centre), neg_inv_c));
                }
                let dw = f32x4_sub(a.w, b.w);
                let dh = f32x4_sub(a.h, b.h);
                let shape = f32x4_mul(f32x4_add(f32x4_mul(dw, dw), f32x4_mul(dh, dh)), f32x4_splat(0.25));
                let w2 = f32x4_sqrt(f32x4_add(f32x4_add(centre, shape), f32x4_splat(p.eps)));
                if metric == Metric::W2 { w2 } else { exp4(f32x4_mul(w2, neg_inv_c)) }
            }
            _ => {
                let iw = f32x4_pmax(f32x4_sub(f32x4_pmin(a.x2, b.x2), f32x4_pmax(a.x1, b.x1)), zero);
                if metric == Metric::Iou && !v128_any_true(f32x4_gt(iw, zero)) {
                    // No lane overlaps along x: IoU 0 in all four (most pairs of tiny boxes).
                    return zero;
                }
                let ih = f32x4_pmax(f32x4_sub(f32x4_pmin(a.y2, b.y2), f32x4_pmax(a.y1, b.y1)), zero);
                let inter = f32x4_mul(iw, ih);
                let union = f32x4_sub(f32x4_add(a.area, b.area), inter);
                let iou = f32x4_div(inter, f32x4_pmax(union, f32x4_splat(f32::MIN_POSITIVE)));
                if metric == Metric::Iou {
                    return iou;
                }
                let ew = f32x4_sub(f32x4_pmax(a.x2, b.x2), f32x4_pmin(a.x1, b.x1));
                let eh = f32x4_sub(f32x4_pmax(a.y2, b.y2), f32x4_pmin(a.y1, b.y1));
                if metric == Metric::Giou {
                    let enclose = f32x4_mul(ew, eh);
                    let penalty = f32x4_div(f32x4_sub(enclose, union), enclose);
                    return f32x4_sub(iou, v128_and(penalty, f32x4_gt(enclose, zero)));
                }
                let dx = f32x4_sub(f32x4_add(a.x1, a.x2), f32x4_add(b.x1, b.x2));
                let dy = f32x4_sub(f32x4_add(a.y1, a.y2), f32x4_add(b.y1, b.y2));
                let rho2 = f32x4_mul(f32x4_add(f32x4_mul(dx, dx), f32x4_mul(dy, dy)), f32x4_splat(0.25));
                let diag = f32x4_add(f32x4_add(f32x4_mul(ew, ew), f32x4_mul(eh, eh)), f32x4_splat(super::DIOU_EPS));
                f32x4_sub(iou, f32x4_div(rho2, diag))
            }
        }
    }

    /// Expands `$body!(kernel)` once per metric with the metric fixed, so the drivers'
    /// loops carry no branch on the metric.
    macro_rules! with_kernel {
        ($metric:expr, $p:expr, $body:ident) => {
            match $metric {
                Metric::Iou => $body!(|a: Lanes, b: Lanes| kernel(Metric::Iou, a, b, $p)),
                Metric::Giou => $body!(|a: Lanes, b: Lanes| kernel(Metric::Giou, a, b, $p)),
                Metric::Diou => $body!(|a: Lanes, b: Lanes| kernel(Metric::Diou, a, b, $p)),
                Metric::Nwd => $body!(|a: Lanes, b: Lanes| kernel(Metric::Nwd, a, b, $p)),
                Metric::DotD => $body!(|a: Lanes, b: Lanes| kernel(Metric::DotD, a, b, $p)),
                Metric::W2 => $body!(|a: Lanes, b: Lanes| kernel(Metric::W2, a, b, $p)),
                Metric::Ciou => unreachable!("CIoU runs the scalar kernel"),
            }
        };
    }

    pub fn pairwise(metric: Metric, a: &[f32], b: &[f32], p: Params, out: &mut [f32]) {
        let (n, m) = (a.len() / 4, b.len() / 4);
        assert!(out.len() >= n * m);
        let full = m & !3;
        let soa = Soa::new(&b[..4 * full]);
        let dst = out.as_mut_ptr();
        macro_rules! drive {
            ($k:expr) => {{
                let k = $k;
                for (i, ba) in a.chunks_exact(4).enumerate() {
                    let al = splat(ba);
                    let mut j = 0;
                    while j < full {
                        // SAFETY: i < n and j + 4 <= m, so i*m + j + 4 <= n*m <= out.len().
                        unsafe { v128_store(dst.add(i * m + j) as *mut v128, k(al, soa.lanes(j))) };
                        j += 4;
                    }
                    for j in full..m {
                        out[i * m + j] = pair(metric, ba, &b[4 * j..4 * j + 4], p);
                    }
                }
            }};
        }
        with_kernel!(metric, p, drive);
    }

    pub fn elementwise(metric: Metric, a: &[f32], b: &[f32], p: Params, out: &mut [f32]) {
        let n = out.len();
        assert!(a.len() >= 4 * n && b.len() >= 4 * n);
        let full = n & !3;
        let (sa, sb) = (Soa::new(&a[..4 * full]), Soa::new(&b[..4 * full]));
        let dst = out.as_mut_ptr();
        macro_rules! drive {
            ($k:expr) => {{
                let k = $k;
                let mut j = 0;
                while j < full {
                    // SAFETY: j + 4 <= full <= n = out.len().
                    unsafe { v128_store(dst.add(j) as *mut v128, k(sa.lanes(j), sb.lanes(j))) };
                    j += 4;
                }
            }};
        }
        with_kernel!(metric, p, drive);
        for k in full..n {
            out[k] = pair(metric, &a[4 * k..4 * k + 4], &b[4 * k..4 * k + 4], p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXACT: Params = Params { c: 12.8, eps: 0.0 };

    #[test]
    fn paper_example_and_conventions() {
        let a = [10.0, 10.0, 16.0, 16.0];
        let b = [12.0, 12.0, 18.0, 18.0];
        assert!((pair(Metric::Nwd, &a, &b, EXACT) - 0.80174).abs() < 1e-5);
        assert!((pair(Metric::Iou, &a, &b, EXACT) - 0.285714).abs() < 1e-5);
        assert_eq!(pair(Metric::Nwd, &a, &a, EXACT), 1.0);
        let eps = Params { c: 12.8, eps: 1e-6 };
        assert!((pair(Metric::Nwd, &a, &a, eps) - 0.999922).abs() < 1e-6);
        let line = [5.0, 5.0, 5.0, 9.0];
        assert_eq!(pair(Metric::Iou, &line, &line, EXACT), 0.0);
        for m in [Metric::Giou, Metric::Diou, Metric::Ciou] {
            assert!(pair(m, &line, &line, EXACT).is_finite());
        }
        let point = [15.0, 15.0, 15.0, 15.0];
        let target = [10.0, 10.0, 20.0, 20.0];
        assert!((pair(Metric::Ciou, &point, &target, EXACT) + 0.05).abs() < 1e-6);
    }

    #[test]
    fn scalar_f32_tracks_f64_on_random_boxes() {
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 40) as f32) / ((1u64 << 24) as f32)
        };
        for _ in 0..20000 {
            let mut bx = [[0f32; 4]; 2];
            for b in bx.iter_mut() {
                let (x, y) = (rnd() * 1000.0, rnd() * 1000.0);
                let s = if rnd() < 0.5 { 32.0 } else { 400.0 };
                *b = [x, y, x + rnd() * s, y + rnd() * s];
            }
            for m in [Metric::Iou, Metric::Nwd, Metric::Giou, Metric::W2] {
                let got = pair(m, &bx[0], &bx[1], EXACT) as f64;
                let want = pair_f64(m, bx[0].map(f64::from), bx[1].map(f64::from), 12.8, 0.0);
                let tol = 2e-5 * want.abs() + if m == Metric::Giou { 1e-6 } else { 1e-37 };
                assert!((got - want).abs() <= tol, "{:?} {:?} {} {}", m, bx, got, want);
            }
        }
    }
}
