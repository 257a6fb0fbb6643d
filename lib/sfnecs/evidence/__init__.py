"""Live evidence for the lessons: the simulation replayed in the sandbox, the fault matrix."""
