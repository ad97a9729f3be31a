//! A value whose strings were masked: what the report writers take, so that none of them can
//! write a result without its secrets masked, nor needs to mask anything itself.

use std::ops::Deref;

use super::Masker;

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

/// A value whose strings can be masked in place.
pub trait Mask {
    fn mask(&mut self, masker: &Masker);
}

impl Mask for String {
    fn mask(&mut self, masker: &Masker) {
        if let Some(masked) = masker.masked(self) {
            *self = masked;
        }
    }
}

impl Mask for std::borrow::Cow<'static, str> {
    fn mask(&mut self, masker: &Masker) {
        if let Some(masked) = masker.masked(self) {
            *self = masked.into();
        }
    }
}

impl Mask for serde_json::Value {
    fn mask(&mut self, masker: &Masker) {
        masker.mask_value(self);
    }
}

impl Mask for serde_json::Map<String, serde_json::Value> {
    fn mask(&mut self, masker: &Masker) {
        masker.mask_map(self);
    }
}

impl<T: Mask> Mask for Option<T> {
    fn mask(&mut self, masker: &Masker) {
        if let Some(value) = self {
            value.mask(masker);
        }
    }
}

impl<T: Mask> Mask for Vec<T> {
    fn mask(&mut self, masker: &Masker) {
        self.iter_mut().for_each(|value| value.mask(masker));
    }
}
