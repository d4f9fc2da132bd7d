-- Turns JIT compilation off for this session and returns the previous setting. Catalog queries
-- over thousands of tables pass jit_above_cost, and compiling them takes longer than running
-- them (0.5 s of a 0.8 s query at 5,000 tables). Restored by jit_restore.sql.
SELECT pg_catalog.current_setting('jit') AS previous,
       pg_catalog.set_config('jit', 'off', false) AS now
