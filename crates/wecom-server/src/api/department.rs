//! Departments (wecom-api.md §5, legacy-api.md §4).
