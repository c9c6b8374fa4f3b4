//! Tags (wecom-api.md §6, legacy-api.md §5).
