"""The library under the CLI: what runs in process without the services running - version
resolution, prediction and evaluation with the services' own logic, export, and reading the store.
`cli/` parses and prints around it; benchmarks call it; it may import services and shared, and
nothing below it imports it."""
