//! nwd-core: the hot paths of nwd, compiled to SIMD WebAssembly.
//!
//! Boxes are `f32` in the `xyxy` layout (x1, y1, x2, y2), four values per box, unless a
//! function says otherwise. Each module is one concern; `abi` holds the exported C
//! functions and the allocator, and nothing else.

#![allow(unused_unsafe)] // unsafe blocks inside unsafe fns are explicit on purpose (SAFETY notes)

pub mod boxes;
pub mod similarity;
pub mod nms;
pub mod eval;
pub mod assign;
pub mod abi;
