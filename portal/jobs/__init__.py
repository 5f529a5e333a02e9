"""Training, evaluation and batch-prediction jobs, run by django-q2 workers."""
