#!/usr/bin/env python3
"""Writes the seed corpora and dictionaries of the fuzz targets (Fuzz/Corpus/<Target>/, Fuzz/Dictionaries/).

The seeds are a few valid inputs per target, made with the same fixed keys as the targets (see each main.swift), so
the fuzzer starts from inputs that reach deep into each parser. Needs Python's `cryptography`. Run from anywhere:
`python3 Fuzz/make-corpus.py` rewrites every seed; commit the result.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "Corpus")
DICTIONARIES = os.path.join(HERE, "Dictionaries")


def seeds(target, items):
    folder = os.path.join(CORPUS, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for index, item in enumerate(items):
        data = item.encode() if isinstance(item, str) else item
        with open(os.path.join(folder, f"seed-{index:02d}"), "wb") as f:
            f.write(data)


def dictionary(target, words):
    os.makedirs(DICTIONARIES, exist_ok=True)
    with open(os.path.join(DICTIONARIES, f"{target}.dict"), "w") as f:
        for word in words:
            # libFuzzer's dictionary syntax: "text" with \\, \" and \xAB escapes only.
            escaped = "".join(
                "\\" + chr(b) if chr(b) in '\\"' else chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02X}" for b in word.encode())
            f.write(f'"{escaped}"\n')


# --- OKX timestamps -------------------------------------------------------------------------------------------------
seeds("FuzzTimestamp", ["2020-12-08T09:08:57.715Z", "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"])
dictionary("FuzzTimestamp", ["-", "T", ":", ".", "Z", "1970", "2024", "9999", "02-29", "12-31", "23:59:59", ".000", ".999999999"])

# --- Signatures -----------------------------------------------------------------------------------------------------
prehash = b"2020-12-08T09:08:57.715Z" + b"POST" + b"/api/v5/asset/transfer" + b'{"ccy":"USDT","amt":"1.5","from":"6","to":"18"}'
hmac_signature = base64.b64encode(hmac.new(b"22582BD0CFF14C41EDBF1AB98506286D", prehash, hashlib.sha256).digest())
ed25519_signature = base64.b64encode(Ed25519PrivateKey.from_private_bytes(bytes([0x2A] * 32)).sign(prehash))
seeds("FuzzSignature", [
    b"\x00" + hmac_signature, b"\x01" + ed25519_signature,
    b"\x00" + base64.b64encode(bytes(32)), b"\x01" + base64.b64encode(bytes(64)),
    b"\x02", b"\x03", b"\x02\x01\x00",
])
dictionary("FuzzSignature", ["=", "==", "+", "/", "A", "Q", "g", "w"])

# --- IP addresses and lists -----------------------------------------------------------------------------------------
seeds("FuzzIPAllowlist", [
    "192.0.2.7,10.0.0.0/8,2001:db8::/32|10.0.0.0/8", "::ffff:192.0.2.1|", "2001:db8::1, fe80::/10|2001:db8::/32",
    "0.0.0.0/0|192.0.2.0/24", "::/0,::ffff:0.0.0.0/96|::1", "203.0.113.0/24,198.51.100.9|203.0.113.0/25,198.51.100.9",
])
dictionary("FuzzIPAllowlist", ["::", "::ffff:", "/", ",", ".", "|", "/32", "/128", "/96", "/64", "255.255.255.255", "ffff"])

# --- Permissions ----------------------------------------------------------------------------------------------------
seeds("FuzzPermissions", ["read_only,trade", "read", "withdraw", " trade ,\twithdraw ", "", "read_only,trade,withdraw"])
dictionary("FuzzPermissions", ["read_only", "read", "trade", "withdraw", ",", " ", "\t"])

# --- Amounts: scale byte, result-scale byte, then `amount|other` ----------------------------------------------------
seeds("FuzzAmount", [
    b"\x06\x08" + b"1.25|3", b"\x08\x06" + b"-0.00000001|100000", b"\x00\x02" + b"9223372036854775807|1",
    b"\x12\x12" + b"0.000000000000000001|9.223372036854775807", b"\x02\x01" + b"1.500000000|0.1",
])
dictionary("FuzzAmount", [".", "-", "|", "0", "9223372036854775807", "9223372036854.775807", "000000000000000000"])

# --- Ed25519 key text -----------------------------------------------------------------------------------------------
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
public_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
private_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
seeds("FuzzEd25519KeyText", [
    key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    public_raw.hex(), base64.b64encode(public_raw), base64.b64encode(public_der), base64.b64encode(private_der),
])
dictionary("FuzzEd25519KeyText", ["-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----", "-----BEGIN PRIVATE KEY-----",
                                  "-----END PRIVATE KEY-----", "MCowBQYDK2VwAyEA", "MC4CAQAwBQYDK2VwBCIEI", "=", "\n"])

# --- Scannable secrets ----------------------------------------------------------------------------------------------
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def scannable(random_part):
    value = zlib.crc32(random_part.encode())
    digits = []
    for _ in range(6):
        digits.append(ALPHABET[value % 62])
        value //= 62
    return "ks_" + random_part + "".join(reversed(digits))


first, second = scannable("4FhQ2mZ8pL0xVw7RtY3nB6cK9sD1eG"), scannable("abcdefghijklmnopqrstuvwxyzABCD")
seeds("FuzzScannableSecret", [first, f"OKX_SECRET={first}\n# other\nsecret: '{second}'\n", f"x{first}", f"{first}{second}"])
dictionary("FuzzScannableSecret", ["ks_", "\n", "=", "'", "\""])

# --- Vault files (key 0x11 × 32; the scrypt one is read up to its header) ---------------------------------------------
def hkdf(material, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


contents = json.dumps({"credentials": [
    {"name": "main", "url": "https://www.okx.com", "demo": False, "apiKey": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "scheme": "hmac",
     "secret": "22582BD0CFF14C41EDBF1AB98506286D", "passphrase": "Passphrase-1", "createdAt": 1700000000.5, "updatedAt": 1700000001,
     "validatedAt": 1700000002},
    {"name": "bot.ed", "url": "http://127.0.0.1:8080", "demo": True, "apiKey": "k2", "scheme": "ed25519", "secret": public_raw.hex(),
     "passphrase": "p", "createdAt": 0, "updatedAt": 0},
]}, sort_keys=True, separators=(",", ":")).encode()


def vault(material, header):
    encryption = hkdf(material, b"keysmith-vault/1 encryption", 32)
    header["check"] = base64.b64encode(hkdf(material, b"keysmith-vault/1 key check", 16)).decode()
    aad = "keysmith-vault/1|{}|{}|{}|{}|{}|{}".format(
        header["kdf"], header.get("salt", ""), header.get("n", 0), header.get("r", 0), header.get("p", 0), header["check"]).encode()
    nonce = bytes(range(12))
    sealed = nonce + AESGCM(encryption).encrypt(nonce, contents, aad)
    return json.dumps({"format": "keysmith-vault", "version": 1, "header": header, "sealed": base64.b64encode(sealed).decode()},
                      sort_keys=True, indent=2).encode() + b"\n"


salt = bytes(range(16))
scrypt_material = Scrypt(salt=salt, length=32, n=1 << 15, r=8, p=1).derive(b"correct horse battery staple")
seeds("FuzzVault", [
    b"\x00" + vault(bytes([0x11] * 32), {"kdf": "key-file"}),
    b"\x00" + vault(scrypt_material, {"kdf": "scrypt", "salt": base64.b64encode(salt).decode(), "n": 1 << 15, "r": 8, "p": 1}),
    b"\x01" + contents, b"\x01" + b'{"credentials":[]}',
])
dictionary("FuzzVault", ["\"kdf\"", "\"key-file\"", "\"scrypt\"", "\"salt\"", "\"n\"", "\"r\"", "\"p\"", "\"check\"", "\"sealed\"",
                         "\"format\"", "\"keysmith-vault\"", "\"version\"", "\"header\"", "\"credentials\"", "\"name\"", "\"url\"",
                         "\"demo\"", "\"apiKey\"", "\"scheme\"", "\"hmac\"", "\"ed25519\"", "\"secret\"", "\"passphrase\"",
                         "\"createdAt\"", "\"updatedAt\"", "\"validatedAt\"", "true", "false", "null", "1e308", "-0"])

# --- Request bodies: endpoint byte, then the body -------------------------------------------------------------------
def body(mode, value):
    return bytes([mode]) + (value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode())


seeds("FuzzRequestBody", [
    body(0, {"ccy": "USDT", "amt": "1.5", "from": "6", "to": "18", "type": "0", "clientId": "t1"}),
    body(0, {"ccy": "btc", "amt": 0.001, "from": "18", "to": "6", "type": "1", "subAcct": "sub1"}),
    body(1, {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.01", "px": "30000.1", "clOrdId": "o1", "tag": "t"}),
    body(1, {"instId": "ETH-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "100", "tgtCcy": "quote_ccy"}),
    body(2, [{"instId": "BTC-USDT", "tdMode": "cash", "side": "sell", "ordType": "limit", "sz": "1", "px": "1"},
             {"instId": "ETH-USDT", "tdMode": "cash", "side": "buy", "ordType": "post_only", "sz": 2, "px": 1.25}]),
    body(3, {"ccy": "USDT", "amt": "10", "toAddr": "TXYZ1234", "dest": "4", "chain": "USDT-TRC20", "fee": "1", "clientId": "w1"}),
    body(4, {"subAcct": "sub1", "label": "bot", "passphrase": "Passphrase-1", "perm": "read_only,trade", "ip": "192.0.2.7,10.0.0.0/8"}),
    body(5, {"subAcct": "sub1", "apiKey": "k", "ip": "", "perm": "withdraw", "label": None}),
    body(6, {"ccy": "ETH", "amt": "0.5", "from": "6", "to": "6", "fromSubAccount": "a", "toSubAccount": "b"}),
    body(7, b"ccy=BTC&limit=10&after=1700000000000&instId=BTC%2DUSDT&state=2"),
])
dictionary("FuzzRequestBody", [
    "\"ccy\"", "\"amt\"", "\"from\"", "\"to\"", "\"type\"", "\"subAcct\"", "\"clientId\"", "\"instId\"", "\"tdMode\"", "\"side\"",
    "\"ordType\"", "\"sz\"", "\"px\"", "\"clOrdId\"", "\"tag\"", "\"tgtCcy\"", "\"toAddr\"", "\"dest\"", "\"chain\"", "\"fee\"",
    "\"label\"", "\"passphrase\"", "\"perm\"", "\"ip\"", "\"apiKey\"", "\"USDT\"", "\"BTC-USDT\"", "\"cash\"", "\"market\"",
    "\"quote_ccy\"", "null", "true", "1e400", "-1e-400", "0.000000001", "9223372036854775807", "\\u0000", "%", "&", "=",
])

# --- Audit archives: chained JSON lines --------------------------------------------------------------------------------
def canonical(record, previous):
    def text(value):
        data = value.encode()
        return struct.pack(">I", len(data)) + data

    out = b"keysmith-audit-v1" + previous + struct.pack(">q", record["timeMs"]) + struct.pack(">q", record["latencyUs"])
    for field in ("requestId", "actor", "account", "action", "target", "clientIp", "result"):
        out += text(record[field])
    out += struct.pack(">I", len(record["details"]))
    for name in sorted(record["details"], key=lambda k: k.encode()):
        out += text(name) + text(record["details"][name])
    return out


def audit_lines(records):
    previous = bytes(32)
    lines = []
    for seq, record in enumerate(records, start=1):
        digest = hashlib.sha256(canonical(record, previous)).digest()
        line = dict(record, seq=seq, prevHash=previous.hex(), hash=digest.hex())
        lines.append(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        previous = digest
    return ("\n".join(lines) + "\n").encode()


def record(time_ms, action, **fields):
    base = {"time": "", "timeMs": time_ms, "requestId": "", "actor": "system", "account": "", "action": action, "target": "",
            "clientIp": "", "result": "0", "latencyUs": 0, "details": {}}
    base.update(fields)
    return base


records = [
    record(1700000000000, "keysmith.init", time="2023-11-14T22:13:20.000Z"),
    record(1700000001000, "POST /api/v5/asset/transfer", time="2023-11-14T22:13:21.000Z", requestId="r1", actor="k1", account="u1",
           clientIp="192.0.2.7", latencyUs=812, details={"ccy": "USDT", "amt": "1.5"}),
    record(1700000002000, "apikey.revoke", time="2023-11-14T22:13:22.000Z", actor="cli:alice", target="k1", result="50113",
           details={"reason": "rotated", "é": "ü"}),
]
seeds("FuzzAuditArchive", [audit_lines(records), audit_lines(records[:1])])
dictionary("FuzzAuditArchive", ["\"seq\"", "\"time\"", "\"timeMs\"", "\"requestId\"", "\"actor\"", "\"account\"", "\"action\"",
                                "\"target\"", "\"clientIp\"", "\"result\"", "\"latencyUs\"", "\"details\"", "\"prevHash\"", "\"hash\"",
                                "9223372036854775807", "-9223372036854775808", "\n", "{}", "\"\""])

# --- Client responses: model byte, status byte, then the body ---------------------------------------------------------
def envelope(model, items, code="0", msg=""):
    return bytes([model, 0]) + json.dumps({"code": code, "msg": msg, "data": items}, separators=(",", ":")).encode()


seeds("FuzzClientResponse", [
    envelope(0, [{"ts": "1597026383085"}]),
    envelope(2, [{"instId": "BTC-USDT", "last": "30000.1", "askPx": "30000.2", "bidPx": 30000, "open24h": "", "high24h": "1e3",
                  "low24h": "-0.5", "vol24h": "12.000", "ts": "1597026383085"}]),
    envelope(4, [{"totalEq": "100.5", "uTime": "1597026383085", "details": [{"ccy": "USDT", "eq": "1", "cashBal": "1", "availBal": "1",
                                                                             "frozenBal": "0", "eqUsd": "1", "uTime": ""}]}]),
    envelope(10, [{"instId": "BTC-USDT", "ordId": "1", "clOrdId": "", "px": "1", "sz": "2", "ordType": "limit", "side": "buy",
                   "state": "live", "accFillSz": "0", "avgPx": "", "fee": "-0.001", "feeCcy": "BTC", "cTime": "1", "uTime": 2}]),
    envelope(9, [{"ordId": "", "clOrdId": "c1", "sCode": "51000", "sMsg": "Parameter sz error", "ts": "1"}], code="1", msg=""),
    envelope(11, [{"subAcct": "sub1", "uid": "2", "label": "", "type": "1", "enable": True, "canTransOut": "false", "ts": "0"}]),
    envelope(13, [{"apiKey": "k", "label": "l", "perm": "read_only,trade", "ip": "192.0.2.7", "uid": "1", "subAcct": "", "env": "live",
                   "ts": "1", "expTime": "", "expiryReason": "", "lastUsedTs": "9223372036854775807", "lastUsedIp": ""}]),
    envelope(14, [{"subAcct": "s", "label": "l", "apiKey": "k", "secretKey": "S", "passphrase": "P", "perm": "read_only", "ip": ""}]),
    bytes([0, 3]) + b'{"code":"50011","msg":"Too Many Requests","data":[]}',
])
dictionary("FuzzClientResponse", ["\"code\"", "\"msg\"", "\"data\"", "\"sCode\"", "\"sMsg\"", "\"ts\"", "\"\"", "\"0\"", "null", "true",
                                  "1e308", "-1e308", "1e-400", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
                                  "\"inf\"", "\"nan\"", "\"1e2147483648\""])
