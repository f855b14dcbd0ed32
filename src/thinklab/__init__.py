"""thinklab: make reasoning language models think better and shorter.

The package is a small core (errors, config, models, data, grading, tasks, prompting, backends, eval,
train) with one-way data flow, plus one folder per method (compress, autothink, star, search, thinkpo,
tiny) that depends only on the core, and the CLI on top; tests/test_layering.py checks the layers.
"""

__version__ = "0.1.0"
