"""The model file: the validated .tflite reader and golden vectors."""
