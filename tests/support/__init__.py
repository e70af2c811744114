"""What several test modules share that is only for tests: pytest fixtures, a fake Kubernetes API
server, recorded stand-ins. Tests import helpers from here or from testbed/, never from each other."""
