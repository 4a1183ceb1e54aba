"""Text to normalized vectors: shipped pretrained encoders and our fine-tuned dual encoder.

Contract: takes strings, returns float32 arrays with unit rows; knows nothing of item ids,
semantic ids, models or the cascade.
"""
