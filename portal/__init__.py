"""The visionkit portal: a Django project that calls the visionkit library like robot code does.

The core library never imports this package (or Django). One Django app per
area (registry, jobs, predictions, datasets, monitoring, api) joins it in
later issues; this skeleton holds settings, URLs, login and a health check.
"""
