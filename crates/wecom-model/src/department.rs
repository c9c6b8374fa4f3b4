//! Department rules and views (wecom-api.md §5, legacy-api.md §4).
