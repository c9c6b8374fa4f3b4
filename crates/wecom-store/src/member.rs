//! Members (contacts).
