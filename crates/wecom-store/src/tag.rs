//! Tags (contacts).
