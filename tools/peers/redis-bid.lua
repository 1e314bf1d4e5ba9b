-- The bid, as a Redis 7 script (EVALSHA), mirroring Bidline's BID for the benchmark population.
--
-- KEYS[1]  investor hash   {available, frozen}                       (cents)
-- KEYS[2]  listing hash    {status, amount, raised, min, step}       (cents; status open|full)
-- KEYS[3]  bids list       one entry per accepted bid: "<listing> <investor> <cents>"
-- ARGV[1]  amount in cents
-- ARGV[2]  optional: a random integer R (redis-benchmark's __rand_int__); the amount is then
--          ARGV[1] * (1 + R mod 5), i.e. 1-5 steps of ARGV[1], like `bidline bench --scenario steady`
--          (bids of 1-5 yuan).
--
-- Steps, in Bidline's rule order: the listing is open; amount >= min and min + k*step unless it takes the
-- whole remainder (then it is trimmed to the remainder); the investor's available balance covers the accepted
-- amount, which moves available -> frozen; raised += accepted; the bid is recorded (its id is its position in
-- the bids list); raised == amount turns the listing full in the same step.
-- Reply: {bid_id, accepted, remaining, full} or an error reply with Bidline's code. A refused bid changes
-- nothing (every check comes before the first write).
-- Money is cents in Lua numbers (doubles): exact up to 2^53, far above Bidline's 10^13-cent limit.

local investor, listing, bids = KEYS[1], KEYS[2], KEYS[3]
local x = tonumber(ARGV[1])
if x and ARGV[2] then x = x * (1 + tonumber(ARGV[2]) % 5) end
if not x or x <= 0 or x ~= math.floor(x) then return redis.error_reply('BAD_AMOUNT amount') end

local l = redis.call('HMGET', listing, 'status', 'amount', 'raised', 'min', 'step')
if not l[1] then return redis.error_reply('NO_SUCH_LISTING ' .. listing) end
if l[1] ~= 'open' then return redis.error_reply('LISTING_NOT_OPEN listing is not open for bids') end
local amount, raised, min, step = tonumber(l[2]), tonumber(l[3]), tonumber(l[4]), tonumber(l[5])
local remaining = amount - raised

local accepted
if x >= remaining then
  accepted = remaining
elseif x < min then
  return redis.error_reply('BELOW_MIN_BID amount is below the minimum bid')
elseif (x - min) % step ~= 0 then
  return redis.error_reply('NOT_STEP_MULTIPLE amount is not the minimum plus a whole number of steps')
else
  accepted = x
end

local available = tonumber(redis.call('HGET', investor, 'available'))
if not available then return redis.error_reply('NO_SUCH_USER ' .. investor) end
if available < accepted then return redis.error_reply('INSUFFICIENT_FUNDS available balance is too low') end

redis.call('HINCRBY', investor, 'available', -accepted)
redis.call('HINCRBY', investor, 'frozen', accepted)
raised = raised + accepted
redis.call('HSET', listing, 'raised', raised)
local full = 0
if raised == amount then
  redis.call('HSET', listing, 'status', 'full')
  full = 1
end
local id = redis.call('RPUSH', bids, listing .. ' ' .. investor .. ' ' .. accepted)
return {id, accepted, amount - raised, full}
