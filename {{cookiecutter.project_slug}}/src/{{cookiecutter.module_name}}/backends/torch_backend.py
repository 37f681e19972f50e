"""The torch backend: build, fit, predict, save and load weights."""
