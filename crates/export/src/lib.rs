//! Archives of every discussion in open formats.
