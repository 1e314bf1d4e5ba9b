-- The benchmark population and the bid as one plpgsql function (one round trip per bid).
-- psql variables: investors, listings, deposit (cents), amount (cents), min (cents; also the step).
-- Same shape as `bidline bench --scenario steady`: investors with a deposit, open listings with
-- amount/raised/min/step/status. Idempotent: drops and recreates everything.
\set ON_ERROR_STOP on
DROP FUNCTION IF EXISTS bid(int, int, bigint);
DROP TABLE IF EXISTS bids, listings, investors;

-- fillfactor leaves room on each page for HOT updates of the hot rows (kind to PostgreSQL).
CREATE TABLE investors (
    id        int PRIMARY KEY,
    available bigint NOT NULL CHECK (available >= 0),
    frozen    bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 50);

CREATE TABLE listings (
    id     int PRIMARY KEY,
    status text NOT NULL,                 -- open | full
    amount bigint NOT NULL,
    raised bigint NOT NULL DEFAULT 0,
    min_bid bigint NOT NULL,
    step   bigint NOT NULL
) WITH (fillfactor = 50);

CREATE TABLE bids (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id  int NOT NULL,
    investor_id int NOT NULL,
    amount      bigint NOT NULL
);

INSERT INTO investors (id, available) SELECT i, :deposit FROM generate_series(0, :investors - 1) AS i;
INSERT INTO listings (id, status, amount, min_bid, step)
    SELECT i, 'open', :amount, :min, :min FROM generate_series(0, :listings - 1) AS i;

-- The bid, in Bidline's rule order. A refused bid changes nothing and returns its code in `error`
-- (an exception would abort the pgbench client). Locks: the listing row first, then the investor row,
-- always in that order, so concurrent bids cannot deadlock.
CREATE FUNCTION bid(p_investor int, p_listing int, p_amount bigint,
                    OUT bid_id bigint, OUT accepted bigint, OUT remaining bigint, OUT is_full boolean,
                    OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    l listings%ROWTYPE;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN error := 'BAD_AMOUNT'; RETURN; END IF;
    SELECT * INTO l FROM listings WHERE id = p_listing FOR UPDATE;
    IF NOT FOUND THEN error := 'NO_SUCH_LISTING'; RETURN; END IF;
    IF l.status <> 'open' THEN error := 'LISTING_NOT_OPEN'; RETURN; END IF;
    remaining := l.amount - l.raised;
    IF p_amount >= remaining THEN
        accepted := remaining;                        -- trimmed to the remainder; fills the listing
    ELSIF p_amount < l.min_bid THEN
        error := 'BELOW_MIN_BID'; RETURN;
    ELSIF (p_amount - l.min_bid) % l.step <> 0 THEN
        error := 'NOT_STEP_MULTIPLE'; RETURN;
    ELSE
        accepted := p_amount;
    END IF;
    UPDATE investors SET available = available - accepted, frozen = frozen + accepted
        WHERE id = p_investor AND available >= accepted;
    IF NOT FOUND THEN
        error := CASE WHEN EXISTS (SELECT 1 FROM investors WHERE id = p_investor)
                      THEN 'INSUFFICIENT_FUNDS' ELSE 'NO_SUCH_USER' END;
        accepted := NULL; remaining := NULL;
        RETURN;
    END IF;
    remaining := remaining - accepted;
    is_full := remaining = 0;
    UPDATE listings SET raised = raised + accepted,
                        status = CASE WHEN is_full THEN 'full' ELSE status END
        WHERE id = p_listing;
    INSERT INTO bids (listing_id, investor_id, amount) VALUES (p_listing, p_investor, accepted)
        RETURNING id INTO bid_id;
END
$$;

VACUUM ANALYZE investors;
VACUUM ANALYZE listings;
