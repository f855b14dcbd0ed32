"""thinklab: make reasoning language models think better and shorter.

The package is a small core (data, grading, tasks, prompting, backends, eval, tiny) with one-way data
flow, plus one folder per method that depends only on the core. See README.md, "Architecture".
"""

__version__ = "0.1.0"
