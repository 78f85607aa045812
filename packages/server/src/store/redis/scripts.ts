/**
 * The Redis store's atomic operations, as Lua scripts (run with EVALSHA, re-sent after a Redis
 * restart flushed the script cache). Each script runs alone on the Redis server, so a check and
 * the change it guards cannot interleave with another process's.
 *
 * Every key is built inside the script from the prefix in ARGV[1], so the store needs a single
 * Redis (standalone or Sentinel-managed), not Redis Cluster. Keys (`p` = prefix, `tfx:`):
 *
 *   p room:<name>        hash: capacity, pw (scrypt hash), exp, locked, mod (token digest),
 *                              created, origin (api|join), sid (live session), ordc (join order),
 *                              lobby ('1' while on), lobbyv (lobby version), lobbyo (queue order)
 *   p lobby:<name>       hash: lobby id → JSON {id, name, node, since, ord} (who waits)
 *   p lobbynode:<node>   set of "<room>\n<lobby id>" waiting on a node (for reaping a dead node)
 *   p peers:<name>       hash: peerId → JSON {id, name, state, joinedAt, moderator, ord, node,
 *                              tok (resume token digest or ''), pi (participant index or -1)}
 *   p rooms              set of room names
 *   p resume:<digest>    string "<room>\n<peerId>", with a TTL
 *   p sess:<id>          hash: id, seq, room, started, peak (live session)
 *   p sessp:<id>         list of participant JSON (live session)
 *   p live               zset seq → live session id
 *   p ended              zset seq → ended session id;  p endedat: zset endedAt → id
 *   p endedrec:<id>      string: the ended session's JSON, with a TTL (the retention)
 *   p nodepeers:<node>   set of "<room>\n<peerId>" held by a node (for reaping a dead node)
 *   p seq                counter
 */
import { EXPIRED_ROOM_KEEP_MS } from '../types.js';

/**
 * Drops an `api` room nobody is in once its expiry passed more than `EXPIRED_ROOM_KEEP_MS`
 * ago (the memory store's `liveRoom`); until then it stays and refuses joins.
 */
const GONE_IF_EXPIRED = `
local function gone_if_expired(p, name, now)
  local rk = p .. 'room:' .. name
  if redis.call('EXISTS', rk) == 0 then return true end
  local exp = redis.call('HGET', rk, 'exp')
  if exp and now >= tonumber(exp) + ${EXPIRED_ROOM_KEEP_MS} and redis.call('HLEN', p .. 'peers:' .. name) == 0
     and not redis.call('HGET', rk, 'sid') then
    redis.call('DEL', rk)
    redis.call('SREM', p .. 'rooms', name)
    return true
  end
  return false
end
`;

/** Appends an ended session unless its id is known, then prunes by retention and count. */
const APPEND_ENDED = `
local function drop_ended(p, id)
  redis.call('ZREM', p .. 'ended', id)
  redis.call('ZREM', p .. 'endedat', id)
  redis.call('DEL', p .. 'endedrec:' .. id)
end
local function append_ended(p, id, rec, ended_at, max_ended, cutoff, ttl)
  if redis.call('ZSCORE', p .. 'ended', id) then return end
  local seq = redis.call('INCR', p .. 'seq')
  redis.call('SET', p .. 'endedrec:' .. id, rec, 'EX', ttl)
  redis.call('ZADD', p .. 'ended', seq, id)
  redis.call('ZADD', p .. 'endedat', ended_at, id)
  for _, x in ipairs(redis.call('ZRANGEBYSCORE', p .. 'endedat', '-inf', '(' .. cutoff)) do
    drop_ended(p, x)
  end
  local over = redis.call('ZCARD', p .. 'ended') - max_ended
  if over > 0 then
    for _, x in ipairs(redis.call('ZRANGE', p .. 'ended', 0, over - 1)) do drop_ended(p, x) end
  end
end
`;

/**
 * ARGV: prefix, room, peerId, peerJson, capacity, now, mode (create|join), createPwHash,
 * verifiedPwHash, presentedModDigest, newModDigest, sessionId, node, maxParticipants,
 * participantJson.
 * Returns {'retry'} | {'need-password', pwHash} | {'err', code} |
 * {'ok', sid, sessionStarted, gotModToken, peerJson, roomHashFlat, othersJson}.
 */
export const JOIN = `${GONE_IF_EXPIRED}
local p, name, pid = ARGV[1], ARGV[2], ARGV[3]
local rk, pk = p .. 'room:' .. name, p .. 'peers:' .. name
local now = tonumber(ARGV[6])
local absent = gone_if_expired(p, name, now)
local moderator = false
if absent then
  if ARGV[7] ~= 'create' then return {'retry'} end
  redis.call('HSET', rk, 'capacity', ARGV[5], 'locked', '0', 'created', ARGV[6], 'origin', 'join',
    'ordc', '0')
  if ARGV[8] ~= '' then redis.call('HSET', rk, 'pw', ARGV[8]) end
  redis.call('SADD', p .. 'rooms', name)
else
  if ARGV[7] == 'create' then return {'retry'} end
  local exp = redis.call('HGET', rk, 'exp')
  if exp and now >= tonumber(exp) then return {'err', 'room-expired'} end
  local mod = redis.call('HGET', rk, 'mod')
  moderator = ARGV[10] ~= '' and mod ~= false and mod == ARGV[10]
  local pw = redis.call('HGET', rk, 'pw')
  if pw and not moderator then
    if ARGV[9] == '' then return {'need-password', pw} end
    if pw ~= ARGV[9] then return {'retry'} end
  end
  if redis.call('HGET', rk, 'locked') == '1' and not moderator then return {'err', 'room-locked'} end
  if redis.call('HLEN', pk) >= tonumber(redis.call('HGET', rk, 'capacity')) then
    return {'err', 'room-full'}
  end
end
local count = redis.call('HLEN', pk)
local got_mod = 0
if redis.call('HGET', rk, 'origin') == 'join' and count == 0 then
  redis.call('HSET', rk, 'mod', ARGV[11])
  got_mod = 1
end
local sid = redis.call('HGET', rk, 'sid')
local started = 0
if not sid then
  sid = ARGV[12]
  local seq = redis.call('INCR', p .. 'seq')
  redis.call('HSET', p .. 'sess:' .. sid, 'id', sid, 'seq', seq, 'room', name, 'started', ARGV[6],
    'peak', '0')
  redis.call('ZADD', p .. 'live', seq, sid)
  redis.call('HSET', rk, 'sid', sid)
  started = 1
end
local others = redis.call('HVALS', pk)
local plk = p .. 'sessp:' .. sid
local pi = -1
if redis.call('LLEN', plk) < tonumber(ARGV[14]) then
  pi = redis.call('RPUSH', plk, ARGV[15]) - 1
end
local peer = cjson.decode(ARGV[4])
peer.moderator = moderator or got_mod == 1
peer.ord = redis.call('HINCRBY', rk, 'ordc', 1)
peer.node = ARGV[13]
peer.tok = ''
peer.pi = pi
local pj = cjson.encode(peer)
redis.call('HSET', pk, pid, pj)
local sk = p .. 'sess:' .. sid
if count + 1 > tonumber(redis.call('HGET', sk, 'peak')) then
  redis.call('HSET', sk, 'peak', count + 1)
end
if ARGV[13] ~= '' then redis.call('SADD', p .. 'nodepeers:' .. ARGV[13], name .. '\\n' .. pid) end
return {'ok', sid, started, got_mod, pj, redis.call('HGETALL', rk), others}
`;

/** ARGV: prefix, room, peerId, now. Returns {left (0|1), remaining}. */
export const LEAVE = `
local p, name, pid = ARGV[1], ARGV[2], ARGV[3]
local pk = p .. 'peers:' .. name
local pj = redis.call('HGET', pk, pid)
if not pj then return {0, redis.call('HLEN', pk)} end
local peer = cjson.decode(pj)
redis.call('HDEL', pk, pid)
if peer.tok and peer.tok ~= '' then redis.call('DEL', p .. 'resume:' .. peer.tok) end
if peer.node and peer.node ~= '' then
  redis.call('SREM', p .. 'nodepeers:' .. peer.node, name .. '\\n' .. pid)
end
local sid = redis.call('HGET', p .. 'room:' .. name, 'sid')
if sid and peer.pi and peer.pi >= 0 then
  local plk = p .. 'sessp:' .. sid
  local part = redis.call('LINDEX', plk, peer.pi)
  if part then
    local o = cjson.decode(part)
    if o.id == pid then
      o.leftAt = tonumber(ARGV[4])
      redis.call('LSET', plk, peer.pi, cjson.encode(o))
    end
  end
end
return {1, redis.call('HLEN', pk)}
`;

/** ARGV: prefix, room, peerId, patchJson. Returns the peer JSON, or nil. */
export const UPDATE_PEER = `
local p, name, pid = ARGV[1], ARGV[2], ARGV[3]
local pk = p .. 'peers:' .. name
local pj = redis.call('HGET', pk, pid)
if not pj then return false end
local peer = cjson.decode(pj)
local patch = cjson.decode(ARGV[4])
if patch.name ~= nil then peer.name = patch.name end
if patch.state ~= nil then
  -- the patch holds known keys only (statePatch in store/types.ts)
  for k, v in pairs(patch.state) do peer.state[k] = v end
end
pj = cjson.encode(peer)
redis.call('HSET', pk, pid, pj)
return pj
`;

/** ARGV: prefix, room, peerId, tokenDigest, ttlSeconds. Returns 1, or 0 if no such peer. */
export const SET_RESUME = `
local p, name, pid = ARGV[1], ARGV[2], ARGV[3]
local pk = p .. 'peers:' .. name
local pj = redis.call('HGET', pk, pid)
if not pj then return 0 end
local peer = cjson.decode(pj)
if peer.tok and peer.tok ~= '' then redis.call('DEL', p .. 'resume:' .. peer.tok) end
peer.tok = ARGV[4]
redis.call('HSET', pk, pid, cjson.encode(peer))
redis.call('SET', p .. 'resume:' .. ARGV[4], name .. '\\n' .. pid, 'EX', ARGV[5])
return 1
`;

/** ARGV: prefix, tokenDigest. Returns {room, peerId} once, or nil. */
export const TAKE_RESUME = `
local p, h = ARGV[1], ARGV[2]
local b = redis.call('GET', p .. 'resume:' .. h)
if not b then return false end
redis.call('DEL', p .. 'resume:' .. h)
local nl = string.find(b, '\\n', 1, true)
if not nl then return false end
local name, pid = string.sub(b, 1, nl - 1), string.sub(b, nl + 1)
local pk = p .. 'peers:' .. name
local pj = redis.call('HGET', pk, pid)
if not pj then return false end
local peer = cjson.decode(pj)
if peer.tok ~= h then return false end
peer.tok = ''
redis.call('HSET', pk, pid, cjson.encode(peer))
return {name, pid}
`;

/** ARGV: prefix, room, capacity, pwHash, expiresAt, modDigest, now. Returns 1, or 0 if it exists. */
export const CREATE_ROOM = `${GONE_IF_EXPIRED}
local p, name = ARGV[1], ARGV[2]
if not gone_if_expired(p, name, tonumber(ARGV[7])) then return 0 end
local rk = p .. 'room:' .. name
redis.call('HSET', rk, 'capacity', ARGV[3], 'locked', '0', 'created', ARGV[7], 'origin', 'api',
  'mod', ARGV[6], 'ordc', '0')
if ARGV[4] ~= '' then redis.call('HSET', rk, 'pw', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', rk, 'exp', ARGV[5]) end
redis.call('SADD', p .. 'rooms', name)
return 1
`;

/** ARGV: prefix, room, now. Returns {roomHashFlat, peerCount}, or nil. */
export const GET_ROOM = `${GONE_IF_EXPIRED}
local p, name = ARGV[1], ARGV[2]
if gone_if_expired(p, name, tonumber(ARGV[3])) then return false end
return {redis.call('HGETALL', p .. 'room:' .. name), redis.call('HLEN', p .. 'peers:' .. name)}
`;

/** ARGV: prefix, room, locked (0|1). Returns 1, or 0 if no such room. */
export const SET_LOCKED = `
local rk = ARGV[1] .. 'room:' .. ARGV[2]
if redis.call('EXISTS', rk) == 0 then return 0 end
redis.call('HSET', rk, 'locked', ARGV[3])
return 1
`;

/** `{enabled (0|1), version, entries JSON}` of a room's lobby; entries unordered (sort by ord). */
const LOBBY_STATE = `
local function lobby_state(p, name)
  local f = redis.call('HMGET', p .. 'room:' .. name, 'lobby', 'lobbyv')
  local on = 0
  if f[1] == '1' then on = 1 end
  return {on, tonumber(f[2] or '0'), redis.call('HVALS', p .. 'lobby:' .. name)}
end
local function lobby_clear(p, name)
  local lk = p .. 'lobby:' .. name
  local all = redis.call('HVALS', lk)
  for _, s in ipairs(all) do
    local e = cjson.decode(s)
    redis.call('SREM', p .. 'lobbynode:' .. e.node, name .. '\\n' .. e.id)
  end
  redis.call('DEL', lk)
  return all
end
`;

/** ARGV: prefix, room. Returns the lobby state (see LOBBY_STATE). */
export const LOBBY_GET = `${LOBBY_STATE}
return lobby_state(ARGV[1], ARGV[2])
`;

/**
 * ARGV: prefix, room, enabled (1|0). Turning it off takes everyone waiting out of the queue.
 * Returns nil for no such room, else {enabled, version, entries, releasedEntries}.
 */
export const LOBBY_SET = `${LOBBY_STATE}
local p, name = ARGV[1], ARGV[2]
local rk = p .. 'room:' .. name
if redis.call('EXISTS', rk) == 0 then return false end
redis.call('HSET', rk, 'lobby', ARGV[3])
redis.call('HINCRBY', rk, 'lobbyv', 1)
local released = {}
if ARGV[3] ~= '1' then released = lobby_clear(p, name) end
local st = lobby_state(p, name)
return {st[1], st[2], st[3], released}
`;

/**
 * ARGV: prefix, room, entryJson {id, name, node, since}, max.
 * Returns {'off'} | {'full'} | {'queued', enabled, version, entries}.
 */
export const LOBBY_ENQUEUE = `${LOBBY_STATE}
local p, name = ARGV[1], ARGV[2]
local rk, lk = p .. 'room:' .. name, p .. 'lobby:' .. name
if redis.call('HGET', rk, 'lobby') ~= '1' then return {'off'} end
if redis.call('HLEN', lk) >= tonumber(ARGV[4]) then return {'full'} end
local e = cjson.decode(ARGV[3])
e.ord = redis.call('HINCRBY', rk, 'lobbyo', 1)
redis.call('HSET', lk, e.id, cjson.encode(e))
redis.call('SADD', p .. 'lobbynode:' .. e.node, name .. '\\n' .. e.id)
redis.call('HINCRBY', rk, 'lobbyv', 1)
local st = lobby_state(p, name)
return {'queued', st[1], st[2], st[3]}
`;

/** ARGV: prefix, room, id. Returns nil if not waiting, else {entryJson, enabled, version, entries}. */
export const LOBBY_TAKE = `${LOBBY_STATE}
local p, name, id = ARGV[1], ARGV[2], ARGV[3]
local rk, lk = p .. 'room:' .. name, p .. 'lobby:' .. name
local s = redis.call('HGET', lk, id)
if not s then return false end
redis.call('HDEL', lk, id)
local e = cjson.decode(s)
redis.call('SREM', p .. 'lobbynode:' .. e.node, name .. '\\n' .. id)
if redis.call('EXISTS', rk) == 1 then redis.call('HINCRBY', rk, 'lobbyv', 1) end
local st = lobby_state(p, name)
return {s, st[1], st[2], st[3]}
`;

/** ARGV: prefix, node. Drops everyone waiting on a (dead) node; returns the rooms changed. */
export const LOBBY_DROP_NODE = `
local p, node = ARGV[1], ARGV[2]
local nk = p .. 'lobbynode:' .. node
local rooms, seen = {}, {}
for _, m in ipairs(redis.call('SMEMBERS', nk)) do
  local i = string.find(m, '\\n', 1, true)
  if i then
    local name, id = string.sub(m, 1, i - 1), string.sub(m, i + 1)
    if redis.call('HDEL', p .. 'lobby:' .. name, id) == 1 and not seen[name] then
      seen[name] = true
      table.insert(rooms, name)
    end
  end
end
redis.call('DEL', nk)
for _, name in ipairs(rooms) do
  if redis.call('EXISTS', p .. 'room:' .. name) == 1 then
    redis.call('HINCRBY', p .. 'room:' .. name, 'lobbyv', 1)
  end
end
return rooms
`;

/**
 * Writes a room's lobby back after Redis lost it (restarted empty), from what one process knows.
 * ARGV: prefix, room, knownVersion (-1: none), knownEnabled ('1' | '0' | ''), then the JSON of
 * each joiner that process holds. The flag is taken from the newest knowledge (`lobbyk` keeps
 * the version it came from, so older knowledge arriving later does not undo it); turning it off
 * releases the queue as LOBBY_SET does; joiners are written only while the lobby is on and only
 * if missing; the version moves past every version shown before, so no process ignores the new
 * state as old. Never touches a room that is not there (the room's own re-assertion makes it).
 * Returns {'missing'} or {'ok', changed (0|1), enabled, version, entries, releasedEntries}.
 */
export const LOBBY_RESTORE = `${LOBBY_STATE}
local p, name = ARGV[1], ARGV[2]
local rk, lk = p .. 'room:' .. name, p .. 'lobby:' .. name
if redis.call('EXISTS', rk) == 0 then return {'missing'} end
local known = tonumber(ARGV[3])
local changed = false
local released = {}
if ARGV[4] ~= '' and known > tonumber(redis.call('HGET', rk, 'lobbyk') or '-1') then
  redis.call('HSET', rk, 'lobbyk', known)
  local on = ARGV[4] == '1'
  if (redis.call('HGET', rk, 'lobby') == '1') ~= on then
    redis.call('HSET', rk, 'lobby', ARGV[4])
    changed = true
    if not on then released = lobby_clear(p, name) end
  end
end
if redis.call('HGET', rk, 'lobby') == '1' then
  for i = 5, #ARGV do
    local e = cjson.decode(ARGV[i])
    if redis.call('HEXISTS', lk, e.id) == 0 then
      e.ord = redis.call('HINCRBY', rk, 'lobbyo', 1)
      redis.call('HSET', lk, e.id, cjson.encode(e))
      redis.call('SADD', p .. 'lobbynode:' .. e.node, name .. '\\n' .. e.id)
      changed = true
    end
  end
end
local v = tonumber(redis.call('HGET', rk, 'lobbyv') or '0')
if changed or v <= known then
  redis.call('HSET', rk, 'lobbyv', math.max(v, known) + 1)
  changed = true
end
local st = lobby_state(p, name)
local c = 0
if changed then c = 1 end
return {'ok', c, st[1], st[2], st[3], released}
`;

/**
 * ARGV: prefix, room, now, maxEnded, cutoff, ttlSeconds. Returns the ended session's JSON, or nil
 * when the room has peers or no session.
 */
export const END_SESSION = `${APPEND_ENDED}${LOBBY_STATE}
local p, name, now = ARGV[1], ARGV[2], ARGV[3]
local rk, pk = p .. 'room:' .. name, p .. 'peers:' .. name
if redis.call('EXISTS', rk) == 0 then return false end
if redis.call('HLEN', pk) > 0 then return false end
local sid = redis.call('HGET', rk, 'sid')
redis.call('HDEL', rk, 'sid')
-- The lobby ends with the session (an API room outlives it and starts the next one without).
if redis.call('HGET', rk, 'lobby') == '1' or redis.call('EXISTS', p .. 'lobby:' .. name) == 1 then
  lobby_clear(p, name)
  redis.call('HSET', rk, 'lobby', '0')
  redis.call('HINCRBY', rk, 'lobbyv', 1)
end
if redis.call('HGET', rk, 'origin') == 'join' then
  redis.call('DEL', rk, pk)
  redis.call('SREM', p .. 'rooms', name)
end
if not sid then return false end
local sk, plk = p .. 'sess:' .. sid, p .. 'sessp:' .. sid
local meta = redis.call('HMGET', sk, 'started', 'peak')
local parts = redis.call('LRANGE', plk, 0, -1)
for i, s in ipairs(parts) do
  local o = cjson.decode(s)
  if o.leftAt == nil then
    o.leftAt = tonumber(now)
    parts[i] = cjson.encode(o)
  end
end
local rec = '{"id":' .. cjson.encode(sid) .. ',"room":' .. cjson.encode(name) ..
  ',"startedAt":' .. (meta[1] or now) .. ',"endedAt":' .. now ..
  ',"peakParticipants":' .. (meta[2] or '0') .. ',"participants":[' .. table.concat(parts, ',') .. ']}'
redis.call('DEL', sk, plk)
redis.call('ZREM', p .. 'live', sid)
append_ended(p, sid, rec, tonumber(now), tonumber(ARGV[4]), ARGV[5], ARGV[6])
return rec
`;

/** ARGV: prefix, id, recordJson, endedAt, maxEnded, cutoff, ttlSeconds. */
export const APPEND = `${APPEND_ENDED}
append_ended(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7])
return 1
`;

/** ARGV: prefix, room, peerId, node. Moves a peer to another node. Returns 1, or 0. */
export const MOVE_PEER = `
local p, name, pid, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local pk = p .. 'peers:' .. name
local pj = redis.call('HGET', pk, pid)
if not pj then return 0 end
local peer = cjson.decode(pj)
if peer.node and peer.node ~= '' then
  redis.call('SREM', p .. 'nodepeers:' .. peer.node, name .. '\\n' .. pid)
end
peer.node = node
redis.call('HSET', pk, pid, cjson.encode(peer))
redis.call('SADD', p .. 'nodepeers:' .. node, name .. '\\n' .. pid)
return 1
`;

/**
 * Re-asserts one room and this node's peers in it after Redis came back empty (or lost them).
 * Writes only what is missing: another node may have re-asserted the same room first.
 * ARGV: prefix, room, roomHashJson (field → value), node, maxParticipants, sessionStarted,
 * then peerId, peerJson, participantJson, tokenDigest, ttlSeconds per peer (5 each).
 * Returns the number of peers written.
 */
export const REASSERT = `
local p, name, node = ARGV[1], ARGV[2], ARGV[4]
local rk, pk = p .. 'room:' .. name, p .. 'peers:' .. name
local fields = cjson.decode(ARGV[3])
if redis.call('EXISTS', rk) == 0 then
  for k, v in pairs(fields) do
    if k ~= 'sid' then redis.call('HSET', rk, k, v) end
  end
  redis.call('SADD', p .. 'rooms', name)
end
local sid = redis.call('HGET', rk, 'sid')
if not sid and fields.sid then
  sid = fields.sid
  redis.call('HSET', rk, 'sid', sid)
end
if sid and redis.call('EXISTS', p .. 'sess:' .. sid) == 0 then
  local seq = redis.call('INCR', p .. 'seq')
  redis.call('HSET', p .. 'sess:' .. sid, 'id', sid, 'seq', seq, 'room', name, 'started', ARGV[6],
    'peak', '0')
  redis.call('ZADD', p .. 'live', seq, sid)
end
local written = 0
local i = 7
while i + 4 <= #ARGV do
  local pid = ARGV[i]
  if redis.call('HEXISTS', pk, pid) == 0 then
    local peer = cjson.decode(ARGV[i + 1])
    peer.pi = -1
    if sid then
      local plk = p .. 'sessp:' .. sid
      if redis.call('LLEN', plk) < tonumber(ARGV[5]) then
        peer.pi = redis.call('RPUSH', plk, ARGV[i + 2]) - 1
      end
    end
    peer.node = node
    peer.tok = ARGV[i + 3]
    if peer.tok ~= '' then
      redis.call('SET', p .. 'resume:' .. peer.tok, name .. '\\n' .. pid, 'EX', ARGV[i + 4])
    end
    peer.ord = redis.call('HINCRBY', rk, 'ordc', 1)
    redis.call('HSET', pk, pid, cjson.encode(peer))
    redis.call('SADD', p .. 'nodepeers:' .. node, name .. '\\n' .. pid)
    written = written + 1
  end
  i = i + 5
end
if sid then
  local n = redis.call('HLEN', pk)
  if n > tonumber(redis.call('HGET', p .. 'sess:' .. sid, 'peak') or '0') then
    redis.call('HSET', p .. 'sess:' .. sid, 'peak', n)
  end
end
return written
`;
