"""Scripts the tests run as fresh Python processes, `python -m tests.support.children.<name> ...` with
`child_env`: jax sees several CPU devices, or joins a multi-process run, only in a process of its own. Each
prints one JSON line of facts for its parent test to assert on."""
