-- Gives `jit` back the value jit_off.sql found.
SELECT pg_catalog.set_config('jit', $1, false)
