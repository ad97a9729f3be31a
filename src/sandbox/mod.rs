//! The embedded sandbox: loopback emulations of the seed platforms.
