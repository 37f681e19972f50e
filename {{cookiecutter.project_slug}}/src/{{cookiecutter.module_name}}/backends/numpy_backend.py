"""The numpy backend: build, fit, predict, save and load weights."""
