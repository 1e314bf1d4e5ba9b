-- Books check after a run (psql variable: deposit): sum(raised) = sum(frozen) = sum of recorded bids, every
-- investor's available + frozen still equals its deposit, no listing over-filled, status full iff raised = amount.
\set ON_ERROR_STOP on
SELECT (SELECT count(*) FROM bids) AS bids,
       (SELECT coalesce(sum(amount), 0) FROM bids) AS recorded,
       (SELECT sum(raised) FROM listings) AS raised,
       (SELECT sum(frozen) FROM investors) AS frozen,
       (SELECT count(*) FROM investors WHERE available < 0 OR available + frozen <> :deposit) AS bad_investors,
       (SELECT count(*) FROM listings WHERE raised > amount OR (raised = amount) <> (status = 'full')) AS bad_listings,
       (SELECT count(*) FROM listings WHERE status = 'full') AS full_listings
\gset
\echo bids=:bids recorded=:recorded raised=:raised frozen=:frozen bad_investors=:bad_investors bad_listings=:bad_listings full=:full_listings
SELECT (:recorded = :raised AND :raised = :frozen AND :bad_investors = 0 AND :bad_listings = 0) AS books_ok \gset
\if :books_ok
\echo books balanced
\else
\warn books MISMATCH
SELECT 'books mismatch'::int;
\endif
