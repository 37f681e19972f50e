"""{{ cookiecutter.project_slug }}.

A machine-learning project that reproduces bit for bit.
"""

__version__ = "0.1.0"
