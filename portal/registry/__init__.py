"""The model registry: model versions, their stages, and the audit trail of every stage change."""
