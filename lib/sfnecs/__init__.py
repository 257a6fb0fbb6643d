"""sfnecs: run Amazon ECS tasks on a schedule, and learn how.

The library behind the notebooks and runbooks: builders for policies and state machines, the
stack and run control, diagnosis, and the embedded sandbox (a local AWS built on moto).
"""

__version__ = "0.1.0"
