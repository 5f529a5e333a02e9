"""Data set versions: labelled plates in the Hades mask convention, named by their manifest hash."""
