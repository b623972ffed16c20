//! Box layouts, conversions and the policy for bad boxes.
//!
//! The policy, shared by similarity, NMS, assignment and evaluation: a box is valid when
//! all four numbers are finite and `x2 >= x1`, `y2 >= y1`. Zero width or height is valid
//! (such a box has area 0 and IoU 0 with everything). Reversed corners and non-finite
//! values are rejected by the caller, which names the index returned by [`first_invalid`].

/// Why a box was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// One of the four numbers is NaN or infinite.
    NonFinite = 1,
    /// `x2 < x1` or `y2 < y1`.
    Reversed = 2,
}

/// Checks one `xyxy` box against the policy.
#[inline]
pub fn check_xyxy(b: &[f32]) -> Result<(), Invalid> {
    if !(b[0].is_finite() && b[1].is_finite() && b[2].is_finite() && b[3].is_finite()) {
        return Err(Invalid::NonFinite);
    }
    if b[2] < b[0] || b[3] < b[1] {
        return Err(Invalid::Reversed);
    }
    Ok(())
}

/// Index and reason of the first box of `xyxy` (length `4*N`) that breaks the policy.
pub fn first_invalid(xyxy: &[f32]) -> Option<(usize, Invalid)> {
    xyxy.chunks_exact(4)
        .enumerate()
        .find_map(|(i, b)| check_xyxy(b).err().map(|e| (i, e)))
}

/// Converts `xywh` (x, y, width, height) to `xyxy` in place; length `4*N`.
pub fn xywh_to_xyxy(boxes: &mut [f32]) {
    for b in boxes.chunks_exact_mut(4) {
        b[2] += b[0];
        b[3] += b[1];
    }
}

/// Converts `cxcywh` (centre x, centre y, width, height) to `xyxy` in place; length `4*N`.
pub fn cxcywh_to_xyxy(boxes: &mut [f32]) {
    for b in boxes.chunks_exact_mut(4) {
        let (cx, cy, hw, hh) = (b[0], b[1], b[2] * 0.5, b[3] * 0.5);
        b[0] = cx - hw;
        b[1] = cy - hh;
        b[2] = cx + hw;
        b[3] = cy + hh;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_accepts_zero_area_and_rejects_reversed_and_nan() {
        assert_eq!(first_invalid(&[0.0, 0.0, 0.0, 5.0, -3.0, -3.0, -1.0, -1.0]), None);
        assert_eq!(first_invalid(&[0.0, 0.0, 1.0, 1.0, 10.0, 10.0, 0.0, 0.0]), Some((1, Invalid::Reversed)));
        assert_eq!(first_invalid(&[f32::NAN, 0.0, 1.0, 1.0]), Some((0, Invalid::NonFinite)));
        assert_eq!(first_invalid(&[0.0, 0.0, f32::INFINITY, 1.0]), Some((0, Invalid::NonFinite)));
    }

    #[test]
    fn conversions_match_torchvision_examples() {
        let mut a = [10.0, 15.0, 20.0, 20.0];
        xywh_to_xyxy(&mut a);
        assert_eq!(a, [10.0, 15.0, 30.0, 35.0]);
        let mut c = [58.0, 65.0, 70.0, 60.0];
        cxcywh_to_xyxy(&mut c);
        assert_eq!(c, [23.0, 35.0, 93.0, 95.0]);
    }
}
