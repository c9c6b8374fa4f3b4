//! Tag rules and views (wecom-api.md §6, legacy-api.md §5).
