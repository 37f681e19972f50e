"""{{ cookiecutter.project_slug }}: a machine-learning project that reproduces bit for bit."""

__version__ = "0.1.0"
