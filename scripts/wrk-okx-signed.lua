-- wrk script: every request is an OKX v5 signed GET with a fresh timestamp.
-- The HMAC-SHA256 and base64 come from OpenSSL's libcrypto through LuaJIT's FFI (no hand-written crypto).
-- Credentials come from the environment: KEYSMITH_KEY, KEYSMITH_SECRET, KEYSMITH_PASSPHRASE; the path from wrk's URL.
-- There is deliberately no response() hook: it would make wrk copy every body into Lua, which costs more for larger
-- bodies and skews a comparison; scripts/bench-http checks wrk's non-2xx count and the server log instead.
local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d, size_t n,
                    unsigned char *md, unsigned int *md_len);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
struct keysmith_timeval { long tv_sec; long tv_usec; };
int gettimeofday(struct keysmith_timeval *tv, void *tz);
]]

local ok, crypto = pcall(ffi.load, "libcrypto.so.3")
if not ok then crypto = ffi.load("crypto") end

local key = os.getenv("KEYSMITH_KEY")
local secret = os.getenv("KEYSMITH_SECRET")
local passphrase = os.getenv("KEYSMITH_PASSPHRASE")
local mac = ffi.new("unsigned char[32]")
local maclen = ffi.new("unsigned int[1]")
local b64 = ffi.new("unsigned char[64]")
local tv = ffi.new("struct keysmith_timeval")
local path

function init(args)
  path = wrk.path
end

local function timestamp()
  ffi.C.gettimeofday(tv, nil)
  local seconds = tonumber(tv.tv_sec)
  return os.date("!%Y-%m-%dT%H:%M:%S", seconds) .. string.format(".%03dZ", math.floor(tonumber(tv.tv_usec) / 1000))
end

function request()
  local ts = timestamp()
  local prehash = ts .. "GET" .. path
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, prehash, #prehash, mac, maclen)
  local n = crypto.EVP_EncodeBlock(b64, mac, 32)
  return wrk.format("GET", path, {
    ["OK-ACCESS-KEY"] = key,
    ["OK-ACCESS-SIGN"] = ffi.string(b64, n),
    ["OK-ACCESS-TIMESTAMP"] = ts,
    ["OK-ACCESS-PASSPHRASE"] = passphrase,
  })
end
