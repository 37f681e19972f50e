"""The sklearn backend: build, fit, predict, save and load weights."""
