-- Books check after a run: sum of raised over listings = sum of frozen over investors = sum of the recorded
-- bids; available + frozen of every investor still equals its deposit; no listing over-filled; every full
-- listing has raised == amount. ARGV as redis-populate.lua.
-- Reply: {bids, accepted_cents, full_listings} or an error naming the first mismatch.
local investors, listings, deposit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local frozen, raised, full = 0, 0, 0
for i = 0, investors - 1 do
  local v = redis.call('HMGET', string.format('inv:%012d', i), 'available', 'frozen')
  local a, f = tonumber(v[1]), tonumber(v[2])
  if a < 0 or a + f ~= deposit then return redis.error_reply('MISMATCH investor ' .. i) end
  frozen = frozen + f
end
for i = 0, listings - 1 do
  local v = redis.call('HMGET', string.format('lst:%012d', i), 'status', 'amount', 'raised')
  local amount, r = tonumber(v[2]), tonumber(v[3])
  if r > amount then return redis.error_reply('MISMATCH over-filled listing ' .. i) end
  if (r == amount) ~= (v[1] == 'full') then return redis.error_reply('MISMATCH full flag of listing ' .. i) end
  if v[1] == 'full' then full = full + 1 end
  raised = raised + r
end
local n, recorded, chunk = redis.call('LLEN', 'bids'), 0, 10000
for start = 0, n - 1, chunk do
  for _, e in ipairs(redis.call('LRANGE', 'bids', start, start + chunk - 1)) do
    recorded = recorded + tonumber(string.match(e, '(%d+)$'))
  end
end
if frozen ~= raised or raised ~= recorded then
  return redis.error_reply(string.format('MISMATCH frozen %d raised %d recorded %d', frozen, raised, recorded))
end
return {n, raised, full}
