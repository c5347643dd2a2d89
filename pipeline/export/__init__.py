"""`pipeline export`: a trained Keras model as a TFLite or ONNX file, re-scored on the test
split with the task's own metric code before it ships (`pipeline.core.edge` runs it)."""
