"""Layer 2, data curation (notebook 01): the catalog schema and checker, loaders, cleaning, PII, deduplication,
quality, grounding, synthesis, splits, review and the data card; :func:`helpers.data.pipeline.curate` runs them all."""
