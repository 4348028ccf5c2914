"""Saved copy templates: a copy defined once (its versions), shared like profiles, run on other
records from the CLI and the web. Not Django's templates: the models are CopyTemplate and
CopyTemplateVersion in models.py here."""
