"""The pipeline: the factory wires a run, the scheduler runs the stages of each image in dependency order."""
