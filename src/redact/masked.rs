//! A value whose strings were masked: what the report writers take, so that none of them can
//! write a result without its secrets masked, nor needs to mask anything itself.

use std::ops::Deref;

use super::Masker;
use crate::result::Mask;

/// `T` with every string masked. Made only by masking; read through `Deref`.
#[derive(Clone, Debug)]
pub struct Masked<T>(T);

impl<T: Mask> Masked<T> {
    /// Masks every string of `value`.
    pub fn new(mut value: T, masker: &Masker) -> Masked<T> {
        value.mask(masker);
        Masked(value)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Masked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
