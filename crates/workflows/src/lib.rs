//! The workflows file and the pure classifier.
