//! Departments (contacts).
