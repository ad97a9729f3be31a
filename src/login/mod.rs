//! The pieces of a person's one-time sign-in for `authorization_code` (`whisk auth login`):
//! random `state` and PKCE values, the authorize URL, and the redirect, received on a loopback
//! address or pasted. The code exchange and the store live with the token manager.

mod authorize;
mod listener;
mod pkce;
mod redirect;

pub use authorize::{AuthorizeRequest, authorize_url};
pub use listener::{Receiver, loopback_address};
pub use pkce::{challenge, random_token};
pub use redirect::{Redirect, from_pasted, from_query};

/// Compares two values in time independent of where they first differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_secret_compares_whole_values() {
        assert!(super::same_secret("abc", "abc"));
        assert!(!super::same_secret("abc", "abd"));
        assert!(!super::same_secret("abc", "ab"));
    }
}
