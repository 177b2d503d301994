//! The router: turns the raw feed into workflow items.
