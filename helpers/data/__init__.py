"""Data curation (notebook 01): loaders, cleaning, PII, deduplication, quality, grounding, synthesis,
splits, review and the data card; :func:`helpers.data.pipeline.curate` runs them all."""
