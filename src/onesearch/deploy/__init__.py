"""Deploy: an artifact bundle made live — its catalog with the service's own changes, the cascade
and the generative model — handed to ``serving`` as ``Engine`` objects, one per change."""
