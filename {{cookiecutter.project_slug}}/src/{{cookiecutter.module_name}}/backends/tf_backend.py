"""The tf backend: build, fit, predict, save and load weights."""
