//! The exported C functions and the allocator, and nothing else.
//!
//! Every function takes pointers into this module's memory that the caller obtained from
//! [`alloc`] and sized as the function's documentation says; no pointer is kept after a
//! call returns. Status codes: 0 success, negative an error described where it is returned.

mod similarity;
pub mod nms;
pub mod eval;
pub mod assign;

use std::alloc::{alloc as raw_alloc, dealloc as raw_dealloc, Layout};

const ALIGN: usize = 16;

/// Allocates `size` bytes aligned to 16; returns null when `size` is 0 or memory runs out.
#[no_mangle]
pub extern "C" fn alloc(size: usize) -> *mut u8 {
    match Layout::from_size_align(size, ALIGN) {
        Ok(layout) if size > 0 => {
            // SAFETY: layout has a non-zero size.
            unsafe { raw_alloc(layout) }
        }
        _ => core::ptr::null_mut(),
    }
}

/// Frees memory from [`alloc`]; `size` must be the size it was allocated with.
///
/// # Safety
/// `ptr` must come from `alloc(size)` and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: usize) {
    if ptr.is_null() || size == 0 {
        return;
    }
    // SAFETY: the caller passes a pointer from alloc(size), whose layout this rebuilds.
    unsafe { raw_dealloc(ptr, Layout::from_size_align_unchecked(size, ALIGN)) }
}

/// Reads `len` elements at `ptr` as a slice (empty for a null pointer or zero length).
///
/// # Safety
/// `ptr` must point to `len` initialised elements that stay valid and unaliased by writers
/// for the call's duration.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }
}

/// Mutable twin of [`slice`].
///
/// # Safety
/// `ptr` must point to `len` writable elements not aliased for the call's duration.
pub(crate) unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize) -> &'a mut [T] {
    if len == 0 || ptr.is_null() {
        &mut []
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
    }
}
