-- pgbench script: one bid per transaction, one round trip (-M prepared). Variables from -D: investors,
-- listings, min (cents). Random investor and listing, amount 1-5 steps like `bidline bench --scenario steady`.
\set inv random(0, :investors - 1)
\set lst random(0, :listings - 1)
\set amt :min * random(1, 5)
SELECT * FROM bid(:inv, :lst, :amt);
