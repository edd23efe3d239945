"""The static engine (libcst).  Importing it imports libcst, never TensorFlow."""
