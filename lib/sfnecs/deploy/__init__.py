"""Deploying a stack: where calls go (target), the create requests (requests) and resource types
(resources), plan/apply/teardown as change sets (stack, changes), pre-flight checks (verify), default network."""
