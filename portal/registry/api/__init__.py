"""The registry API: model versions, promotion and rollback."""
