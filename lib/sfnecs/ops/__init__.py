"""Operating the kit: runbook runner, parameters, kernels, chains, runbook steps, the demo."""
