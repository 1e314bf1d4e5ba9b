-- The benchmark population (same shape as `bidline bench --scenario steady`), in one EVAL:
-- ARGV[1] investors, ARGV[2] listings, ARGV[3] deposit per investor (cents),
-- ARGV[4] listing amount (cents), ARGV[5] minimum bid = step (cents).
-- Keys: inv:%012d and lst:%012d (0-based, redis-benchmark's __rand_int__ format), bids (the bid list).
-- Idempotent: it first deletes every key it would create.
local investors, listings = tonumber(ARGV[1]), tonumber(ARGV[2])
local deposit, amount, min = ARGV[3], ARGV[4], ARGV[5]
redis.call('DEL', 'bids')
for i = 0, investors - 1 do
  local k = string.format('inv:%012d', i)
  redis.call('DEL', k)
  redis.call('HSET', k, 'available', deposit, 'frozen', 0)
end
for i = 0, listings - 1 do
  local k = string.format('lst:%012d', i)
  redis.call('DEL', k)
  redis.call('HSET', k, 'status', 'open', 'amount', amount, 'raised', 0, 'min', min, 'step', min)
end
return {investors, listings}
