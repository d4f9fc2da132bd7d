-- a comment
--keel:lock-timeout = 1.5h
-- keel:no-transction
SELECT 1;
